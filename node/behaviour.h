// node/behaviour.h — what a process is to the node that runs it.
//
// A process is a Behaviour (its code and state) plus a mailbox, run by the
// node's scheduler one message at a time. GenServer (genserver/) and
// Supervisor are Behaviours; users normally derive from GenServer, not from
// this interface.
//
// ProcessContext is the process's handle on its node, passed to every hook.
// It is valid for the life of the process and may be used only from the
// process's own hooks (one thread at a time; never stored elsewhere).
//
// Example (a behaviour that answers every call with its own request):
//   class Echo : public polis::Behaviour {
//     polis::Task<absl::Status> OnStart(polis::ProcessContext&) override { co_return absl::OkStatus(); }
//     polis::Task<absl::Status> OnMessage(polis::ProcessContext& ctx, polis::Incoming& in) override {
//       if (in.kind == polis::wire::KIND_CALL) ctx.ReplyRaw(in.from, absl::OkStatus(), in.message);
//       co_return absl::OkStatus();
//     }
//     void OnTerminate(polis::ProcessContext&, const absl::Status&) override {}
//     polis::wire::ServerDescription Describe() const override { return {}; }
//   };
#ifndef POLIS_NODE_BEHAVIOUR_H_
#define POLIS_NODE_BEHAVIOUR_H_

#include <coroutine>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "node/message.h"
#include "node/task.h"
#include "polis/envelope.pb.h"

namespace polis {

class Node;
class Behaviour;
namespace internal {
class Process;
class CallSlot;
class NodeCore;
}  // namespace internal

struct SpawnOptions {
  // Name to register; empty for an anonymous process. ALREADY_EXISTS if the
  // name is taken anywhere in the cluster the node knows of.
  std::string name;
  // Server kind, for descriptions and tools ("counter"); informational.
  std::string kind;
  // ctx.Spawn only: the spawning process monitors the child from before it
  // can run, so even a child that ends at once is reported with its real
  // reason (SpawnAwaiter::monitor_ref() gives the reference).
  bool monitor = false;
  // Most letters its mailbox holds; 0 = unlimited. When full, a call is
  // answered RESOURCE_EXHAUSTED at once and a cast or info is dropped and
  // counted (polis ps "dropped", polis_server_dropped_messages_total).
  // The runtime's notices (DOWN, NameLost) and what the process sends
  // itself (its timers) are never refused; replies to its own calls are
  // not letters and never queue here. See kDefaultMaxMailbox.
  int64_t max_mailbox = kDefaultMaxMailbox;
  // 100,000 letters: a few tens of MB of small letters (a recycled letter
  // is ~250 bytes plus its payload), ~1 s of backlog at a busy server's
  // rate; far above what a healthy server queues, well below what exhausts
  // a node's memory.
  static constexpr int64_t kDefaultMaxMailbox = 100'000;
};

namespace internal {

// What the awaiters below share: the process that waits, and the slot its
// outcome arrives in (completing the slot schedules the process again).
class SlotAwaiter {
 public:
  bool await_suspend(std::coroutine_handle<> h);

 protected:
  explicit SlotAwaiter(Process* self) : self_(self) {}
  // Makes slot_: a fresh slot (call reference `ref`) that wakes self_.
  void NewSlot(uint64_t ref);

  Process* self_;
  std::shared_ptr<CallSlot> slot_;
};

}  // namespace internal

// co_await-able result of a call made from inside a handler.
// It owns everything the call needs (the request is serialized when the
// call is made), so it may be kept and awaited later; awaiting it a second
// time gives FAILED_PRECONDITION (the call was made once).
class [[nodiscard]] CallAwaiter : public internal::SlotAwaiter {
 public:
  CallAwaiter(CallAwaiter&&) = default;
  ~CallAwaiter();
  bool await_ready();
  absl::StatusOr<Message> await_resume();

 private:
  friend class ProcessContext;
  CallAwaiter(internal::Process* self, Target target, Message request, absl::Duration timeout);

  Target target_;
  Message request_;
  absl::Duration timeout_;
  bool sent_ = false;
  absl::Status immediate_;  // Set when awaited again.
  // The caller's span for the call (its reply span), recorded when the
  // outcome arrives if the trace is sampled.
  TraceContext client_;
  int64_t start_ns_ = 0;
  const std::string* type_ = nullptr;
};

// co_await-able result of spawning a process from inside a handler: resumes
// when the child's Init has finished.
class [[nodiscard]] SpawnAwaiter : public internal::SlotAwaiter {
 public:
  SpawnAwaiter(SpawnAwaiter&&) = default;
  ~SpawnAwaiter();
  bool await_ready();
  absl::StatusOr<Pid> await_resume();
  // With SpawnOptions::monitor: the monitor's reference (0 otherwise).
  // Valid once the child was created, even if its Init failed.
  uint64_t monitor_ref() const { return monitor_ref_; }

 private:
  friend class ProcessContext;
  SpawnAwaiter(internal::Process* self, std::unique_ptr<Behaviour> behaviour,
               SpawnOptions options);

  std::unique_ptr<Behaviour> behaviour_;
  SpawnOptions options_;
  absl::Status immediate_;  // Set when the spawn failed before suspending.
  Pid pid_;
  uint64_t monitor_ref_ = 0;
};

// co_await-able end of another process, from inside a handler: resumes when
// the target has ended (its Terminate ran) or was killed after the timeout.
class [[nodiscard]] StopAwaiter : public internal::SlotAwaiter {
 public:
  StopAwaiter(StopAwaiter&&) = default;
  ~StopAwaiter();
  bool await_ready();
  absl::Status await_resume();

 private:
  friend class ProcessContext;
  StopAwaiter(internal::Process* self, Pid target, absl::Status reason, absl::Duration timeout);

  Pid target_;
  absl::Status reason_;
  absl::Duration timeout_;
  absl::Status immediate_;  // Set when the stop failed before suspending.
};

class ProcessContext {
 public:
  ProcessContext(const ProcessContext&) = delete;
  ProcessContext& operator=(const ProcessContext&) = delete;

  const Pid& self() const;
  // Registered name, or "" for an anonymous process.
  const std::string& name() const;
  Node& node() const;
  // Trace context of the message being handled.
  const TraceContext& trace() const;

  // Calls `target` and suspends this process until the reply, an error, or
  // `timeout`. co_await the result: absl::StatusOr<Message>. Errors:
  // NOT_FOUND (no such name, at once), DEADLINE_EXCEEDED, UNAVAILABLE (node
  // down), the server's own error (with its message and details:
  // node/status_details.h), ABORTED/INTERNAL if the server failed.
  CallAwaiter CallRaw(Target target, const google::protobuf::Message& request,
                      absl::Duration timeout = kDefaultCallTimeout);

  // Fire-and-forget to HandleCast / HandleInfo. NOT_FOUND if the name is
  // unknown; OK does not mean the message was handled (at-most-once).
  absl::Status Cast(Target target, const google::protobuf::Message& message);
  absl::Status Send(Target target, const google::protobuf::Message& message);

  // Delivers `message` as info to `target` (by default this process) after
  // `delay`. The timer lives on this node; it dies with this process.
  absl::StatusOr<TimerRef> SendAfter(absl::Duration delay,
                                     const google::protobuf::Message& message);
  absl::StatusOr<TimerRef> SendAfter(absl::Duration delay, Target target,
                                     const google::protobuf::Message& message);
  // True if the timer was pending and is now cancelled; false if it already
  // fired, was cancelled, or is not this process's.
  bool CancelTimer(TimerRef timer);

  // Replies to a call (now, or later for a deferred reply). OK to call once
  // per From; later replies are dropped. A non-OK `status` sends that error.
  void ReplyRaw(const From& from, const absl::Status& status, const Message& reply);

  // Watches `target` — a pid or a registered name, on this node or any
  // member of the cluster (a name is resolved now: the process holding it
  // is watched, not whoever registers it later). Exactly one
  // wire::ProcessDown info message with the returned reference arrives,
  // unless Demonitor is called first. Its status_code says why:
  //   OK            the target stopped normally (Stop() / Stop(OK));
  //   its reason    the target failed: the handler's error, INTERNAL for a
  //                 throw, ABORTED if killed, CANCELLED at node shutdown;
  //   NOT_FOUND     no such process — at once: an unknown name, a pid that
  //                 is not alive, a pid on a node that is not a member;
  //   UNAVAILABLE   the target's node went down, was cut off, left or
  //                 restarted (a monitor is on the node's incarnation at the
  //                 time of the call), at the moment membership declares it.
  // Watching a remote target costs one system message each way; the
  // watched node drops the monitor if this node goes down.
  uint64_t Monitor(const Target& target);
  uint64_t Monitor(const Pid& target) { return Monitor(Target(target)); }
  // Cancels monitor `monitor_ref` (from Monitor or SpawnOptions::monitor).
  // Final: no ProcessDown for it is handled after this returns, even one
  // already sent or queued (such a DOWN is dropped at delivery). No-op for
  // an unknown or already fired reference.
  void Demonitor(uint64_t monitor_ref);

  // Watches node `node`: one wire::NodeDown info message with the returned
  // reference arrives when it goes down — UNAVAILABLE (crashed, frozen,
  // cut off, restarted, or left with Goodbye) — or at once with NOT_FOUND
  // if it is not a member now. Monitoring this node itself never fires.
  uint64_t MonitorNode(const std::string& node);
  // Cancels a node monitor; final as Demonitor.
  void DemonitorNode(uint64_t monitor_ref) { Demonitor(monitor_ref); }
  // How many monitors watch this process now, from any node (Erlang's
  // monitored_by): each Monitor on it adds one until its DOWN is sent, it
  // is demonitored, or the watcher's node goes down.
  size_t MonitoredByCount() const;

  // Starts a child process; co_await gives its Pid once its Init finished,
  // or Init's error.
  SpawnAwaiter Spawn(std::unique_ptr<Behaviour> behaviour, SpawnOptions options = {});

  // Stops local process `target` with `reason` and resumes when it has
  // ended (its Terminate ran). If it does not end within `timeout` it is
  // killed (name released, never runs again) and the result is
  // DEADLINE_EXCEEDED. NOT_FOUND if no such local process. co_await it.
  StopAwaiter StopProcess(const Pid& target, absl::Status reason = absl::OkStatus(),
                          absl::Duration timeout = absl::Seconds(5));

  // Stops this process once the running hook returns: Terminate runs with
  // `reason` (OK = normal stop) and the name is released.
  void Stop(absl::Status reason = absl::OkStatus());

 private:
  friend class internal::Process;
  friend class CallAwaiter;
  friend class SpawnAwaiter;
  friend class StopAwaiter;
  ProcessContext(internal::Process* p, internal::NodeCore* core) : p_(p), core_(core) {}
  internal::NodeCore& core() const { return *core_; }

  internal::Process* const p_;
  internal::NodeCore* const core_;  // The node's parts, for the API above.
};

class Behaviour {
 public:
  virtual ~Behaviour() = default;

  // First hook, before any message. A non-OK result (or an exception) ends
  // the process: OnTerminate runs, Spawn returns the error.
  virtual Task<absl::Status> OnStart(ProcessContext& ctx) = 0;

  // One message. For KIND_CALL the behaviour replies via ctx.ReplyRaw (now
  // or later). A non-OK result or an exception fails the process: the caller
  // of the call being handled gets that error, Terminate runs, the name is
  // released, monitors get ProcessDown. Nothing else is affected.
  // `in` may be moved from.
  virtual Task<absl::Status> OnMessage(ProcessContext& ctx, Incoming& in) = 0;

  // Always runs exactly once when the process ends (normal stop, failure,
  // shutdown, after a failed Init too). Must not block; exceptions are
  // caught and logged.
  virtual void OnTerminate(ProcessContext& ctx, const absl::Status& reason) = 0;

  // The message types this process accepts and their .proto files.
  virtual wire::ServerDescription Describe() const = 0;

  // Whether a call/cast/info payload of `type` may be delivered; others are
  // refused by the runtime with INVALID_ARGUMENT (calls) or dropped and
  // logged (casts, info). Default: everything. `type` is the message's
  // interned name (Message::type(), from InternType): one object per type
  // name, so an implementation may compare addresses.
  virtual bool Accepts(wire::Kind kind, const std::string& type) const { return true; }

  // True for a process a client (bus::PeerRole::kClient) may not reach:
  // supervisors, which start and stop other processes. Nodes and admins
  // reach it. Constant for the process's life (read from the I/O thread).
  virtual bool privileged() const { return false; }
};

}  // namespace polis

#endif  // POLIS_NODE_BEHAVIOUR_H_
