// node/internal/node_core.h — the node's wiring: owns the parts of the
// runtime, connects them, and starts and stops them.
//
// The parts, each with its own header and thread contract:
//   * Registry (registry.h): the processes and the names registered here;
//   * Router (router.h): every path of a message — local delivery, remote
//     sends, calls and replies, timers, inbound delivery;
//   * Membership (membership.h): Hello / NamesChanged / Goodbye, the
//     cluster Directory, peers up and down;
//   * Scheduler (scheduler.h): the workers; worker 0 is also the I/O
//     thread, which alone uses the transport (IoThread, io_thread.h);
//   * CallTable and TimerQueue (call_slot.h, timer_queue.h); ChannelPool
//     (channels.h) for plain threads calling remote servers.
// A message flows one way through them: sender → Router → (local) mailbox →
// Scheduler → Process, or (remote) Router → transport → peer's NodeCore
// (InboundHandler) → Router::DeliverInbound → mailbox. Processes reach the
// node only through the ProcessHost interface NodeCore implements; the
// scheduler reaches it only as an IoDriver.
//
// Thread-safety: public methods are thread-safe unless marked otherwise.
// Only this file and node/ (the public layer) include node_core.h.
//
// Example (what Node::Create does):
//   auto core = std::make_unique<NodeCore>(facade, std::move(options));
//   absl::Status s = core->Start();
//   core->router().Tell(wire::KIND_CAST, nullptr, Target("counter"), request);
#ifndef POLIS_NODE_INTERNAL_NODE_CORE_H_
#define POLIS_NODE_INTERNAL_NODE_CORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bus/transport.h"
#include "node/internal/bad_input.h"
#include "node/internal/call_slot.h"
#include "node/internal/channels.h"
#include "node/internal/directory.h"
#include "node/internal/io_thread.h"
#include "node/internal/local_node.h"
#include "node/internal/membership.h"
#include "node/internal/monitors.h"
#include "node/internal/process_host.h"
#include "node/internal/registry.h"
#include "node/internal/router.h"
#include "node/internal/trust.h"
#include "node/internal/scheduler.h"
#include "node/internal/seed_resolver.h"
#include "node/internal/timer_queue.h"
#include "node/node.h"

namespace polis::internal {

class Process;

class NodeCore : public ProcessHost,
                 public IoDriver,
                 public bus::InboundHandler,
                 public MembershipObserver {
 public:
  NodeCore(Node* facade, NodeOptions options);
  ~NodeCore() override;

  // Validates the options, binds the endpoint, builds the parts and starts
  // the workers and the handshake with the seeds. INVALID_ARGUMENT for bad
  // options, UNAVAILABLE if the endpoint cannot be bound.
  absl::Status Start();
  // Stops every process (newest first, Terminate runs), fails the calls
  // still waiting, says Goodbye, stops the threads. Idempotent; refused
  // (logged) from inside a handler.
  void Shutdown();

  Node& facade() { return *facade_; }
  const LocalNode& self() const { return self_; }
  const std::string& name() const { return self_.name; }
  const std::string& endpoint() const { return self_.endpoint; }
  uint64_t incarnation() const { return self_.incarnation; }

  // The parts (valid after a successful Start).
  Registry& registry() { return *registry_; }
  Router& router() { return *router_; }
  Membership& membership() { return *membership_; }
  Monitors& monitors() { return *monitors_; }
  CallTable& calls() { return calls_; }
  const Scheduler& scheduler() const { return *scheduler_; }
  Tracer& tracer() { return *tracer_; }
  const Tracer& tracer() const { return *tracer_; }

  // --- Processes ---
  // Makes a process for `behaviour` and schedules it (its Init runs first;
  // `init_slot` completes when Init ended). With `monitor_by` (the spawning
  // process, on its runner thread) a monitor from it is in place before the
  // child can run; its reference goes to `*monitor_ref`. Errors: as
  // Registry::Create; INVALID_ARGUMENT for a null behaviour.
  absl::StatusOr<std::shared_ptr<Process>> CreateProcess(std::unique_ptr<Behaviour> behaviour,
                                                         const SpawnOptions& options,
                                                         std::shared_ptr<CallSlot> init_slot,
                                                         Process* monitor_by = nullptr,
                                                         uint64_t* monitor_ref = nullptr);
  // Asks a local process to stop; `done` completes when it ended, or with
  // DEADLINE_EXCEEDED when it was killed after `timeout`. NOT_FOUND.
  absl::Status StopProcess(const Target& target, absl::Status reason, absl::Duration timeout,
                           std::shared_ptr<CallSlot> done);
  // The process registered as `name`, here or on a known peer. NOT_FOUND.
  absl::StatusOr<Pid> WhereIs(const std::string& name) const;
  // Waits until `name` is registered somewhere this node knows of (woken by
  // every change to the view, no polling). NOT_FOUND after `timeout`.
  absl::StatusOr<Pid> AwaitName(const std::string& name, absl::Duration timeout) const;
  // The description of server `name`: local, or asked of its node within
  // `timeout` (zero: local only).
  absl::StatusOr<wire::ServerDescription> Describe(const std::string& name,
                                                   absl::Duration timeout);
  // What node `node` ("" or this node's name: this one) hosts and how it
  // sees the cluster (introspection.cc). From a plain thread only
  // (FAILED_PRECONDITION on a worker). Errors: as Router::CallFromThread
  // (UNAVAILABLE for a node not in this node's view, DEADLINE_EXCEEDED).
  absl::StatusOr<wire::NodeInfo> Info(const std::string& node, absl::Duration timeout);
  // The spans node `node` holds (wire::SpanQuery; introspection.cc). As
  // Info: a plain thread only, the same errors.
  absl::StatusOr<wire::SpanQueryReply> QuerySpans(const std::string& node,
                                                  const wire::SpanQuery& query,
                                                  absl::Duration timeout);
  // Whether the calling thread is one of this node's workers.
  bool OnWorker() const { return scheduler_ && scheduler_->CurrentWorker() >= 0; }

  // ProcessHost (Schedule: on scheduler_).
  void Forget(const Process& p) override;
  void Reply(const From& to, const absl::Status& status, const Message& reply,
             const TraceContext& trace) override {
    router_->SendReply(to, status, reply, trace);
  }
  void AbandonCall(uint64_t ref) override { calls_.Take(ref); }
  void CancelTimer(uint64_t id) override { timers_.Cancel(id); }
  void RemoveMonitor(const Pid& target, uint64_t ref) override;
  void MonitorFired(const Pid& target, uint64_t ref) override { monitors_->Forget(ref); }
  void NotifyDown(const Pid& watcher, uint64_t ref, const Pid& process, const std::string& name,
                  const absl::Status& reason) override {
    if (watcher.node != self_.name) monitors_->Fired(watcher, ref);  // A remote watcher's.
    router_->NotifyDown(watcher, ref, process, name, reason);
  }

  // IoDriver (worker 0).
  void IoRound(absl::Duration block) override;
  void RunPostedIo() override { io_->RunPosted(); }
  void WakeIo() override {
    if (transport_) transport_->Wake();
  }

  // bus::InboundHandler (I/O thread): replies to the Router's calls,
  // system messages to Membership (Describe here), the rest to the Router.
  void OnEnvelope(const bus::EnvelopeView& envelope, const bus::ReturnPath& from,
                  absl::Time received, const bus::Sender& sender) override;
  void OnPeerDown(const std::string& endpoint, const absl::Status& why) override {
    membership_->OnPeerDown(endpoint, why);
  }
  void OnBadInput(const absl::Status& why, const bus::Sender& from) override;

  // MembershipObserver (I/O thread).
  void OnNodeUp(const std::string& node, uint64_t incarnation) override {
    transport_->TrackPeer(node);  // Its traffic gets series of its own (bus/traffic.h).
  }
  void OnNodeDown(const std::string& node, uint64_t incarnation, const std::string& endpoint,
                  const absl::Status& why) override {
    channels_->PeerDown(endpoint);  // Plain threads reconnect on their next call.
    monitors_->OnNodeDown(node, incarnation, why);
  }
  void OnNameLost(const Pid& loser, const std::string& name, const NameClaim& winner) override;

  // Prints every process's scheduling state to stderr (debugging).
  void DebugDump();

  // A snapshot of the node's counters (node/metrics.h; node_metrics.cc).
  // Thread-safe, not concurrently with Shutdown. From a plain thread the
  // members' state comes from the I/O thread (waited for up to 1 s); on a
  // worker, peers show their traffic only.
  NodeMetrics Metrics();
  // Envelopes refused by the trust rules / replies refused as not from the
  // called node, so far (tests).
  uint64_t refused_by_trust() const { return trust_ ? trust_->refused() : 0; }
  uint64_t refused_replies() const { return router_ ? router_->refused_replies() : 0; }

 private:
  void HandleDescribe(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                      absl::Time received);
  // Refuses `env` from `sender` for `why` (trust.h): a call or request is
  // answered with it, anything else dropped; counted either way.
  void Refuse(const bus::EnvelopeView& env, const bus::ReturnPath& from, absl::Time received,
              const bus::Sender& sender, const absl::Status& why);
  // The answer to a refused envelope (I/O thread): if `env` has a ref and is
  // not a REPLY, CAST or INFO (a CALL, SYSTEM, UNSPECIFIED or unknown kind),
  // a REPLY with that ref and `why` on the connection it came on; else
  // nothing (fire-and-forget). Counting is the caller's.
  void AnswerRefused(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                     absl::Time received, const absl::Status& why);
  void HandleNodeInfo(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                      absl::Time received);  // introspection.cc
  void HandleSpanQuery(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                       absl::Time received);  // introspection.cc
  // CollectNodeInfo plus the bad-input counts, by reason and per peer
  // (introspection.cc; I/O thread).
  wire::NodeInfo NodeInfoWithBadInput();

  Node* const facade_;
  NodeOptions options_;
  LocalNode self_;
  std::unique_ptr<bus::Transport> transport_;
  TimerQueue timers_;
  CallTable calls_{&timers_};  // Shutdown stops timers_ before either goes.
  Directory directory_;
  // Built by Start, in this order (each uses the ones before).
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<Tracer> tracer_;
  std::unique_ptr<IoThread> io_;
  std::unique_ptr<ChannelPool> channels_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Router> router_;
  // The trust rules and the one count of refusals (trust.h); after
  // registry_. Every refusal, bad input included, is counted there.
  std::unique_ptr<TrustGate> trust_;
  std::unique_ptr<Membership> membership_;
  std::unique_ptr<Monitors> monitors_;
  // Keeps dns: seeds resolved (null without one); feeds membership.
  std::unique_ptr<SeedResolver> seed_resolver_;
  // Heartbeats (null for clients and in-process nodes); reports to
  // membership_, so it goes first.
  std::unique_ptr<FailureDetector> detector_;
  bool stopped_ = false;
};

void DumpAllNodes();

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_NODE_CORE_H_
