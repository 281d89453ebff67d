#include "node/internal/timer_queue.h"

#include <pthread.h>

#include <algorithm>
#include <vector>

#include "base/clock.h"

namespace polis::internal {

TimerQueue::TimerQueue() : thread_([this] { Loop(); }) {}

TimerQueue::~TimerQueue() { Stop(); }

uint64_t TimerQueue::Schedule(absl::Time when, std::function<void()> fire) {
  absl::MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  by_time_.emplace(when, id);
  entries_.emplace(id, Entry{when, std::move(fire)});
  if (when < planned_wake_) wake_.Signal();
  return id;
}

bool TimerQueue::Cancel(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  auto [lo, hi] = by_time_.equal_range(it->second.when);
  for (auto t = lo; t != hi; ++t) {
    if (t->second == id) {
      by_time_.erase(t);
      break;
    }
  }
  entries_.erase(it);
  return true;
}

size_t TimerQueue::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

void TimerQueue::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    by_time_.clear();
    entries_.clear();
    wake_.Signal();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void TimerQueue::Loop() {
  pthread_setname_np(pthread_self(), "polis-timers");
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time now = base::Now();
    std::vector<std::function<void()>> due;
    while (!by_time_.empty() && by_time_.begin()->first <= now) {
      uint64_t id = by_time_.begin()->second;
      by_time_.erase(by_time_.begin());
      auto it = entries_.find(id);
      if (it != entries_.end()) {
        due.push_back(std::move(it->second.fire));
        entries_.erase(it);
      }
    }
    if (!due.empty()) {
      mu_.Unlock();
      for (auto& f : due) f();
      mu_.Lock();
      continue;
    }
    planned_wake_ = now + kMaxSleep;
    if (!by_time_.empty()) planned_wake_ = std::min(planned_wake_, by_time_.begin()->first);
    // A spurious or early return is harmless: the loop looks again.
    wake_.WaitWithDeadline(&mu_, planned_wake_);
    // Until the queue is looked at again, any new timer may be due first.
    planned_wake_ = absl::InfinitePast();
  }
}

}  // namespace polis::internal
