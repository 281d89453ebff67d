// genserver/genserver.h — OTP-style generic servers.
//
// A GenServer is a process around state that it alone owns: derive from it,
// keep the state in members, and write a few hooks. The runtime calls one
// hook at a time, in mailbox order, so the state needs no locks. Hooks are
// coroutines (write `co_return`), so a hook can `co_await Call<R>(...)` on
// another server without blocking a scheduler thread; while it waits, this
// server handles nothing else (as in Erlang's gen_server:call).
//
//   Init()                     before any message; an error ends the server.
//   HandleCall(request, from)  returns the reply: a message, Reply::Error(s)
//                              to answer with an error and keep running, or
//                              Reply::Deferred() to answer later through
//                              ReplyTo(from, ...) from any later hook.
//   HandleCast(message)        fire-and-forget requests.
//   HandleInfo(message)        everything else: Send, SendAfter, ProcessDown.
//   Terminate(reason)          always runs when the server ends, also after a
//                              failure; must not block.
// A hook that returns an error status or throws fails the server: the caller
// of the call being handled gets the error at once (with its message),
// Terminate runs, its name is released, its monitors are told. Nothing else
// on the node is affected.
//
// Servers declare their message types (AcceptCall<Req, Rep>() etc. in the
// constructor). The runtime refuses other types with INVALID_ARGUMENT, and
// tools learn the types (with their .proto files) at run time to turn JSON
// into requests.
//
// Compiler note (g++ 12): do not build temporaries with non-trivial
// destructors inside a `co_await` expression that also has a braced
// initializer, e.g. `co_await context().Spawn(std::make_unique<X>(), {.name
// = "x"})`: g++ 12 destroys such temporaries twice (a known GCC coroutine
// bug). Name them first: `SpawnOptions o{.name = "x"}; auto s =
// context().Spawn(std::move(x), o); auto pid = co_await s;`.
//
// Thread-safety: hooks and the protected helpers below run only on the
// server's own process (one thread at a time). Use Node's client API to talk
// to a server from elsewhere.
//
// Example:
//   class Counter : public polis::GenServer {
//    public:
//     Counter() { AcceptCall<CounterRequest, CounterReply>(); }
//     polis::Task<absl::StatusOr<Reply>> HandleCall(const polis::Message& m,
//                                                   const polis::From&) override {
//       auto req = m.As<CounterRequest>();
//       value_ += req->add();
//       CounterReply r; r.set_value(value_);
//       co_return r;
//     }
//    private:
//     int64_t value_ = 0;
//   };
#ifndef POLIS_GENSERVER_GENSERVER_H_
#define POLIS_GENSERVER_GENSERVER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "node/behaviour.h"
#include "node/message.h"
#include "node/node.h"
#include "node/task.h"

namespace polis {

class GenServer : public Behaviour {
 public:
  // What HandleCall produces.
  class Reply {
   public:
    // Reply with `message` (implicit, so `co_return my_reply;` works).
    Reply(const google::protobuf::Message& message)  // NOLINT
        : message_(Message::From(message)) {}
    Reply(Message message) : message_(std::move(message)) {}  // NOLINT
    // Reply with an error status; the server keeps running.
    static Reply Error(absl::Status status) { return Reply(std::move(status)); }
    // No reply now: keep the From and reply later with ReplyTo.
    static Reply Deferred() { return Reply(); }

    bool deferred() const { return !message_ && status_.ok(); }
    const absl::Status& status() const { return status_; }
    const std::optional<Message>& message() const { return message_; }

   private:
    Reply() = default;
    explicit Reply(absl::Status s) : status_(std::move(s)) {
      if (status_.ok()) status_ = absl::InternalError("Reply::Error called with OK status");
    }
    std::optional<Message> message_;
    absl::Status status_;
  };

  GenServer() = default;
  ~GenServer() override = default;

  // --- Hooks to override ---
  virtual Task<absl::Status> Init() { co_return absl::OkStatus(); }
  // Default: UNIMPLEMENTED error reply.
  virtual Task<absl::StatusOr<Reply>> HandleCall(const Message& request, const From& from);
  // Default: the message is dropped and logged.
  virtual Task<absl::Status> HandleCast(const Message& message);
  virtual Task<absl::Status> HandleInfo(const Message& message);
  virtual void Terminate(const absl::Status& reason) {}

 protected:
  // --- Type declarations (call from the constructor) ---
  template <typename Request, typename Response>
  void AcceptCall() {
    AddCallType(Request::descriptor(), Response::descriptor());
  }
  template <typename M>
  void AcceptCast() {
    AddType(&cast_types_, M::descriptor());
  }
  template <typename M>
  void AcceptInfo() {
    AddType(&info_types_, M::descriptor());
  }
  // Accept calls / casts / info of any type (e.g. an echo server).
  void AcceptAnyCall() { any_call_ = true; }
  void AcceptAnyCast() { any_cast_ = true; }
  void AcceptAnyInfo() { any_info_ = true; }

  // --- Runtime helpers (valid from hooks only) ---
  const Pid& self() const { return ctx_->self(); }
  const std::string& registered_name() const { return ctx_->name(); }
  Node& node() const { return ctx_->node(); }
  ProcessContext& context() const { return *ctx_; }

  // Calls another server: `auto r = co_await Call<CounterReply>("counter", req);`
  template <typename R>
  Task<absl::StatusOr<R>> Call(Target target, const google::protobuf::Message& request,
                               absl::Duration timeout = kDefaultCallTimeout) {
    absl::StatusOr<Message> m = co_await ctx_->CallRaw(std::move(target), request, timeout);
    if (!m.ok()) co_return m.status();
    co_return m->As<R>();
  }
  absl::Status Cast(const Target& target, const google::protobuf::Message& message) {
    return ctx_->Cast(target, message);
  }
  absl::Status Send(const Target& target, const google::protobuf::Message& message) {
    return ctx_->Send(target, message);
  }
  // Info `message` to this server after `delay`.
  absl::StatusOr<TimerRef> SendAfter(absl::Duration delay,
                                     const google::protobuf::Message& message) {
    return ctx_->SendAfter(delay, message);
  }
  // Info `message` to `target` (local or remote) after `delay`.
  absl::StatusOr<TimerRef> SendAfter(absl::Duration delay, const Target& target,
                                     const google::protobuf::Message& message) {
    return ctx_->SendAfter(delay, target, message);
  }
  bool CancelTimer(TimerRef timer) { return ctx_->CancelTimer(timer); }
  // Deferred replies.
  void ReplyTo(const From& from, const google::protobuf::Message& reply) {
    ctx_->ReplyRaw(from, absl::OkStatus(), Message::From(reply));
  }
  void ReplyTo(const From& from, const absl::Status& error) {
    ctx_->ReplyRaw(from, error, Message());
  }
  uint64_t Monitor(const Pid& target) { return ctx_->Monitor(target); }
  void Demonitor(uint64_t ref) { ctx_->Demonitor(ref); }
  // Ends this server after the current hook (OK = normal stop).
  void Stop(absl::Status reason = absl::OkStatus()) { ctx_->Stop(std::move(reason)); }

  // Kind reported by Describe (default: "").
  void set_kind(std::string kind) { kind_ = std::move(kind); }

 private:
  // Behaviour.
  Task<absl::Status> OnStart(ProcessContext& ctx) final;
  Task<absl::Status> OnMessage(ProcessContext& ctx, Incoming& in) final;
  void OnTerminate(ProcessContext& ctx, const absl::Status& reason) final;
  wire::ServerDescription Describe() const final;
  bool Accepts(wire::Kind kind, const std::string& type) const final;

  // A declared type: its descriptor (for Describe) and its interned name
  // (Accepts compares a message's interned type by pointer).
  struct DeclaredType {
    const google::protobuf::Descriptor* descriptor;
    const std::string* name;
  };
  using DeclaredTypes = std::vector<DeclaredType>;

  void AddCallType(const google::protobuf::Descriptor* req,
                   const google::protobuf::Descriptor* rep);
  // Adds `d` to `v` unless it is there already.
  static void AddType(DeclaredTypes* v, const google::protobuf::Descriptor* d);

  ProcessContext* ctx_ = nullptr;  // Set by OnStart; owned by the process.
  std::string kind_;
  DeclaredTypes call_types_;
  DeclaredTypes reply_types_;
  DeclaredTypes cast_types_;
  DeclaredTypes info_types_;
  bool any_call_ = false;
  bool any_cast_ = false;
  bool any_info_ = false;
};

}  // namespace polis

#endif  // POLIS_GENSERVER_GENSERVER_H_
