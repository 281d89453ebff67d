// genserver/genserver.h — OTP-style generic servers.
//
// A GenServer is a process around state that it alone owns: derive from it,
// keep the state in members, and register one handler per message type in
// the constructor. The runtime runs one handler at a time, in mailbox order,
// so the state needs no locks. Handlers are coroutines (write `co_return`),
// so a handler can `co_await Call<R>(...)` on another server without
// blocking a scheduler thread; while it waits, this server handles nothing
// else (as in Erlang's gen_server:call).
//
// Typed handlers — a method per message type, registered once:
//   OnCall(&S::M)  Task<absl::StatusOr<Rep>> M(const Req& request)
//       A call of type Req. The Rep or the error it returns is the caller's
//       answer, and the server keeps running either way (Erlang's
//       {reply, {error, E}, State}).
//   OnCall(&S::M)  Task<Deferrable<Rep>> M(const Req& request, const Caller<Rep>& caller)
//       The same, and it may co_return Deferred() instead: it keeps a copy of
//       `caller` and answers from a later handler with ReplyTo(caller, ...),
//       which takes only a Rep or an error (typed_call.h).
//   OnCast(&S::M)  Task<absl::Status> M(const Msg& message)       a Cast
//   OnInfo(&S::M)  Task<absl::Status> M(const Msg& message)       Send, SendAfter, ProcessDown
//       No one waits for the answer, so an error it returns is logged
//       (WARNING, with the server, type and status) and the server keeps
//       running, as for a call.
// Req, Rep and Msg are deduced from the method; OnCall<Req, Rep>(&S::M),
// OnCast<Msg>(&S::M) spell them out (and must match it). Before a handler
// runs, the runtime checks the payload's type (by its interned name: a
// pointer compare) and parses it into the handler's `request`, which lives
// until the handler's task ends. A call of a type the server has no handler
// or declaration for, or whose bytes do not parse as its type, is answered
// INVALID_ARGUMENT without running anything (a cast or info is dropped, and
// logged); the server keeps running. The registrations are the server's
// declared types: Describe reports them, with their .proto files, and
// `polis call` builds requests from JSON with them.
//
// Losing the name: when another node's older claim to this server's
// registered name wins (see node/internal/directory.h), the server gets a
// wire::NameLost info. Unless it handles that type (OnInfo or AcceptInfo),
// it stops with ABORTED ("name X lost to <node.pid>"), as Erlang's global
// does by default; a supervisor then finds the name held elsewhere and
// keeps the child on standby (supervisor.h).
//
// Failing the server is explicit: Stop(status) ends it once the running
// handler returns (the handler's answer still reaches its caller first), and
// a handler that throws ends it at once (its caller gets INTERNAL with the
// exception's message). Terminate runs, the name is released, monitors get
// ProcessDown, a supervisor restarts it; nothing else on the node is
// affected.
//
// Other hooks (virtual, all optional):
//   Init()              before any message; an error ends the server and
//                       Spawn returns it.
//   Terminate(reason)   always runs when the server ends, also after a
//                       failure; must not block.
//   HandleCall / HandleCast / HandleInfo
//                       messages no typed handler takes: types declared with
//                       AcceptCall<Req, Rep>() / AcceptCast<M>() /
//                       AcceptInfo<M>(), or any type after AcceptAnyCall()
//                       etc. (an echo server, a proxy). Their contract is
//                       the older one: a returned error status (or a throw)
//                       fails the server; HandleCall answers an error with
//                       Reply::Error(status) and keeps running, or defers
//                       with Reply::Deferred() and ReplyTo(from, ...). The
//                       runtime checks HandleCall's reply to a declared
//                       request type: a reply of a type not declared for that
//                       request gives the caller INTERNAL (naming server,
//                       request, reply and declared types), logs a warning,
//                       and the server keeps running.
// Typed handlers are looked up first; the virtual hooks get the rest.
//
// Compiler note (g++ 12): do not build temporaries with non-trivial
// destructors inside a `co_await` expression that also has a braced
// initializer, e.g. `co_await context().Spawn(std::make_unique<X>(), {.name
// = "x"})`: g++ 12 destroys such temporaries twice (a known GCC coroutine
// bug). Name them first: `SpawnOptions o{.name = "x"}; auto s =
// context().Spawn(std::move(x), o); auto pid = co_await s;`. Nothing in this
// API needs a braced initializer: `co_await Call<R>("name", request)` is safe.
//
// Thread-safety: handlers, hooks and the protected helpers below run only on
// the server's own process (one thread at a time). Register handlers in the
// constructor. Use Node's client API to talk to a server from elsewhere.
//
// Example (examples/counter.h is the full version):
//   class Counter : public polis::GenServer {
//    public:
//     Counter() {
//       OnCall(&Counter::Add);   // CounterRequest -> CounterReply
//       OnCast(&Counter::Bump);  // CounterRequest, no reply
//     }
//
//    private:
//     polis::Task<absl::StatusOr<CounterReply>> Add(const CounterRequest& request) {
//       if (!request.has_add()) co_return absl::InvalidArgumentError("no add");
//       value_ += request.add();
//       CounterReply reply;
//       reply.set_value(value_);
//       co_return reply;
//     }
//     polis::Task<absl::Status> Bump(const CounterRequest& request) {
//       value_ += request.add();
//       co_return absl::OkStatus();
//     }
//     int64_t value_ = 0;
//   };
//   // In another server's handler: the call does not block a thread.
//   absl::StatusOr<CounterReply> r = co_await Call<CounterReply>("counter", request);
#ifndef POLIS_GENSERVER_GENSERVER_H_
#define POLIS_GENSERVER_GENSERVER_H_

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "genserver/typed_call.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "node/behaviour.h"
#include "node/message.h"
#include "node/node.h"
#include "node/task.h"

namespace polis {

class GenServer : public Behaviour {
 public:
  // What the virtual HandleCall produces.
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
  // Calls no typed handler takes. Default: UNIMPLEMENTED error reply.
  virtual Task<absl::StatusOr<Reply>> HandleCall(const Message& request, const From& from);
  // Casts / info no typed handler takes. Default: dropped and logged.
  virtual Task<absl::Status> HandleCast(const Message& message);
  virtual Task<absl::Status> HandleInfo(const Message& message);
  virtual void Terminate(const absl::Status& reason) {}

 protected:
  // --- Typed handlers (register from the constructor; see the top) ---
  // Each declares its types as the Accept* below do. Registering two
  // handlers for one type and kind, or a method of a class this server is
  // not, makes the server's start fail (INVALID_ARGUMENT from Spawn, naming
  // the type).

  // A call of type Req answered with a Rep or an error.
  template <typename Req, typename Rep, typename S>
  void OnCall(Task<absl::StatusOr<Rep>> (S::*handler)(const Req&)) {
    CheckHandlerTypes<S, Req, Rep>();
    AddHandler(wire::KIND_CALL, Req::descriptor(), Rep::descriptor(), &InvokeCall<S, Req, Rep>,
               Erase(handler), dynamic_cast<S*>(this) != nullptr);
  }
  // A call of type Req whose handler may defer its answer.
  template <typename Req, typename Rep, typename S>
  void OnCall(Task<Deferrable<Rep>> (S::*handler)(const Req&, const Caller<Rep>&)) {
    CheckHandlerTypes<S, Req, Rep>();
    AddHandler(wire::KIND_CALL, Req::descriptor(), Rep::descriptor(),
               &InvokeDeferrableCall<S, Req, Rep>, Erase(handler),
               dynamic_cast<S*>(this) != nullptr);
  }
  // A cast of type Msg. A returned error is logged; the server keeps running.
  template <typename Msg, typename S>
  void OnCast(Task<absl::Status> (S::*handler)(const Msg&)) {
    CheckHandlerTypes<S, Msg, Msg>();
    AddHandler(wire::KIND_CAST, Msg::descriptor(), nullptr, &InvokeNoReply<S, Msg>, Erase(handler),
               dynamic_cast<S*>(this) != nullptr);
  }
  // An info message (Send, SendAfter, ProcessDown) of type Msg. A returned
  // error is logged; the server keeps running.
  template <typename Msg, typename S>
  void OnInfo(Task<absl::Status> (S::*handler)(const Msg&)) {
    CheckHandlerTypes<S, Msg, Msg>();
    AddHandler(wire::KIND_INFO, Msg::descriptor(), nullptr, &InvokeNoReply<S, Msg>, Erase(handler),
               dynamic_cast<S*>(this) != nullptr);
  }

  // --- Type declarations for the virtual hooks (call from the constructor) ---
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
  // Accept calls / casts / info of any type (e.g. an echo server). Replies
  // to a request of an undeclared type are not checked.
  void AcceptAnyCall() { any_call_ = true; }
  void AcceptAnyCast() { any_cast_ = true; }
  void AcceptAnyInfo() { any_info_ = true; }

  // --- Runtime helpers (valid from hooks and handlers only) ---
  const Pid& self() const { return ctx_->self(); }
  const std::string& registered_name() const { return ctx_->name(); }
  Node& node() const { return ctx_->node(); }
  ProcessContext& context() const { return *ctx_; }

  // Calls another server (local or remote) and suspends this one until the
  // answer: `absl::StatusOr<CounterReply> r = co_await Call<CounterReply>(
  // "counter", request);`. Errors: those of ProcessContext::CallRaw
  // (NOT_FOUND, DEADLINE_EXCEEDED, UNAVAILABLE, ABORTED, the server's own),
  // and INVALID_ARGUMENT if the reply is not an R. `request` is serialized
  // here, so the awaiter owns what it needs and may be awaited later (once).
  template <typename R>
  TypedCallAwaiter<R> Call(Target target, const google::protobuf::Message& request,
                           absl::Duration timeout = kDefaultCallTimeout) {
    return TypedCallAwaiter<R>(ctx_->CallRaw(std::move(target), request, timeout));
  }
  // Fire-and-forget. NOT_FOUND for an unknown name; OK means accepted for
  // delivery (at-most-once), not handled.
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

  // Deferred answers from a deferring typed handler's Caller: a Rep, or an
  // error. The first answer to a call wins; later ones are dropped.
  template <typename Rep>
  void ReplyTo(const Caller<Rep>& caller, const std::type_identity_t<Rep>& reply) {
    ctx_->ReplyRaw(caller.from(), absl::OkStatus(), Message::From(reply));
  }
  template <typename Rep>
  void ReplyTo(const Caller<Rep>& caller, const absl::Status& error) {
    ReplyTo(caller.from(), error);
  }
  // Deferred answers from the virtual HandleCall (Reply::Deferred()). The
  // reply's type is not checked here: prefer typed handlers.
  void ReplyTo(const From& from, const google::protobuf::Message& reply) {
    ctx_->ReplyRaw(from, absl::OkStatus(), Message::From(reply));
  }
  // An OK `error` answers INTERNAL (an error reply needs an error).
  void ReplyTo(const From& from, const absl::Status& error);

  // Monitors (ProcessContext::Monitor / MonitorNode has every reason code):
  // a wire::ProcessDown (or wire::NodeDown) info arrives once, for a pid or
  // name on any node (or for a node); none after Demonitor returns.
  // Only a DOWN the runtime made (IsRuntimeNotice) is news about a monitor:
  // anyone may Send a message of these types, and it arrives as a plain info.
  uint64_t Monitor(const Target& target) { return ctx_->Monitor(target); }
  void Demonitor(uint64_t ref) { ctx_->Demonitor(ref); }
  uint64_t MonitorNode(const std::string& node) { return ctx_->MonitorNode(node); }
  void DemonitorNode(uint64_t ref) { ctx_->DemonitorNode(ref); }
  // Ends this server once the running handler returns (OK = normal stop,
  // anything else = a failure its supervisor sees). The handler's answer,
  // if any, still reaches its caller; Terminate runs with `reason`.
  void Stop(absl::Status reason = absl::OkStatus()) { ctx_->Stop(std::move(reason)); }

  // True while handling a runtime notice (ProcessDown / NodeDown for a
  // monitor this server holds, NameLost for its name); false for any
  // message a process or client sent, whatever its type.
  bool IsRuntimeNotice() const { return runtime_notice_; }

  // Kind reported by Describe (default: "").
  void set_kind(std::string kind) { kind_ = std::move(kind); }

 private:
  // A typed handler's method with its types erased: the bytes of a pointer
  // to member function (trivially copyable), and the invoker that knows its
  // type; the invoker parses the payload, runs the method and answers.
  struct ErasedMethod {
    alignas(void*) unsigned char bytes[2 * sizeof(void*)];
  };
  // Erase(&S::M) and back: Unerase<decltype(&S::M)>(erased).
  template <typename M>
  static ErasedMethod Erase(M method);
  template <typename M>
  static M Unerase(const ErasedMethod& erased);
  using Invoker = Task<absl::Status> (*)(GenServer&, ErasedMethod, Incoming&);
  struct Handler {
    const std::string* type;  // Interned (InternType): compared by pointer.
    wire::Kind kind;
    Invoker invoke;
    ErasedMethod method;
  };

  // A declared type: its descriptor (for Describe) and its interned name
  // (Accepts compares a message's interned type by pointer).
  struct DeclaredType {
    const google::protobuf::Descriptor* descriptor;
    const std::string* name;
  };
  using DeclaredTypes = std::vector<DeclaredType>;
  // A declared call: one request type and one reply type it may get (a
  // request may be declared with several).
  struct DeclaredCall {
    DeclaredType request;
    DeclaredType reply;
  };

  // Behaviour.
  Task<absl::Status> OnStart(ProcessContext& ctx) final;
  Task<absl::Status> OnMessage(ProcessContext& ctx, Incoming& in) final;
  void OnTerminate(ProcessContext& ctx, const absl::Status& reason) final;
  wire::ServerDescription Describe() const final;
  bool Accepts(wire::Kind kind, const std::string& type) const final;

  // The virtual hooks' path, for messages no typed handler takes.
  Task<absl::Status> DispatchToHooks(ProcessContext& ctx, Incoming& in);
  // A call's hook: HandleCall, then its reply sent (unless deferred).
  Task<absl::Status> CallAndReply(ProcessContext& ctx, Incoming& in);
  // A hook that throws `e` when run (the runner reports it as a handler's).
  static Task<absl::Status> Rethrow(std::exception_ptr e);
  // NameLost's default: stop with ABORTED naming the winner.
  Task<absl::Status> LoseName(const Message& message);
  // Whether `type` (interned) is among `types`.
  static bool Declares(const std::vector<DeclaredType>& types, const std::string* type);
  // Whether a reply of type `reply` may answer a call of type `request`
  // (both interned): declared for it, or the request type is not declared.
  bool ReplyTypeDeclared(const std::string* request, const std::string* reply) const;
  // Answers `in`'s caller INTERNAL for an undeclared `reply` type, and logs.
  void RefuseUndeclaredReply(const Incoming& in, const Message& reply);

  // `of_this_server`: the method's class is this object's (or a base of it).
  void AddHandler(wire::Kind kind, const google::protobuf::Descriptor* type,
                  const google::protobuf::Descriptor* reply, Invoker invoke, ErasedMethod method,
                  bool of_this_server);
  void AddCallType(const google::protobuf::Descriptor* req,
                   const google::protobuf::Descriptor* rep);
  // Adds `d` to `v` unless it is there already.
  static void AddType(DeclaredTypes* v, const google::protobuf::Descriptor* d);

  // Shared by the invokers (non-template, in genserver.cc).
  // A payload that does not parse as `in`'s type: INVALID_ARGUMENT to a
  // caller, or a warning for a cast / info.
  void RefuseUnparsable(const Incoming& in);
  // A typed cast / info handler returned `error`: logged.
  void LogHandlerError(const Incoming& in, const absl::Status& error);
  // Answers a typed handler's call.
  void AnswerReply(const From& from, const google::protobuf::Message& reply);
  void AnswerError(const From& from, const absl::Status& error);

  template <typename S, typename Req, typename Rep>
  static constexpr void CheckHandlerTypes() {
    static_assert(std::is_base_of_v<GenServer, S>,
                  "a handler must be a method of the server (a class derived from GenServer)");
    static_assert(std::is_base_of_v<google::protobuf::Message, Req> &&
                      std::is_base_of_v<google::protobuf::Message, Rep>,
                  "handler message types must be generated protobuf messages");
  }

  // The invokers (genserver/internal/typed_invokers.h). Each is the hook's
  // coroutine around the handler's: it parses the payload into a Req in its
  // own frame (so the handler's `const Req&` outlasts the handler's task),
  // runs the method, and answers the caller or logs the error.
  template <typename S, typename Req, typename Rep>
  static Task<absl::Status> InvokeCall(GenServer& server, ErasedMethod erased, Incoming& in);
  template <typename S, typename Req, typename Rep>
  static Task<absl::Status> InvokeDeferrableCall(GenServer& server, ErasedMethod erased,
                                                 Incoming& in);
  template <typename S, typename Msg>
  static Task<absl::Status> InvokeNoReply(GenServer& server, ErasedMethod erased, Incoming& in);

  ProcessContext* ctx_ = nullptr;  // Set by OnStart; owned by the process.
  std::string kind_;
  bool runtime_notice_ = false;  // The message being handled is a runtime notice.
  std::vector<Handler> handlers_;  // Few: a linear scan by pointer is fastest.
  std::vector<DeclaredCall> call_types_;
  DeclaredTypes cast_types_;
  DeclaredTypes info_types_;
  absl::Status registration_error_;  // First bad registration; fails OnStart.
  bool any_call_ = false;
  bool any_cast_ = false;
  bool any_info_ = false;
};

}  // namespace polis

#include "genserver/internal/typed_invokers.h"  // IWYU pragma: export

#endif  // POLIS_GENSERVER_GENSERVER_H_
