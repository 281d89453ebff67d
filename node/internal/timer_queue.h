// node/internal/timer_queue.h — the node's timers (SendAfter, stop timeouts,
// and the one entry the call table arms for its earliest call deadline).
//
// One thread ("polis-timers") sleeps until the earliest deadline, but never
// longer than kMaxSleep, and runs the due callbacks. Schedule wakes it only
// for a timer due before its planned wake-up; a timer further out (a call
// deadline, usually seconds away) costs no wake-up, and Cancel never
// wakes it. Callbacks must be quick and must not block: they push a letter
// or complete a call slot, which wakes the scheduler.
//
// Thread-safety: Schedule and Cancel from any thread. A callback never runs
// after Cancel returned true, nor after Stop returned.
#ifndef POLIS_NODE_INTERNAL_TIMER_QUEUE_H_
#define POLIS_NODE_INTERNAL_TIMER_QUEUE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace polis::internal {

class TimerQueue {
 public:
  TimerQueue();
  ~TimerQueue();  // Stops.
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Runs `fire` on the timer thread at `when`. Returns a non-zero id.
  uint64_t Schedule(absl::Time when, std::function<void()> fire);
  // True if the timer was pending and will now never fire.
  bool Cancel(uint64_t id);
  // Number of pending timers.
  size_t size() const;
  // Stops the thread; pending timers never fire. Idempotent.
  void Stop();

 private:
  void Loop();

  // Longest sleep of the timer thread (so later timers need no wake-up).
  static constexpr absl::Duration kMaxSleep = absl::Milliseconds(100);

  mutable absl::Mutex mu_;
  absl::CondVar wake_;
  // When the timer thread will look at the queue next.
  absl::Time planned_wake_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::multimap<absl::Time, uint64_t> by_time_ ABSL_GUARDED_BY(mu_);
  struct Entry {
    absl::Time when;
    std::function<void()> fire;
  };
  absl::flat_hash_map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_TIMER_QUEUE_H_
