#include "node/internal/scheduler.h"

#include <pthread.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "node/internal/process.h"
#include "node/internal/spin.h"

namespace polis::internal {
namespace {

// Letters a process may handle before it yields its worker to others.
constexpr int kBudget = 64;

// A busy worker 0 does its I/O round (flush what was sent, read what came)
// every kIoEvery process runs, or every kIoCheck runs once kIoInterval has
// passed since the last. Rounds cost libzmq syscalls and split batches, so
// short runs share one; long runs still let I/O in every kIoInterval or so.
constexpr unsigned kIoEvery = 64;
constexpr unsigned kIoCheck = 8;
constexpr absl::Duration kIoInterval = absl::Microseconds(100);

thread_local const Scheduler* tls_scheduler = nullptr;
thread_local int tls_worker = -1;
thread_local Process* tls_process = nullptr;

}  // namespace

Scheduler::Scheduler(IoDriver* io, int threads) : io_(io) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>());
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  for (int i = 0; i < size(); ++i) {
    workers_[i]->thread = std::thread([this, i] { Loop(i); });
  }
}

void Scheduler::Stop() {
  stopping_.store(true);  // A second call finds the threads joined already.
  for (int i = 0; i < size(); ++i) Wake(i);
  for (auto& w : workers_) {
    if (w->thread.joinable() && w->thread.get_id() != std::this_thread::get_id()) {
      w->thread.join();
    }
  }
  for (auto& w : workers_) {
    absl::MutexLock lock(&w->mu);
    w->queue.clear();
    w->local.clear();  // Its thread is joined.
  }
}

std::string Scheduler::DebugString() const {
  std::string out;
  for (int i = 0; i < size(); ++i) {
    Worker& w = *workers_[i];
    absl::MutexLock lock(&w.mu);
    absl::StrAppend(&out, "  worker ", i, ": queue=", w.queue.size(), " parked=", w.parked,
                    " poked=", w.poked, "\n");
  }
  return out;
}

int Scheduler::CurrentWorker() const { return tls_scheduler == this ? tls_worker : -1; }

Process* Scheduler::CurrentProcess() { return tls_process; }

void Scheduler::Schedule(std::shared_ptr<Process> p) { Enqueue(std::move(p), /*behind=*/false); }

void Scheduler::Enqueue(std::shared_ptr<Process> p, bool behind) {
  // Pop takes the back of a queue: the front is behind everything.
  int here = CurrentWorker();
  if (p->pinned().load(std::memory_order_relaxed)) {
    if (here != 0) {
      Push(0, std::move(p), /*wake=*/true);
    } else if (behind) {
      workers_[0]->local.push_front(std::move(p));
    } else {
      workers_[0]->local.push_back(std::move(p));
    }
    return;
  }
  if (here >= 0) {
    // Keep it on this thread; wake a sleeper only if there is surplus work.
    bool surplus;
    {
      Worker& w = *workers_[here];
      absl::MutexLock lock(&w.mu);
      if (behind) {
        w.queue.push_front(std::move(p));
      } else {
        w.queue.push_back(std::move(p));
      }
      w.queued.store(w.queue.size(), std::memory_order_release);
      surplus = w.queue.size() > 1;
    }
    if (surplus && parked_count_.load(std::memory_order_relaxed) > 0) WakeAnyParked(here);
    return;
  }
  const int target = ForeignTarget(*p);
  Push(target, std::move(p), /*wake=*/true);
}

int Scheduler::ForeignTarget(Process& p) {
  int target = p.last_worker().load(std::memory_order_relaxed);
  if (target < 0 || target >= size()) target = static_cast<int>(next_++ % size());
  if (workers_[target]->spinning.load(std::memory_order_relaxed)) return target;
  // A spinning worker takes it at once; waking a sleeping one costs tens of
  // microseconds (BASELINES.md), more than the process's warm cache saves.
  for (int i = size() - 1; i >= 0; --i) {
    if (workers_[i]->spinning.load(std::memory_order_relaxed)) return i;
  }
  // None awake: not worker 0 if another will do. Worker 0 sleeps in the
  // transport's poll (a costlier wake-up) and its runs delay the node's I/O.
  if (target == 0 && io_ != nullptr && size() > 1) target = 1 + static_cast<int>(next_++ % (size() - 1));
  return target;
}

void Scheduler::Push(int index, std::shared_ptr<Process> p, bool wake) {
  Worker& w = *workers_[index];
  bool was_parked, surplus;
  {
    absl::MutexLock lock(&w.mu);
    w.queue.push_back(std::move(p));
    w.queued.store(w.queue.size(), std::memory_order_release);
    was_parked = w.parked;
    surplus = w.queue.size() > 1;
  }
  if (!wake) return;
  if (was_parked) {
    Wake(index);
  } else if (surplus && parked_count_.load(std::memory_order_relaxed) > 0) {
    // The target has a backlog: let a sleeper steal (the rule of a worker's
    // own Enqueue). One process queued on an awake target is taken next;
    // waking a sleeper for it (often worker 0, from its poll) would cost
    // the pusher a syscall and move the process between threads.
    WakeAnyParked(index);
  }
}

void Scheduler::Wake(int index) {
  if (index == 0 && io_ != nullptr) io_->WakeIo();
  Worker& w = *workers_[index];
  absl::MutexLock lock(&w.mu);
  w.poked = true;
  w.cv.Signal();
}

void Scheduler::WakeAnyParked(int except) {
  for (int i = 0; i < size(); ++i) {
    if (i == except) continue;
    Worker& w = *workers_[i];
    bool parked;
    {
      absl::MutexLock lock(&w.mu);
      parked = w.parked;
    }
    if (parked) {
      Wake(i);
      return;
    }
  }
}

std::shared_ptr<Process> Scheduler::Pop(int index) {
  Worker& w = *workers_[index];
  if (!w.local.empty() &&
      (!w.local_last || w.queued.load(std::memory_order_acquire) == 0)) {
    w.local_last = true;
    std::shared_ptr<Process> p = std::move(w.local.back());  // LIFO, as below
    w.local.pop_back();
    return p;
  }
  w.local_last = false;
  absl::MutexLock lock(&w.mu);
  if (w.queue.empty()) return nullptr;
  // LIFO for the newest (the callee a handler just woke), so a call between
  // two processes is answered before older work; FIFO otherwise would let
  // a long queue add latency to every call.
  std::shared_ptr<Process> p = std::move(w.queue.back());
  w.queue.pop_back();
  w.queued.store(w.queue.size(), std::memory_order_release);
  return p;
}

std::shared_ptr<Process> Scheduler::Steal(int thief) {
  for (int k = 1; k < size(); ++k) {
    int victim = (thief + k) % size();
    Worker& w = *workers_[victim];
    absl::MutexLock lock(&w.mu);
    for (auto it = w.queue.begin(); it != w.queue.end(); ++it) {
      if (thief != 0 && (*it)->pinned().load(std::memory_order_relaxed)) continue;
      std::shared_ptr<Process> p = std::move(*it);
      w.queue.erase(it);
      w.queued.store(w.queue.size(), std::memory_order_release);
      return p;
    }
  }
  return nullptr;
}

void Scheduler::RunOne(int index, std::shared_ptr<Process> p) {
  if (p->pinned().load(std::memory_order_relaxed) && index != 0) {
    Push(0, std::move(p), /*wake=*/true);
    return;
  }
  p->last_worker().store(index, std::memory_order_relaxed);
  tls_process = p.get();
  p->Run(kBudget);
  tls_process = nullptr;
  if (p->Release()) Enqueue(std::move(p), /*behind=*/true);
}

bool Scheduler::SpinForWork(int index) {
  // Worker 0 sleeps in the transport's poll at once: a spin there would
  // leave a message from the network waiting until the spin ends.
  if (index == 0) return false;
  Worker& me = *workers_[index];
  me.spinning.store(true, std::memory_order_relaxed);
  const bool work = SpinUntil(base::Now() + spin_, [&] {
    return me.queued.load(std::memory_order_acquire) > 0 || stopping_.load();
  });
  me.spinning.store(false, std::memory_order_relaxed);
  return work;
}

void Scheduler::EnterWorker(int index) {
  tls_scheduler = this;
  tls_worker = index;
}

void Scheduler::LeaveWorker() {
  tls_scheduler = nullptr;
  tls_worker = -1;
}

bool Scheduler::Step(int index) {
  EnterWorker(index);
  if (index == 0 && io_ != nullptr) io_->IoRound(absl::ZeroDuration());
  std::shared_ptr<Process> p = Pop(index);
  if (!p) p = Steal(index);
  const bool ran = p != nullptr;
  if (p) {
    if (index == 0 && io_ != nullptr) io_->RunPostedIo();
    RunOne(index, std::move(p));
  }
  LeaveWorker();
  return ran;
}

void Scheduler::Loop(int index) {
  EnterWorker(index);
  std::string thread_name = absl::StrCat("polis-w", index);
  pthread_setname_np(pthread_self(), thread_name.c_str());
  Worker& me = *workers_[index];
  unsigned tick = 0;
  absl::Time last_io = base::Now();
  while (!stopping_.load(std::memory_order_acquire)) {
    if (index == 0 && io_ != nullptr && ++tick % kIoCheck == 0) {
      const absl::Time now = base::Now();
      if (tick % kIoEvery == 0 || now - last_io >= kIoInterval) {
        io_->IoRound(absl::ZeroDuration());
        last_io = now;
        tick = 0;
      }
    }
    std::shared_ptr<Process> p = Pop(index);
    if (!p) p = Steal(index);
    if (p) {
      if (index == 0 && io_ != nullptr) io_->RunPostedIo();  // Keep remote sends ordered.
      RunOne(index, std::move(p));
      continue;
    }
    // Nothing to run: spin a little (a reply or the next request often
    // comes within microseconds, and waking a sleeping thread costs tens of
    // them on small VMs), then sleep until woken.
    if (SpinForWork(index)) continue;
    if (!Park(index)) continue;
    // Counted as parked first, then a last look: a worker that queues
    // surplus after this look (under its own lock, which Steal takes too)
    // sees this one parked and wakes it; surplus queued before it, while
    // this one spun and none was parked to be woken, is found here.
    if (std::shared_ptr<Process> stolen = Steal(index)) {
      Unpark(index);
      if (index == 0 && io_ != nullptr) io_->RunPostedIo();
      RunOne(index, std::move(stolen));
      continue;
    }
    if (index == 0 && io_ != nullptr) {
      io_->IoRound(absl::InfiniteDuration());
      last_io = base::Now();
      tick = 0;
    } else {
      absl::MutexLock lock(&me.mu);
      while (me.queue.empty() && !me.poked && !stopping_.load()) me.cv.Wait(&me.mu);
    }
    Unpark(index);
  }
  LeaveWorker();
}

bool Scheduler::Park(int index) {
  Worker& me = *workers_[index];
  {
    absl::MutexLock lock(&me.mu);
    // Checked with the flag set under one lock: a push after it sees the
    // flag and wakes this worker.
    if (!me.queue.empty() || stopping_.load()) return false;
    me.parked = true;
  }
  parked_count_.fetch_add(1);
  return true;
}

void Scheduler::Unpark(int index) {
  Worker& me = *workers_[index];
  parked_count_.fetch_sub(1);
  absl::MutexLock lock(&me.mu);
  me.parked = false;
  me.poked = false;
}

}  // namespace polis::internal
