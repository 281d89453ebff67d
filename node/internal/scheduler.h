// node/internal/scheduler.h — runs a node's processes on a few threads.
//
// Each worker thread has a run queue. A process made runnable by a worker
// goes to that worker's queue, so a call between two processes on one node
// stays on one thread with no OS wake-up (as on an Erlang scheduler). An
// idle worker steals from the others before it sleeps. Processes that send
// to other nodes are pinned to worker 0, the I/O thread, so that all their
// remote messages leave through one socket, in order.
//
// Worker 0 is also the node's I/O thread: between runs it does the node's
// I/O (IoDriver::IoRound), and it sleeps inside the transport's Poll, so a
// message from the network wakes it directly and the handler runs on it.
// A pinned process that worker 0 itself makes runnable (a reply it read, a
// call between two pinned processes) goes to worker 0's local queue, which
// only worker 0 touches: no lock. Worker 0 alternates between its two
// queues when both have work, so neither starves the other.
//
// A queue is taken newest first (the callee a handler just woke runs next),
// but a process still runnable after its run (budget used, or mail came
// meanwhile) goes behind everything queued: a busy process shares its
// worker with the others instead of running again at once.
//
// The scheduler knows the node only as an IoDriver (the I/O thread's work)
// and processes only through their run claim, Run and Release.
//
// Deterministic use (tests): a scheduler that is never Start()ed runs
// nothing by itself; Step(i) does one pass of worker i's loop on the calling
// thread (I/O round, pop or steal, run), which makes every ordering decision
// observable step by step.
//
// Thread-safety: Schedule from any thread; Step only on a scheduler that was
// not started, from one thread at a time; the rest is internal.
//
// Example (a test driving two workers by hand):
//   Scheduler s(/*io=*/nullptr, /*threads=*/2);   // not started
//   s.Schedule(p);            // from a plain thread: a spinning worker, else p's last (not 0)
//   while (s.Step(0) || s.Step(1)) {}

#ifndef POLIS_NODE_INTERNAL_SCHEDULER_H_
#define POLIS_NODE_INTERNAL_SCHEDULER_H_

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace polis::internal {

class Process;

// What worker 0 does for the node besides running processes.
class IoDriver {
 public:
  virtual ~IoDriver() = default;
  // One round of I/O: posted tasks, then transport input, waiting up to
  // `block` for it. Worker 0 only.
  virtual void IoRound(absl::Duration block) = 0;
  // The posted I/O tasks only (cheap when there are none). Worker 0 runs it
  // before every process run, so that a pinned process's earlier remote
  // sends leave before its later ones.
  virtual void RunPostedIo() = 0;
  // Makes a blocking IoRound return. Any thread.
  virtual void WakeIo() = 0;
};

class Scheduler {
 public:
  // `io` may be null (no I/O: worker 0 sleeps like the others).
  Scheduler(IoDriver* io, int threads);
  ~Scheduler();  // Stops.

  void Start();
  // Stops the workers (after the processes are gone). Idempotent.
  void Stop();

  // Queues a process whose run claim the caller holds (Process::TryClaim).
  void Schedule(std::shared_ptr<Process> p);

  // Tests, on a scheduler that was not started: one pass of worker
  // `index`'s loop on the calling thread, which poses as that worker while
  // it runs. Returns false if there was nothing to run (it never sleeps).
  bool Step(int index);

  // How long an idle worker but worker 0 spins for work before it sleeps
  // (default 50 µs). Set before Start; tests lengthen it to catch a worker
  // in its spin.
  void set_spin(absl::Duration spin) { spin_ = spin; }

  int size() const { return static_cast<int>(workers_.size()); }
  // Processes in worker `index`'s shared queue (racy unless stepped).
  size_t queued(int index) const {
    return workers_[index]->queued.load(std::memory_order_acquire);
  }
  // Workers asleep or about to sleep (each counted from just after it
  // marked itself parked until it wakes); racy, for tests that must know a
  // worker sleeps before they act.
  int parked() const { return parked_count_.load(); }
  // Queue lengths and parked flags, for debugging.
  std::string DebugString() const;
  // Index of the calling thread if it is a worker of this scheduler, else -1.
  int CurrentWorker() const;
  // The process running on the calling thread, if any.
  static Process* CurrentProcess();

 private:
  struct Worker {
    absl::Mutex mu;
    absl::CondVar cv;
    std::deque<std::shared_ptr<Process>> queue ABSL_GUARDED_BY(mu);
    bool parked ABSL_GUARDED_BY(mu) = false;
    bool poked ABSL_GUARDED_BY(mu) = false;  // Woken to steal or stop.
    std::atomic<size_t> queued{0};  // queue.size(), readable without mu.
    // In SpinForWork: takes a push within nanoseconds, no wake-up needed.
    std::atomic<bool> spinning{false};
    std::thread thread;
    // Worker 0 only, touched by its own thread only: see the file comment.
    std::deque<std::shared_ptr<Process>> local;
    bool local_last = false;  // The last Pop took from `local`.
  };

  void Loop(int index);
  // Marks worker `index` parked and counts it, unless work is queued for
  // it (false). Unpark undoes it.
  bool Park(int index);
  void Unpark(int index);
  std::shared_ptr<Process> Pop(int index);
  std::shared_ptr<Process> Steal(int thief);
  void Push(int index, std::shared_ptr<Process> p, bool wake);
  // Schedule, from the calling worker; `behind`: behind the work queued
  // there (for a process still runnable after its run), not next.
  void Enqueue(std::shared_ptr<Process> p, bool behind);
  void Wake(int index);
  // Where a thread that is not a worker queues an unpinned process.
  int ForeignTarget(Process& p);
  void WakeAnyParked(int except);
  void RunOne(int index, std::shared_ptr<Process> p);
  // Spins briefly for work before the worker sleeps; true if work came.
  bool SpinForWork(int index);

  // Sets and clears the calling thread's identity as worker `index`.
  void EnterWorker(int index);
  void LeaveWorker();

  IoDriver* const io_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> parked_count_{0};
  absl::Duration spin_ = absl::Microseconds(50);
  std::atomic<unsigned> next_{0};
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_SCHEDULER_H_
