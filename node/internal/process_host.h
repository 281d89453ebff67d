// node/internal/process_host.h — what a process needs from the node that
// runs it, and nothing more.
//
// A Process (and a CallSlot that wakes one) reaches its node only through
// this interface: to be scheduled, to release its pid and name when it dies,
// to answer calls, to forget its call and timers, and to tell its watchers.
// The node's wiring (NodeCore) implements it; unit tests implement it with
// a recording fake and run processes step by step on a Scheduler that is
// never started (Scheduler::Step), so the process and its claim logic are
// tested without threads.
//
// Thread-safety: every method may be called from any thread, unless it says
// otherwise.
//
// Example (a test host that records what a process asks for):
//   class FakeHost : public ProcessHost {
//     FakeHost() { set_scheduler(&scheduler); }
//     void Reply(const From& to, const absl::Status& s, const Message& m,
//                const TraceContext&) override { replies.push_back(s); }
//     ...
//   };
#ifndef POLIS_NODE_INTERNAL_PROCESS_HOST_H_
#define POLIS_NODE_INTERNAL_PROCESS_HOST_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "node/internal/scheduler.h"
#include "node/internal/tracer.h"
#include "node/message.h"

namespace polis::internal {

class Process;

class ProcessHost {
 public:
  virtual ~ProcessHost() = default;

  // Queues `p` to run on the host's scheduler. The caller holds `p`'s run
  // claim (Process::TryClaim). Not virtual: it is on every message's path.
  void Schedule(std::shared_ptr<Process> p) { scheduler_->Schedule(std::move(p)); }

  // Where processes record the spans of sampled messages; null (a test's
  // host) records nothing.
  Tracer* tracer() const { return tracer_; }

  // `p` has died: its pid and name are released (and the cluster told).
  // Called once per process.
  virtual void Forget(const Process& p) = 0;

  // Answers the call `to` with `status` (OK: `reply`), wherever its caller
  // is; `trace` is the trace of the message the answer belongs to.
  virtual void Reply(const From& to, const absl::Status& status, const Message& reply,
                     const TraceContext& trace) = 0;

  // Forgets the call with reference `ref` (its waiter is gone): a late reply
  // to it is dropped.
  virtual void AbandonCall(uint64_t ref) = 0;

  // Cancels the timer `id` (a dying process's SendAfter).
  virtual void CancelTimer(uint64_t id) = 0;

  // Removes the monitor `ref` that a process placed on `target` (it
  // demonitored, or is dying). `target` is {node, 0} for a node monitor.
  virtual void RemoveMonitor(const Pid& target, uint64_t ref) = 0;

  // The watcher received the DOWN of its monitor `ref` on `target` (a
  // process on another node, or {node, 0}): the monitor is over.
  virtual void MonitorFired(const Pid& target, uint64_t ref) = 0;

  // Tells `watcher` (monitor `ref`) that `process`, registered as `name`,
  // ended with `reason`.
  virtual void NotifyDown(const Pid& watcher, uint64_t ref, const Pid& process,
                          const std::string& name, const absl::Status& reason) = 0;

 protected:
  // Set by the host before any process is scheduled.
  void set_scheduler(Scheduler* scheduler) { scheduler_ = scheduler; }
  void set_tracer(Tracer* tracer) { tracer_ = tracer; }

 private:
  Scheduler* scheduler_ = nullptr;
  Tracer* tracer_ = nullptr;
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_PROCESS_HOST_H_
