// tests/journal.h — a record of events that test servers append to and
// tests read and wait on.
//
// A server under test writes what it saw ("init:a", "info:wake",
// "terminate:INTERNAL") with Add; the test checks the record (Events, With,
// Has) or waits for an event without polling: WaitFor and WaitForCount block
// on the journal's mutex until an Add makes their condition true, or the
// timeout passes.
//
// Thread-safety: thread-safe. The journal must outlive every server that
// writes to it (declare it before the node, or shut the node down first).
//
// Example:
//   Journal j;
//   ASSERT_THAT(node->Spawn(std::make_unique<Acc>(&j), {.name = "acc"}), IsOk());
//   ASSERT_THAT(node->Stop("acc"), IsOk());
//   EXPECT_TRUE(j.WaitFor("terminate:OK"));
//   EXPECT_THAT(j.With("init"), ElementsAre("init"));
#ifndef POLIS_TESTS_JOURNAL_H_
#define POLIS_TESTS_JOURNAL_H_

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/wait.h"

namespace polis::testing {

class Journal {
 public:
  // Appends `event`, and wakes the waiters whose condition it satisfies.
  void Add(std::string event) {
    absl::MutexLock l(&mu_);
    events_.push_back(std::move(event));
  }

  // Every event so far, in the order added.
  std::vector<std::string> Events() const {
    absl::MutexLock l(&mu_);
    return events_;
  }
  // The events that start with `prefix`, in order.
  std::vector<std::string> With(std::string_view prefix) const {
    absl::MutexLock l(&mu_);
    std::vector<std::string> out;
    for (const std::string& e : events_) {
      if (StartsWith(e, prefix)) out.push_back(e);
    }
    return out;
  }
  // Whether `event` was added.
  bool Has(std::string_view event) const {
    absl::MutexLock l(&mu_);
    return Contains(event);
  }
  // Forgets every event.
  void Clear() {
    absl::MutexLock l(&mu_);
    events_.clear();
  }

  // Waits until `event` was added (true), or `timeout` (false).
  bool WaitFor(std::string_view event, absl::Duration timeout = kWaitTimeout) {
    absl::MutexLock l(&mu_);
    auto added = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return Contains(event); };
    return mu_.AwaitWithTimeout(absl::Condition(&added), timeout);
  }
  // Waits until at least `n` events that start with `prefix` were added
  // (true), or `timeout` (false).
  bool WaitForCount(std::string_view prefix, size_t n, absl::Duration timeout = kWaitTimeout) {
    absl::MutexLock l(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return static_cast<size_t>(std::count_if(events_.begin(), events_.end(), [&](const auto& e) {
               return StartsWith(e, prefix);
             })) >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  static bool StartsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
  }
  bool Contains(std::string_view event) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return std::find(events_.begin(), events_.end(), event) != events_.end();
  }

  mutable absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace polis::testing

#endif  // POLIS_TESTS_JOURNAL_H_
