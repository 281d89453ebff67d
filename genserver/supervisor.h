// genserver/supervisor.h — OTP-style supervisors: servers that start other
// servers, watch them, and restart them when they fail.
//
// A Supervisor is a GenServer, so it is spawned, named, monitored and
// called like any server, and supervisors nest into trees (a child may be a
// supervisor). It starts its children in order, each with a fresh instance
// from its factory, registered under the child's name, and monitors them.
// When a child ends:
//   * restart type: PERMANENT children are always restarted, TRANSIENT ones
//     only after a failure (non-OK reason), TEMPORARY ones never (they are
//     forgotten);
//   * strategy: ONE_FOR_ONE restarts the child alone; ONE_FOR_ALL stops the
//     other running children (reverse start order) and restarts all of them
//     in start order; REST_FOR_ONE does the same with the children started
//     after the failed one;
//   * intensity: at most `intensity` restarts in a sliding window of
//     `period`. One more and the supervisor stops all its children (reverse
//     order) and fails with ABORTED ("restart intensity exceeded ... last
//     failure: ..."); its own supervisor sees a failed child and applies its
//     policy — that is escalation. A top-level supervisor simply ends.
//   * backoff: a restart waits BackoffDelay(attempt) (none / constant /
//     exponential with jitter, capped). The wait is a timer to itself
//     (SendAfter), never a sleep: the supervisor keeps answering calls and
//     which_children reports the child as RESTARTING. A failed restart (its
//     Init or factory fails) counts as a failure of the child: it uses up
//     intensity and is retried after the next backoff.
//
// A name held elsewhere. Names are cluster-wide: when starting a child
// fails with ALREADY_EXISTS because another node holds its name (another
// supervisor's copy of the same tree, or this child lost the name to an
// older claim — GenServer's NameLost default stops it), the child goes on
// STANDBY instead of failing: no restart intensity is used, the supervisor
// monitors the holder by name, and starts the child when that holder ends
// or its node goes down. which_children shows STANDBY and `held_by`.
//
// Callers of a restarting child. A child's name is released when it ends
// and registered again by the fresh instance. A call by name in between
// gets NOT_FOUND at once (never a hang); a call the dying instance was
// handling, or had queued, is answered with the runtime's error for a dead
// server; a call after the restart is served by the new instance with fresh
// state (from its Init). There is no queueing of calls across a restart:
// the caller decides whether to retry.
//
// Shutdown. Children are stopped one at a time in reverse start order, each
// with ProcessContext::StopProcess (awaited, so no scheduler thread blocks):
// its Terminate runs, and after its shutdown timeout it is killed. A child
// supervisor is first asked to stop its own subtree (the `stop_children`
// call), then stopped itself, so a whole tree comes down leaves first.
// Shutdown runs:
//   * on the `shutdown` call — the way to stop a supervisor (the answer
//     comes once all children ended; then the supervisor stops normally) —
//     and on `stop_children` (the same, but the supervisor stays, idle,
//     until someone stops it). From a plain thread:
//     Supervisor::ShutdownTree(node, "sup") does both steps and waits.
//   * when a parent supervisor stops this one, and on escalation;
//   * when Init fails part-way: children already started are stopped.
// Terminate itself cannot wait (it must not block), so a supervisor ended by
// other means (Node::Stop on it directly, a crash of the supervisor itself)
// hands its still-running children to a small companion "reaper" process,
// which stops them in reverse order shortly after; Node::Shutdown stops
// everything regardless.
//
// While the supervisor stops or starts a child it handles nothing else (as
// in OTP); its calls queue and are answered afterwards.
//
// Thread-safety: all state lives on the supervisor's process; talk to it by
// calls (SupervisorRequest), from any thread or process.
//
// Example:
//   polis::SupervisorBuilder tree;  // see supervisor_builder.h
//   tree.strategy(polis::supervision::ONE_FOR_ONE)
//       .intensity(3, absl::Seconds(5))
//       .backoff(polis::ConstantBackoff(absl::Milliseconds(200)))
//       .Add("counter", [] { return std::make_unique<Counter>(); }, {.name = "counter"});
//   absl::StatusOr<std::unique_ptr<polis::Supervisor>> sup = tree.Build();
//   if (!sup.ok()) return sup.status();
//   if (auto pid = node->Spawn(std::move(*sup), {.name = "sup"}); !pid.ok()) return pid.status();
//   absl::StatusOr<polis::supervision::SupervisorReply> children =
//       node->Call<polis::supervision::SupervisorReply>("sup", polis::WhichChildrenRequest());
#ifndef POLIS_GENSERVER_SUPERVISOR_H_
#define POLIS_GENSERVER_SUPERVISOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "genserver/backoff.h"
#include "genserver/genserver.h"
#include "genserver/supervisor_child.h"
#include "polis/supervisor.pb.h"

namespace polis {

class Supervisor : public GenServer {
 public:
  // The policy of one supervisor (SupervisorSpec / DynamicSupervisorSpec
  // without the children).
  struct Options {
    supervision::Strategy strategy = supervision::ONE_FOR_ONE;
    int intensity = 3;                      // Max restarts per period; 0 = escalate at once.
    absl::Duration period = absl::Seconds(5);
    supervision::Backoff backoff;           // Unset = restart at once.
    // Dynamic supervisors: children come from start_child; children that
    // end and are not restarted, or are terminated, are forgotten.
    bool dynamic = false;
    int max_children = 0;                   // 0 = no limit; RESOURCE_EXHAUSTED beyond.
    supervision::ChildSpec child_template;  // Defaults for start_child (dynamic).
  };

  // A supervisor of `children` (started in this order). INVALID_ARGUMENT
  // for a bad policy or child spec; ALREADY_EXISTS for a duplicate child id
  // or registered name.
  static absl::StatusOr<std::unique_ptr<Supervisor>> Create(Options options,
                                                            std::vector<ChildDef> children);
  // A supervisor from its config (children by kind or nested specs).
  static absl::StatusOr<std::unique_ptr<Supervisor>> Create(
      const supervision::SupervisorSpec& spec);
  // The policy part of `spec`. INVALID_ARGUMENT as above.
  static absl::StatusOr<Options> OptionsFromSpec(const supervision::SupervisorSpec& spec);

  // From a plain thread: asks the supervisor `target` to shut its tree
  // down (children in reverse order), then waits until it ended. `timeout`
  // bounds the whole. NOT_FOUND if there is no such server.
  static absl::Status ShutdownTree(Node& node, const Target& target,
                                   absl::Duration timeout = absl::Seconds(60));

  ~Supervisor() override;

  // Clients (bus::PeerRole::kClient) may not reach a supervisor.
  bool privileged() const override { return true; }

 protected:
  Task<absl::Status> Init() override;
  Task<absl::StatusOr<Reply>> HandleCall(const Message& request, const From& from) override;
  Task<absl::Status> HandleInfo(const Message& message) override;
  void Terminate(const absl::Status& reason) override;

 private:
  struct Child;  // Bookkeeping of one child; supervisor.cc.
  using Replied = absl::StatusOr<supervision::SupervisorReply>;

  Supervisor(Options options, std::vector<ChildDef> children);

  // Lifecycle of children (all on this process; each may suspend it).
  Task<absl::Status> StartChild(Child& c);
  Task<void> StopChild(Child& c);
  Task<void> StopAll();
  Task<void> OnChildEnded(Child& c, absl::Status reason);
  Task<void> StartRound(uint64_t epoch);
  Task<void> Escalate(const Child& c, const absl::Status& reason);
  // The child's name is held by `holder` on another node: wait for it.
  void GoStandby(Child& c, const Pid& holder);
  // The holder a standby child waited for went down: start the child.
  Task<void> OnHolderDown(Child& c);

  // Call handlers.
  supervision::SupervisorReply WhichChildren() const;
  supervision::SupervisorReply CountChildren() const;
  Task<Replied> TerminateChild(const std::string& id);
  Task<Replied> RestartChild(const std::string& id);
  Task<Replied> StartNewChild(supervision::ChildSpec spec);
  Task<Replied> StopChildren();
  Task<Replied> Shutdown();

  Child* Find(const std::string& id) const;
  Child* FindByMonitor(uint64_t ref) const;
  void Forget(const Child& c);
  supervision::ChildInfo Info(const Child& c) const;
  absl::Duration ShutdownTimeout(const Child& c) const;
  std::string Label() const;

  const Options options_;
  RestartIntensity intensity_;
  absl::BitGen rng_;
  std::vector<std::unique_ptr<Child>> children_;  // Start order.
  uint64_t epoch_ = 0;        // Last restart round.
  uint64_t next_child_ = 0;   // For ids of dynamic children.
  bool stopping_ = false;     // Shutting down or escalating: no more restarts.
  Pid reaper_;                // Companion that stops orphans (see above).
};

// Request builders, for callers in C++.
supervision::SupervisorRequest WhichChildrenRequest();
supervision::SupervisorRequest CountChildrenRequest();
supervision::SupervisorRequest TerminateChildRequest(const std::string& id);
supervision::SupervisorRequest RestartChildRequest(const std::string& id);
supervision::SupervisorRequest StartChildRequest(const supervision::ChildSpec& spec);
supervision::SupervisorRequest ShutdownRequest();
supervision::SupervisorRequest StopChildrenRequest();

}  // namespace polis

#endif  // POLIS_GENSERVER_SUPERVISOR_H_
