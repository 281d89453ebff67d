// node/internal/node_core.h — everything a Node is, behind the facade.
//
//   * processes and the local registry (names_), under registry_mu_;
//   * the scheduler (workers; worker 0 is also the I/O thread);
//   * the call table and the timer thread;
//   * the cluster view (Directory) and the transport, owned by the I/O
//     thread: only it calls Transport::{Send,Reply,Poll}. Other threads post
//     work to it with PostIo();
//   * per-thread Channels for plain threads calling remote servers.
//
// Thread-safety: public methods are thread-safe unless marked "I/O thread".
#ifndef POLIS_NODE_INTERNAL_NODE_CORE_H_
#define POLIS_NODE_INTERNAL_NODE_CORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "bus/transport.h"
#include "node/internal/call_slot.h"
#include "node/internal/directory.h"
#include "node/internal/route_cache.h"
#include "node/internal/letter.h"
#include "node/internal/scheduler.h"
#include "node/internal/timer_queue.h"
#include "node/node.h"

namespace polis::internal {

class Process;
class ChannelPool;

// The DEADLINE_EXCEEDED a call to `target` gets when its `timeout` passes,
// from a plain thread or a handler alike.
absl::Status CallTimedOut(const Target& target, absl::Duration timeout);

class NodeCore : public bus::InboundHandler {
 public:
  NodeCore(Node* facade, NodeOptions options);
  ~NodeCore() override;

  absl::Status Start();
  void Shutdown();

  Node& facade() { return *facade_; }
  const std::string& name() const { return name_; }
  const std::string& endpoint() const { return endpoint_; }
  uint64_t incarnation() const { return incarnation_; }
  int64_t max_message_bytes() const { return options_.max_message_bytes; }
  TimerQueue& timers() { return timers_; }
  CallTable& calls() { return calls_; }
  Scheduler& scheduler() { return *scheduler_; }
  Directory& directory() { return directory_; }

  // --- Processes ---
  // With `monitor_by` (the spawning process, runner thread), a monitor from
  // it is in place before the child can run; its reference is stored in
  // `*monitor_ref`.
  absl::StatusOr<std::shared_ptr<Process>> CreateProcess(std::unique_ptr<Behaviour> behaviour,
                                                         const SpawnOptions& options,
                                                         std::shared_ptr<CallSlot> init_slot,
                                                         Process* monitor_by = nullptr,
                                                         uint64_t* monitor_ref = nullptr);
  std::shared_ptr<Process> FindLocal(uint64_t pid) const;
  std::shared_ptr<Process> FindLocalByName(const std::string& name) const;
  // Called by a dying process: forget it and its name.
  void ForgetProcess(const Process& p);
  absl::Status Register(const std::string& name, const Pid& pid);
  absl::Status Unregister(const std::string& name);
  absl::StatusOr<Pid> WhereIs(const std::string& name) const;
  std::vector<std::string> RegisteredNames() const;
  size_t process_count() const;
  // Asks a local process to stop; `done` completes when it ended or was
  // killed after `timeout`.
  absl::Status StopProcess(const Target& target, absl::Status reason, absl::Duration timeout,
                           std::shared_ptr<CallSlot> done);

  // --- Messages ---
  // Fills defaults (sender node, trace) and delivers `letter` to its
  // recipient, local or remote. NOT_FOUND for an unknown name or dead local
  // pid; RESOURCE_EXHAUSTED if over the size limit. `caller` is the sending
  // process if any (used to keep its remote sends ordered).
  absl::Status Route(LetterPtr letter, const std::string& to_node, Process* caller);
  // Delivers a cast/info `letter` to `target` wherever it is, with one
  // registry lookup on the local fast path. Errors as Route.
  absl::Status RouteTo(const Target& target, LetterPtr letter, Process* caller);
  // Cast (KIND_CAST) or Send (KIND_INFO) `message` to `target`, from `sender`
  // (a process, or the node itself for a plain thread). Errors as Route.
  absl::Status Tell(wire::Kind kind, Process* sender, const Target& target,
                    const google::protobuf::Message& message);
  // Resolves a target to the node that hosts it ("" = here).
  absl::StatusOr<std::string> Resolve(const Target& target) const;
  // Sends a reply for `from`.
  void SendReply(const From& from, const absl::Status& status, const Message& reply,
                 const TraceContext& trace);
  // Builds a letter from a sender and payload.
  LetterPtr MakeLetter(wire::Kind kind, const Pid& sender, const Target& target,
                       Message message, const TraceContext* parent) const;
  // A blocking call from a plain thread.
  absl::StatusOr<Message> CallFromThread(const Target& target, Message request,
                                         absl::Duration timeout, wire::Kind kind);
  // Starts a call from a process: registers `slot`, sends. The slot
  // completes with the reply or an error (also on failure to send).
  void CallFromProcess(Process* caller, const Target& target, Message request,
                       absl::Duration timeout, std::shared_ptr<CallSlot> slot, wire::Kind kind);
  absl::StatusOr<TimerRef> SendAfter(absl::Duration delay, const Target& target,
                                     Message message, Process* owner);
  bool CancelTimer(TimerRef timer, Process* owner);
  // Tells `watcher` that `process` ended.
  void NotifyDown(const Pid& watcher, uint64_t ref, const Pid& process, const std::string& name,
                  const absl::Status& reason);
  absl::StatusOr<wire::ServerDescription> Describe(const std::string& name,
                                                   absl::Duration timeout);

  // --- I/O thread ---
  // Runs `fn` on the I/O thread (soon, in order). From the I/O thread
  // itself it runs at once.
  void PostIo(std::function<void()> fn);
  bool OnIoThread() const;
  // One round of I/O work: posted tasks, then transport input. Called by
  // worker 0; `block` says how long it may wait for input.
  void IoRound(absl::Duration block);
  // Runs the posted I/O tasks only (cheap when there are none). Worker 0
  // calls it before every process run, so that a pinned process's earlier
  // remote sends leave before its later ones.
  void RunPostedIo();
  void WakeIo();

  // bus::InboundHandler (I/O thread).
  void OnEnvelope(const bus::EnvelopeView& envelope, const bus::ReturnPath& from,
                  absl::Time received) override;
  void OnPeerDown(const std::string& endpoint, const absl::Status& why) override;
  void OnBadInput(const absl::Status& why) override;

  // Prints every process's scheduling state to stderr (debugging).
  void DebugDump();

  // Membership.
  absl::Status Join(absl::Duration timeout);
  std::vector<std::string> Peers() const { return directory_.ConnectedNodes(); }

 private:
  void SendHello(const std::string& endpoint, const bus::ReturnPath* reply_path);
  void HandleSystem(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                    absl::Time received);
  void HandleHello(const wire::Hello& hello, const bus::ReturnPath& from);
  void BroadcastNames(std::vector<std::string> added, std::vector<std::string> removed);
  void NodeDown(const std::string& node, const absl::Status& why);
  void DeliverInbound(LetterPtr letter);
  // The local process `l` is addressed to; NOT_FOUND if there is none.
  absl::StatusOr<std::shared_ptr<Process>> LocalRecipient(const Letter& l) const;
  // Sends `letter` to `node`: encoded into the transport's batch at once on
  // the I/O thread, posted to it from a worker, over the thread's own
  // channel from a plain thread. UNAVAILABLE if `node` is not connected;
  // else what the transport says (RESOURCE_EXHAUSTED: queue full), except
  // for a posted send, which is OK here (a call learns its fate through its
  // slot: FailCall). A failed call's slot is completed with the error too.
  absl::Status SendRemote(const std::string& node, LetterPtr letter, Process* caller);
  // Tell's fast path on the I/O thread for a name `route` says is remote:
  // `message` is encoded straight into the connection's batch.
  absl::Status TellRemote(wire::Kind kind, Process* sender, const std::string& name,
                          const RouteCache::Entry& route,
                          const google::protobuf::Message& message);
  // CallFromProcess's fast path on the I/O thread for a server `route` says
  // is remote: the envelope is encoded straight from `request`.
  void CallRemote(Process* caller, const RouteCache::Entry& route, const std::string& name,
                  const Message& request, absl::Duration timeout, absl::Time deadline,
                  std::shared_ptr<CallSlot> slot, wire::Kind kind);
  // I/O thread: sends the reply to `to` on the connection its call came in
  // on, or else to the caller's node. `status` is already valid UTF-8.
  void TransmitReply(const From& to, const absl::Status& status, const Message& reply,
                     const TraceContext& trace);
  // Pins `p` (if any) to the I/O thread, worker 0: a process that sends to
  // other nodes runs there from now on. Call from a worker only.
  static void PinToIo(Process* p);
  // RESOURCE_EXHAUSTED if a payload of `bytes` is over max_message_bytes.
  absl::Status CheckMessageSize(size_t bytes) const;
  // The calling thread's route memo entry for `target` if it is a name the
  // thread resolved to another node before, unchanged since; else nullptr.
  const RouteCache::Entry* CachedRemote(const Target& target) const;
  // What a RouteCache entry made now is valid for.
  RouteCache::Versions route_versions() const;
  // Call with registry_mu_ held, after changing names_.
  void NamesChanged();
  void FailCall(const From& from, const absl::Status& status);

  Node* const facade_;
  NodeOptions options_;
  const std::string name_;
  const Pid node_pid_;  // {name_, 0}: the sender of what plain threads send.
  const uint64_t incarnation_;
  const uint64_t instance_;  // RouteCache::Versions::node
  // Bumped by every change to names_ (RouteCache validity).
  std::atomic<uint64_t> names_version_{1};
  std::string endpoint_;
  std::unique_ptr<bus::Transport> transport_;
  TimerQueue timers_;
  CallTable calls_{&timers_};  // Shutdown stops timers_ before either goes.
  Directory directory_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<ChannelPool> channels_;

  mutable absl::Mutex registry_mu_;
  uint64_t next_pid_ ABSL_GUARDED_BY(registry_mu_) = 1;
  absl::flat_hash_map<uint64_t, std::shared_ptr<Process>> processes_
      ABSL_GUARDED_BY(registry_mu_);
  absl::flat_hash_map<std::string, uint64_t> names_ ABSL_GUARDED_BY(registry_mu_);
  bool shutting_down_ ABSL_GUARDED_BY(registry_mu_) = false;

  absl::Mutex io_mu_;
  std::vector<std::function<void()>> io_tasks_ ABSL_GUARDED_BY(io_mu_);
  std::atomic<bool> io_pending_{false};
  std::vector<std::function<void()>> io_running_;  // I/O thread only.
  absl::flat_hash_set<std::string> hello_sent_;     // I/O thread only.
  // The local server the last inbound letter went to, by name (I/O thread
  // only; cleared after each poll): the envelopes of a batch mostly go to
  // one server, and this spares each the lookup and its reference counting.
  struct InboundMemo {
    RouteCache::Versions versions;
    std::string name;
    std::shared_ptr<Process> process;
  };
  InboundMemo inbound_;

  absl::Mutex join_mu_;
  bool joined_ ABSL_GUARDED_BY(join_mu_) = false;
  bool stopped_ = false;
};

void DumpAllNodes();

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_NODE_CORE_H_
