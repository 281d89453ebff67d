// node/internal/call_slot_test.cc — CallSlot completion and the CallTable's
// deadlines: order, removal of settled calls, expiry of exactly the rest;
// a waiter giving up (Settle) on a call another thread is settling.
#include "node/internal/call_slot.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/internal/timer_queue.h"
#include "tests/wait.h"

namespace polis::internal {
namespace {

// Records the order in which slots complete.
class Log {
 public:
  std::function<void()> Waker(uint64_t ref) {
    return [this, ref] {
      absl::MutexLock lock(&mu_);
      order_.push_back(ref);
    };
  }
  // Waits until `n` slots completed (or 30 s passed: the test then fails).
  std::vector<uint64_t> WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n] {
      mu_.AssertHeld();
      return order_.size() >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
    return order_;
  }

 private:
  absl::Mutex mu_;
  std::vector<uint64_t> order_ ABSL_GUARDED_BY(mu_);
};

class CallTableTest : public ::testing::Test {
 protected:
  ~CallTableTest() override { timers_.Stop(); }  // Before the table goes.

  std::shared_ptr<CallSlot> NewSlot(std::string node = "") {
    const uint64_t ref = table_.NextRef();
    return std::make_shared<CallSlot>(ref, std::move(node), log_.Waker(ref));
  }

  TimerQueue timers_;
  CallTable table_{&timers_};
  Log log_;
};

TEST_F(CallTableTest, DeadlinesExpireInOrderWhateverTheOrderAdded) {
  const absl::Time now = absl::Now();
  auto late = NewSlot(), early = NewSlot(), middle = NewSlot(), far = NewSlot();
  // The earliest comes second: Add must arm a timer earlier than the first.
  table_.Add(late, now + absl::Milliseconds(60));
  table_.Add(early, now + absl::Milliseconds(20));
  table_.Add(middle, now + absl::Milliseconds(40));
  table_.Add(far, now + absl::Hours(1));
  EXPECT_EQ(log_.WaitFor(3),
            (std::vector<uint64_t>{early->ref(), middle->ref(), late->ref()}));
  EXPECT_GE(absl::Now(), now + absl::Milliseconds(60));
  for (auto& s : {early, middle, late}) {
    ASSERT_TRUE(s->done());
    EXPECT_TRUE(s->expired());
    EXPECT_EQ(s->Take().status().code(), absl::StatusCode::kDeadlineExceeded);
  }
  EXPECT_FALSE(far->done());
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.deadlines(), 1u);
  EXPECT_EQ(table_.Take(early->ref()), nullptr);  // Gone with its expiry.
}

TEST_F(CallTableTest, ASettledCallNeverExpiresAndLeavesItsBucket) {
  const absl::Time now = absl::Now();
  auto answered = NewSlot(), marker = NewSlot();
  // The marker's expiry shows the answered call's deadline has passed.
  table_.Add(answered, now + absl::Seconds(1));
  table_.Add(marker, now + absl::Milliseconds(1200));
  std::shared_ptr<CallSlot> taken = table_.Take(answered->ref());
  ASSERT_EQ(taken, answered);
  EXPECT_EQ(table_.deadlines(), 1u);
  ASSERT_TRUE(taken->Complete(Message("t", "reply")));
  EXPECT_FALSE(taken->Complete(absl::InternalError("second outcome")));  // Dropped.
  EXPECT_EQ(log_.WaitFor(2), (std::vector<uint64_t>{answered->ref(), marker->ref()}));
  EXPECT_FALSE(answered->expired());
  absl::StatusOr<Message> r = answered->Take();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bytes(), "reply");
  EXPECT_TRUE(marker->expired());
  EXPECT_EQ(table_.deadlines(), 0u);
}

// Random adds (deadlines within 40 ms, in random order) and random settles:
// exactly the unsettled calls expire, in deadline order, and the buckets
// end empty. A list link kept wrong shows up as a wrong order, a missed
// expiry or a leftover entry. The deadlines start 1 s out so that
// none is due before every add and settle is done (they take about 25 ms
// under AddressSanitizer).
TEST_F(CallTableTest, RandomSettlesLeaveExactlyTheRestToExpireInOrder) {
  std::mt19937 rng(7);
  const absl::Time base = absl::Now() + absl::Seconds(1);
  std::vector<std::shared_ptr<CallSlot>> live;
  std::vector<std::pair<absl::Time, uint64_t>> expected;
  for (int i = 0; i < 2000; ++i) {
    auto s = NewSlot();
    const absl::Time deadline = base + absl::Microseconds(rng() % 40000);
    table_.Add(s, deadline);
    live.push_back(s);
    expected.emplace_back(deadline, s->ref());
    if (rng() % 3 == 0) {  // Settle a random live call.
      size_t k = rng() % live.size();
      std::shared_ptr<CallSlot> t = table_.Take(live[k]->ref());
      ASSERT_NE(t, nullptr);
      expected.erase(std::find_if(expected.begin(), expected.end(),
                                  [&](auto& e) { return e.second == t->ref(); }));
      live.erase(live.begin() + k);
    }
  }
  ASSERT_LT(absl::Now(), base) << "adding took over 1 s: the host is too slow for this test";
  ASSERT_EQ(table_.deadlines(), live.size());
  std::vector<uint64_t> order = log_.WaitFor(live.size());
  ASSERT_EQ(order.size(), live.size());
  std::stable_sort(expected.begin(), expected.end(),
                   [](auto& a, auto& b) { return a.first < b.first; });
  // Equal deadlines may expire in either order; compare the deadlines.
  absl::flat_hash_map<uint64_t, absl::Time> deadline_of;
  for (auto& [d, ref] : expected) deadline_of[ref] = d;
  for (size_t i = 0; i < order.size(); ++i) {
    ASSERT_TRUE(deadline_of.contains(order[i])) << "settled call " << order[i] << " expired";
    EXPECT_EQ(deadline_of[order[i]], expected[i].first) << "at " << i;
  }
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(table_.deadlines(), 0u);
}

TEST_F(CallTableTest, TakeForNodeAndTakeAllEmptyTheBuckets) {
  const absl::Time later = absl::Now() + absl::Hours(1);
  for (int i = 0; i < 10; ++i) table_.Add(NewSlot(i % 2 ? "a" : "b"), later + absl::Seconds(i));
  table_.Add(NewSlot("a"));  // No deadline.
  EXPECT_EQ(table_.TakeForNode("a").size(), 6u);
  EXPECT_EQ(table_.size(), 5u);
  EXPECT_EQ(table_.deadlines(), 5u);
  EXPECT_EQ(table_.TakeAll().size(), 5u);
  EXPECT_EQ(table_.deadlines(), 0u);
}

// Deadlines within one millisecond share a bucket, kept in the order
// added: still, they expire in deadline order, none before its deadline.
TEST_F(CallTableTest, DeadlinesWithinOneMillisecondExpireInDeadlineOrder) {
  // On a millisecond boundary 30 ms out, so that all four share a bucket.
  const absl::Time ms =
      absl::FromUnixMillis(absl::ToUnixMillis(absl::Now() + absl::Milliseconds(30)));
  std::vector<std::shared_ptr<CallSlot>> added;
  for (int us : {900, 300, 600, 100}) {
    added.push_back(NewSlot());
    table_.Add(added.back(), ms + absl::Microseconds(us));
  }
  EXPECT_EQ(table_.buckets(), 1u);
  EXPECT_EQ(log_.WaitFor(4), (std::vector<uint64_t>{added[3]->ref(), added[1]->ref(),
                                                    added[2]->ref(), added[0]->ref()}));
  EXPECT_GE(absl::Now(), ms + absl::Microseconds(900));
  for (auto& s : added) {
    EXPECT_TRUE(s->expired());
    EXPECT_EQ(s->Take().status().code(), absl::StatusCode::kDeadlineExceeded);
  }
  EXPECT_EQ(table_.deadlines(), 0u);
  EXPECT_EQ(table_.buckets(), 0u);
}

// A deadline already past expires at once; one so far out that its
// millisecond is the last an int64 holds is filed (and settled) like any.
TEST_F(CallTableTest, PastAndFarDeadlines) {
  auto past = NewSlot(), far = NewSlot(), farther = NewSlot();
  table_.Add(far, absl::FromUnixMillis(std::numeric_limits<int64_t>::max()));
  table_.Add(farther, absl::FromUnixMillis(std::numeric_limits<int64_t>::max()) +
                          absl::Microseconds(1));
  table_.Add(past, absl::Now() - absl::Seconds(1));
  EXPECT_EQ(log_.WaitFor(1), std::vector<uint64_t>{past->ref()});
  EXPECT_TRUE(past->expired());
  EXPECT_EQ(past->Take().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(table_.deadlines(), 2u);
  EXPECT_EQ(table_.buckets(), 1u);
  EXPECT_EQ(table_.Take(far->ref()), far);
  EXPECT_EQ(table_.Take(farther->ref()), farther);
  EXPECT_EQ(table_.deadlines(), 0u);
  EXPECT_LE(table_.buckets(), 1u);
  EXPECT_EQ(table_.size(), 0u);
}

// Many calls in flight, settled in a mixed order as replies come: when all
// have settled the table holds nothing but (at most) the one bucket kept for
// the next call, and while they wait, no more buckets than calls plus one.
TEST_F(CallTableTest, ManyCallsLeaveNothingBehindOnceSettled) {
  std::mt19937 rng(11);
  std::vector<std::shared_ptr<CallSlot>> live;
  const absl::Time start = absl::Now() + absl::Hours(1);
  for (int i = 0; i < 100000; ++i) {
    auto s = NewSlot("b");
    // Spread over 50 ms, so that the calls fill many buckets.
    table_.Add(s, start + absl::Microseconds(i / 2));
    live.push_back(std::move(s));
    if (live.size() > 100) {  // ~100 in flight; replies roughly in order.
      const size_t k = rng() % 8;
      ASSERT_EQ(table_.Take(live[k]->ref()), live[k]);
      live.erase(live.begin() + k);
    }
    if (i % 1000 == 0) {
      ASSERT_LE(table_.buckets(), table_.deadlines() + 1);
    }
  }
  for (auto& s : live) ASSERT_EQ(table_.Take(s->ref()), s);
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(table_.deadlines(), 0u);
  EXPECT_LE(table_.buckets(), 1u);
  // And a peer-down notice for some, TakeAll for the rest, leave none.
  for (int i = 0; i < 1000; ++i) table_.Add(NewSlot(i % 2 ? "a" : "b"), start + absl::Milliseconds(i));
  EXPECT_EQ(table_.TakeForNode("a").size(), 500u);
  EXPECT_LE(table_.buckets(), 501u);
  EXPECT_EQ(table_.TakeAll().size(), 500u);
  EXPECT_EQ(table_.buckets(), 0u);
  EXPECT_EQ(table_.deadlines(), 0u);
}

// A burst of calls grows the map; once they are settled it shrinks back
// instead of keeping its peak size for good.
TEST_F(CallTableTest, TheMapShrinksBackAfterABurst) {
  std::vector<std::shared_ptr<CallSlot>> burst;
  for (int i = 0; i < 100000; ++i) {
    burst.push_back(NewSlot("b"));
    table_.Add(burst.back());
  }
  const size_t peak = table_.capacity();
  EXPECT_GE(peak, 200000u);  // kept at least twice what it holds
  for (size_t i = 0; i + 10 < burst.size(); ++i) {
    ASSERT_EQ(table_.Take(burst[i]->ref()), burst[i]);
  }
  EXPECT_EQ(table_.size(), 10u);
  EXPECT_LE(table_.capacity(), 2048u) << "peak " << peak;
  // What is left is all still there.
  for (size_t i = burst.size() - 10; i < burst.size(); ++i) {
    EXPECT_EQ(table_.Take(burst[i]->ref()), burst[i]);
  }
}

TEST(CallSlotTest, AThreadInWaitUntilWakesOnCompleteFromAnotherThread) {
  for (int i = 0; i < 200; ++i) {
    auto slot = std::make_shared<CallSlot>(1, "", nullptr);
    std::thread completer([slot, i] {
      // Complete at varied points: before, during and after the waiter's
      // 50 us spin (the outcome must not depend on which).
      const absl::Time at = absl::Now() + absl::Microseconds(i % 4 * 40);
      while (absl::Now() < at) {
      }
      slot->Complete(Message("t", "x"));
    });
    ASSERT_TRUE(slot->WaitUntil(absl::Now() + absl::Seconds(30))) << "lost wake-up at " << i;
    EXPECT_EQ(slot->Take()->bytes(), "x");
    completer.join();
  }
}

TEST(CallSlotTest, WaitUntilReturnsFalseAtTheDeadline) {
  CallSlot slot(1, "", nullptr);
  EXPECT_FALSE(slot.WaitUntil(absl::Now() + absl::Milliseconds(5)));
  EXPECT_FALSE(slot.done());
}

TEST_F(CallTableTest, RefsAreRandomNonZeroAndDistinct) {
  std::set<uint64_t> seen;
  bool high_bit = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t r = table_.NextRef();
    EXPECT_NE(r, 0u);
    high_bit = high_bit || (r >> 63) != 0;
    seen.insert(r);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_TRUE(high_bit);  // Not a counter.
}

// A slot made without a ref gets a fresh random one from Add (as NextRef
// draws them), under which it is registered; a ref already in the table is
// refused.
TEST_F(CallTableTest, AddGivesASlotWithoutARefAFreshOne) {
  std::set<uint64_t> seen;
  bool high_bit = false;
  for (int i = 0; i < 1000; ++i) {
    auto slot = std::make_shared<CallSlot>(0, "b", nullptr);
    const uint64_t ref = table_.Add(slot, absl::Now() + absl::Hours(1));
    EXPECT_NE(ref, 0u);
    EXPECT_EQ(slot->ref(), ref);
    high_bit = high_bit || (ref >> 63) != 0;
    seen.insert(ref);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_TRUE(high_bit);  // Not a counter.
  EXPECT_EQ(table_.size(), 1000u);
  const uint64_t some = *seen.begin();
  auto twin = std::make_shared<CallSlot>(some, "c", nullptr);
  EXPECT_EQ(table_.Add(twin), 0u);
  std::shared_ptr<CallSlot> taken = table_.Take(some);
  ASSERT_NE(taken, nullptr);
  EXPECT_NE(taken, twin);
  EXPECT_EQ(taken->target_node(), "b");
  EXPECT_EQ(table_.TakeAll().size(), 999u);
}

TEST_F(CallTableTest, AReplyTakesItsSlotOnlyFromTheEndpointTheCallWentTo) {
  auto slot = NewSlot("b");
  slot->set_endpoint("inproc://b");
  table_.Add(slot);
  bool foreign = false;
  EXPECT_EQ(table_.TakeReply(slot->ref(), "", &foreign), nullptr);  // the listening socket
  EXPECT_TRUE(foreign);
  EXPECT_EQ(table_.TakeReply(slot->ref(), "inproc://evil", &foreign), nullptr);
  EXPECT_TRUE(foreign);
  EXPECT_EQ(table_.size(), 1u);  // Still waiting for the real reply.
  EXPECT_EQ(table_.TakeReply(slot->ref(), "inproc://b", &foreign), slot);
  EXPECT_FALSE(foreign);
  EXPECT_EQ(table_.TakeReply(slot->ref(), "inproc://b", &foreign), nullptr);  // a duplicate
  EXPECT_FALSE(foreign);
  // A local call (no endpoint) takes no reply from the wire.
  auto local = NewSlot();
  table_.Add(local);
  EXPECT_EQ(table_.TakeReply(local->ref(), "inproc://b", &foreign), nullptr);
  EXPECT_TRUE(foreign);
  EXPECT_EQ(table_.Take(local->ref()), local);
}

// The kill -9 race (FaultsTest.KillNineUnderLoad saw one UNKNOWN in ~200
// calls): a plain thread's channel to node c reports the connection lost at
// the moment membership declares c down. Membership has taken the call out
// of the table (TakeForNode) and not completed it yet; the caller, finding
// it gone, read the slot's empty outcome: a default absl::StatusOr, UNKNOWN
// with no message. Settle must wait for membership's UNAVAILABLE.
TEST_F(CallTableTest, SettleWaitsForTheOutcomeOfACallAnotherThreadTookButHasNotCompleted) {
  auto slot = NewSlot("c");
  table_.Add(slot);
  std::vector<std::shared_ptr<CallSlot>> taken = table_.TakeForNode("c");  // membership
  ASSERT_EQ(taken.size(), 1u);

  std::atomic<bool> returned{false};
  absl::StatusOr<Message> outcome;
  std::thread caller([&] {  // Its channel: "connection to ... lost".
    outcome = table_.Settle(
        slot, absl::UnavailableError("node \"c\" is down: connection to tcp://c lost"));
    returned.store(true);
  });
  // The caller waits for membership rather than return before it completes.
  ASSERT_TRUE(::polis::testing::WaitFor(
      [&] { return slot->thread_waiting() || returned.load(); }, absl::Seconds(30)));
  EXPECT_FALSE(returned.load()) << "Settle returned before the call settled, with "
                                << outcome.status();

  taken[0]->Complete(
      absl::UnavailableError("node \"c\" is down (it left the view of node \"a\")"));
  caller.join();
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable) << outcome.status();
  EXPECT_THAT(outcome.status().message(), ::testing::HasSubstr("left the view"));
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(CallTableTest, SettleCompletesACallStillWaitingWithItsReason) {
  auto slot = NewSlot("c");
  table_.Add(slot, absl::Now() + absl::Hours(1));
  absl::StatusOr<Message> outcome =
      table_.Settle(slot, absl::UnavailableError("node \"c\" is down: connection lost"));
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(outcome.status().message(), "node \"c\" is down: connection lost");
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(table_.deadlines(), 0u);
  EXPECT_EQ(log_.WaitFor(1), std::vector<uint64_t>{slot->ref()});  // Woken once.
}

TEST_F(CallTableTest, SettleOfACallAlreadySettledGivesThatOutcome) {
  auto slot = NewSlot("c");
  table_.Add(slot);
  ASSERT_EQ(table_.Take(slot->ref()), slot);  // a reply
  slot->Complete(Message());
  EXPECT_TRUE(table_.Settle(slot, absl::UnavailableError("connection lost")).ok());
}

TEST_F(CallTableTest, SettleLeavesAnotherCallThatDrewTheSameRef) {
  auto first = std::make_shared<CallSlot>(7, "c", nullptr);
  table_.Add(first);
  ASSERT_EQ(table_.Take(7), first);
  first->Complete(absl::UnavailableError("node \"c\" is down"));
  auto second = std::make_shared<CallSlot>(7, "b", nullptr);  // after `first` left
  table_.Add(second);
  EXPECT_EQ(table_.Settle(first, absl::UnavailableError("connection lost")).status().message(),
            "node \"c\" is down");
  EXPECT_FALSE(second->done());
  EXPECT_EQ(table_.Take(7), second);
}

TEST(CallSlotTest, TakeBeforeCompleteIsANamedInternalErrorNotAnEmptyUnknown) {
  CallSlot slot(1, "c", nullptr);
  absl::StatusOr<Message> early = slot.Take();
  EXPECT_EQ(early.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(early.status().message(), ::testing::HasSubstr("before the call settled"));
  slot.Complete(absl::UnavailableError("node \"c\" is down"));
  EXPECT_EQ(slot.Take().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace polis::internal
