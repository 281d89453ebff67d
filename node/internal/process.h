// node/internal/process.h — a process: a Behaviour, its mailbox, and the
// state of the hook it is running.
//
// Lifecycle: Spawn creates it (phase kStarting) and schedules it; its first
// run starts OnStart; then each run takes letters from the mailbox in order
// and runs OnMessage for each, one at a time. A hook that suspends (a call
// from inside a handler) leaves the process waiting on a CallSlot: it takes
// no letters until the slot completes. Death (stop, failure, kill) happens
// once: Die() releases the name, answers open calls with an error, cancels
// its timers and tells its monitors.
//
// A process reaches its node only through a ProcessHost (process_host.h):
// it is scheduled, forgotten, and answers calls through it. Its
// ProcessContext (the hooks' handle on the node) is the one part that sees
// the whole node, for the API it offers handlers.
//
// Thread-safety: the scheduler guarantees at most one thread runs a process
// at a time (the `scheduled` flag); fields marked "runner" are touched only
// by that thread. Fields under `mu` may be touched by any thread.
#ifndef POLIS_NODE_INTERNAL_PROCESS_H_
#define POLIS_NODE_INTERNAL_PROCESS_H_

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "node/behaviour.h"
#include "node/internal/call_slot.h"
#include "node/internal/letter.h"
#include "node/internal/mailbox.h"
#include "node/internal/process_host.h"
#include "node/internal/process_stats.h"
#include "node/message.h"
#include "node/task.h"

namespace polis::internal {

class NodeCore;

class Process : public std::enable_shared_from_this<Process> {
 public:
  // `core` is what the process's ProcessContext offers its hooks (null in
  // unit tests whose behaviours do not use it).
  Process(ProcessHost* host, NodeCore* core, Pid pid, std::string name, std::string kind,
          std::unique_ptr<Behaviour> behaviour);
  ~Process();

  ProcessHost* host() const { return host_; }
  const Pid& pid() const { return pid_; }
  // Registered name ("" if none). Thread-safe.
  std::string name() const;
  // Name as seen by the process itself (runner only; stable reference).
  const std::string& name_ref() const { return name_cache_; }
  void set_name(std::string name);
  const std::string& kind() const { return kind_; }
  const Behaviour& behaviour() const { return *behaviour_; }
  ProcessContext& context() { return ctx_; }

  // --- Any thread ---

  // Queues a letter and schedules the process. If the mailbox holds
  // max_mailbox letters or more, refuses it instead (a call is answered
  // RESOURCE_EXHAUSTED, a cast or info dropped and counted), except the
  // runtime's notices and the process's own letters (see SpawnOptions).
  void Deliver(LetterPtr letter);
  // 0 = unlimited. Before the process is visible (CreateProcess).
  void set_max_mailbox(int64_t n) { max_mailbox_ = n < 0 ? 0 : n; }
  int64_t max_mailbox() const { return max_mailbox_; }
  // Casts and infos dropped because the mailbox was full.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Claims the right to run; true if the caller must enqueue the process.
  // A load first: a burst of mail to a process already claimed costs no
  // read-modify-write each. Safe with ReleaseClaim's seq_cst store: a
  // pusher that still sees the claim set here pushed before that store, so
  // the releasing runner sees its letter and claims again.
  bool TryClaim() { return !scheduled_.load() && !scheduled_.exchange(true); }
  // Asks the process to stop with `reason`; `done` completes when it ended.
  void RequestStop(absl::Status reason, std::shared_ptr<CallSlot> done);
  // Kills the process at once if it has not ended (after a stop timeout).
  void Kill();
  bool dead() const { return dead_.load(std::memory_order_acquire); }
  // Letters waiting in the mailbox (not the one being handled); approximate
  // (Mailbox::ApproximateSize), lock-free.
  int64_t mailbox_length() const { return mailbox_.ApproximateSize(); }
  // Its counters (process_stats.h); null before its first message.
  const ProcessStats* stats() const { return stats_.Peek(); }
  // Adds a monitor; false if the process is already dead.
  bool AddMonitor(const Pid& watcher, uint64_t ref);
  void RemoveMonitor(uint64_t ref);
  // Monitors placed on this process (by watchers here or elsewhere).
  size_t watcher_count() const;
  // Timers owned by this process (cancelled when it dies).
  void AddTimer(uint64_t id);
  bool RemoveTimer(uint64_t id);  // true if it was this process's.
  void set_init_slot(std::shared_ptr<CallSlot> slot) { init_slot_ = std::move(slot); }
  // Scheduler bookkeeping.
  std::atomic<int>& last_worker() { return last_worker_; }
  std::atomic<bool>& pinned() { return pinned_; }

  // One line describing the process's scheduling state, for debugging
  // (racy by nature: reads runner fields without the claim).
  std::string DebugString() const;

  // --- Runner only ---

  // Runs up to `budget` steps. Returns when the process has nothing to do,
  // waits on a call, died, or used its budget. Afterwards the scheduler
  // calls Release().
  void Run(int budget);
  // Gives up the `scheduled` claim; true if work arrived meanwhile and the
  // caller must enqueue the process again.
  bool Release();

  // Called by awaiters (runner thread, inside a hook).
  void BeginWait(std::shared_ptr<CallSlot> slot, std::coroutine_handle<> resume_at);
  void RequestSelfStop(absl::Status reason);
  void ReplyTo(const From& from, const absl::Status& status, const Message& reply);
  const TraceContext& current_trace() const { return trace_; }
  // Monitors this process holds: ref → target ({node, 0} for a node).
  void track_monitor(uint64_t ref, Pid target) { my_monitors_[ref] = std::move(target); }
  size_t monitors_held() const { return my_monitors_.size(); }
  std::optional<Pid> untrack_monitor(uint64_t ref);

 private:
  enum class Phase { kStarting, kRunning, kDead };

  // Starts the hook for the next letter; false if the mailbox is empty.
  bool StartNextLetter();
  // For a runtime notice (Letter::runtime; a user's message of these types
  // is a plain info): true if it is a ProcessDown / NodeDown for a
  // monitor this process no longer holds (demonitored, or fired already),
  // to be dropped. A DOWN for one it holds ends that monitor.
  bool StaleDown(const Letter& l);
  // Resumes the suspended hook; returns true if the hook finished.
  void Resume(std::coroutine_handle<> h);
  // The running hook finished (or threw): settle its outcome.
  void FinishHook();
  void Die(absl::Status reason, bool run_terminate);
  // The part of a death any thread may do once the name is released: cancel
  // timers, tell monitors `reason`, complete stop waiters with
  // `waiter_result`.
  void Bury(const absl::Status& reason, const absl::Status& waiter_result);
  void RefuseLetter(Letter& l, absl::Status why);
  // Deliver's slow path, the mailbox being full: true if `l` is queued
  // anyway (a runtime notice, the process's own letter).
  bool RefuseWhenFull(LetterPtr& l);

  // Records the span of the message being handled (if one is open), its
  // handling having ended with `result`.
  void EndSpan(const absl::Status& result);

  ProcessHost* const host_;
  const Pid pid_;
  const std::string kind_;
  std::unique_ptr<Behaviour> behaviour_;
  ProcessContext ctx_;
  Mailbox mailbox_;
  int64_t max_mailbox_ = SpawnOptions::kDefaultMaxMailbox;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> scheduled_{false};
  std::atomic<bool> dead_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> pinned_{false};
  std::atomic<int> last_worker_{-1};

  // Runner only.
  Phase phase_ = Phase::kStarting;
  std::string name_cache_;
  Task<absl::Status> hook_;
  LetterPtr letter_;                    // Letter being handled: the hook's Incoming.
  ProcessStatsSlot stats_;  // Made on the first message too; written by the runner.
  std::coroutine_handle<> resume_at_;
  std::shared_ptr<CallSlot> waiting_;   // Slot the hook awaits.
  // The call being handled (letter_->from) is not answered yet. Only
  // when its hook ends without answering does it join open_calls_, so a
  // call answered at once costs no map entry.
  bool current_call_open_ = false;
  // Calls received and not answered (deferred), by caller node and ref.
  absl::flat_hash_map<std::pair<std::string, uint64_t>, From> open_calls_;
  absl::flat_hash_map<uint64_t, Pid> my_monitors_;
  TraceContext trace_;
  // The span of the sampled message being handled: started when its hook
  // started, recorded when the hook ends (EndSpan).
  bool span_open_ = false;
  int64_t span_start_ns_ = 0;
  // A call answered while its hook ran: the answer's status (the span's).
  bool span_answered_ = false;
  absl::Status span_answer_;
  bool self_stop_ = false;
  absl::Status self_stop_reason_;
  std::shared_ptr<CallSlot> init_slot_;

  mutable absl::Mutex mu_;
  std::string name_ ABSL_GUARDED_BY(mu_);
  absl::Status stop_reason_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<CallSlot>> stop_waiters_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;  // Name released, waiters told.
  std::vector<std::pair<Pid, uint64_t>> watchers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<uint64_t> timers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_PROCESS_H_
