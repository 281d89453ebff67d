// node/internal/timer_queue_test.cc — TimerQueue: order, wake-ups, Cancel, Stop.
#include "node/internal/timer_queue.h"

#include <atomic>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace polis::internal {
namespace {

TEST(TimerQueueTest, FiresInDeadlineOrder) {
  TimerQueue q;
  absl::Mutex mu;
  std::vector<int> fired;
  absl::Notification done;
  const absl::Time now = absl::Now();
  for (int i : {3, 1, 2}) {
    q.Schedule(now + absl::Milliseconds(10 * i), [&, i] {
      absl::MutexLock lock(&mu);
      fired.push_back(i);
      if (fired.size() == 3) done.Notify();
    });
  }
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
}

// A timer due before the thread's planned wake-up must wake it: here the
// thread sleeps toward a far timer when a near one is added.
TEST(TimerQueueTest, ANearTimerAddedBehindAFarOneFiresFirst) {
  TimerQueue q;
  std::atomic<bool> far_fired{false};
  q.Schedule(absl::Now() + absl::Hours(1), [&] { far_fired = true; });
  absl::Notification near;
  q.Schedule(absl::Now() + absl::Milliseconds(5), [&] { near.Notify(); });
  // Far less than the hour (and than any CI hiccup could explain).
  ASSERT_TRUE(near.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_FALSE(far_fired.load());
  EXPECT_EQ(q.size(), 1u);
}

// A timer later than the longest sleep is not signalled; the thread's
// periodic look must still fire it.
TEST(TimerQueueTest, ATimerBeyondTheLongestSleepStillFires) {
  TimerQueue q;
  absl::Notification fired;
  q.Schedule(absl::Now() + absl::Milliseconds(250), [&] { fired.Notify(); });
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST(TimerQueueTest, CancelledTimersNeverFire) {
  TimerQueue q;
  std::atomic<int> fired{0};
  const uint64_t id = q.Schedule(absl::Now() + absl::Milliseconds(20), [&] { ++fired; });
  EXPECT_TRUE(q.Cancel(id));
  EXPECT_FALSE(q.Cancel(id));
  absl::Notification later;
  q.Schedule(absl::Now() + absl::Milliseconds(40), [&] { later.Notify(); });
  ASSERT_TRUE(later.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(fired.load(), 0);
}

TEST(TimerQueueTest, StopDropsPendingTimers) {
  std::atomic<int> fired{0};
  {
    TimerQueue q;
    q.Schedule(absl::Now() + absl::Milliseconds(1), [&] { ++fired; });
    q.Schedule(absl::Now() + absl::Hours(1), [&] { ++fired; });
    q.Stop();
    EXPECT_EQ(q.size(), 0u);
    q.Stop();  // idempotent
  }
  EXPECT_LE(fired.load(), 1);  // the 1 ms one may have fired before Stop
}

}  // namespace
}  // namespace polis::internal
