// tests/wait.h — waiting in a test for something to become true, with a
// deadline.
//
// A test never sleeps for a fixed time to let something happen: it waits on
// a condition. Best is a signal the code under test gives (an
// absl::Notification, Journal::WaitFor). Where nothing can give one (a name
// spreading through gossip, a counter on another node, a child process's
// log), WaitFor polls: it checks at once, then after pauses that grow from
// 50 µs to 2 ms, until the condition holds or the deadline passes. A pause
// is a polling interval, never the wait itself.
//
// Thread-safety: as thread-safe as the callables passed in.
//
// Example:
//   ASSERT_TRUE(WaitFor([&] { return node->WhereIs("rec").ok(); }));
//   absl::StatusOr<int64_t> n = RetryUntil(
//       [&] { return Ask(*node, "svc", "get"); },
//       [](const absl::StatusOr<int64_t>& r) { return r.ok(); });
#ifndef POLIS_TESTS_WAIT_H_
#define POLIS_TESTS_WAIT_H_

#include <algorithm>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace polis::testing {

// How long a test waits for something that should happen "soon" (a message
// delivered, a name spread, a server restarted) before it fails.
inline constexpr absl::Duration kWaitTimeout = absl::Seconds(10);

// The pauses between two polls: 50 µs, doubling up to 2 ms, never past the
// deadline.
class Backoff {
 public:
  // Sleeps for the next pause, cut short at `deadline`.
  void Pause(absl::Time deadline) {
    const absl::Duration left = deadline - absl::Now();
    if (left > absl::ZeroDuration()) absl::SleepFor(std::min(pause_, left));
    pause_ = std::min(pause_ * 2, absl::Milliseconds(2));
  }

 private:
  absl::Duration pause_ = absl::Microseconds(50);
};

// Calls `pred` until it returns true (then true) or `timeout` has passed
// (then false; `pred` was called once more at the deadline). Use it as
// ASSERT_TRUE(WaitFor(...)), or follow it with the assertion that shows what
// was wrong.
template <typename Pred>
bool WaitFor(Pred pred, absl::Duration timeout = kWaitTimeout) {
  const absl::Time deadline = absl::Now() + timeout;
  Backoff backoff;
  while (!pred()) {
    if (absl::Now() >= deadline) return false;
    backoff.Pause(deadline);
  }
  return true;
}

// Calls `attempt` (at least once) until `done(result)` holds or `timeout`
// has passed, with the pauses of WaitFor in between; returns the last
// result. For a request retried while it fails in a way that means "not
// yet" (NOT_FOUND while a name spreads): `done` says which results end it.
template <typename Attempt, typename Done>
auto RetryUntil(Attempt attempt, Done done, absl::Duration timeout = kWaitTimeout) {
  const absl::Time deadline = absl::Now() + timeout;
  Backoff backoff;
  auto result = attempt();
  while (!done(result) && absl::Now() < deadline) {
    backoff.Pause(deadline);
    result = attempt();
  }
  return result;
}

}  // namespace polis::testing

#endif  // POLIS_TESTS_WAIT_H_
