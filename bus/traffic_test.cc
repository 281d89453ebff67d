// bus/traffic_test.cc — the per-peer table: who gets counters of their own,
// the memo, and what a snapshot sums.
#include "bus/traffic.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace polis::bus {
namespace {

const PeerTraffic* Find(const std::vector<PeerTraffic>& all, const std::string& node) {
  for (const PeerTraffic& t : all) {
    if (t.node == node) return &t;
  }
  return nullptr;
}

TEST(TrafficCountersTest, ANameNeverSentToCountsAsOther) {
  TrafficCounters table;
  table.For("client-1", /*track=*/false).solo.CountIn(100);
  table.For("client-2", /*track=*/false).solo.CountIn(50);
  const std::vector<PeerTraffic> all = table.Snapshot();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].node, "");
  EXPECT_EQ(all[0].messages_in, 2u);
  EXPECT_EQ(all[0].bytes_in, 150u);
}

TEST(TrafficCountersTest, ANameSentToGetsItsOwnCountersFromThenOn) {
  TrafficCounters table;
  table.For("b", /*track=*/false).solo.CountIn(10);  // before: other's
  const uint64_t before = table.version();
  table.For("b", /*track=*/true).solo.CountOut(20);
  EXPECT_GT(table.version(), before);
  table.For("b", /*track=*/false).solo.CountIn(30);  // now: b's
  const std::vector<PeerTraffic> all = table.Snapshot();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].node, "");
  EXPECT_EQ(all[0].bytes_in, 10u);
  EXPECT_EQ(all[1].node, "b");
  EXPECT_EQ(all[1].messages_out, 1u);
  EXPECT_EQ(all[1].bytes_out, 20u);
  EXPECT_EQ(all[1].messages_in, 1u);
  EXPECT_EQ(all[1].bytes_in, 30u);
}

TEST(TrafficCountersTest, TheEmptyNameIsNeverTracked) {
  TrafficCounters table;
  EXPECT_EQ(&table.For("", true), &table.For("", false));
  EXPECT_EQ(table.Snapshot().size(), 1u);
}

TEST(TrafficCountersTest, NamesPastTheLimitCountAsOther) {
  TrafficCounters table;
  for (size_t i = 0; i < TrafficCounters::kMaxPeers; ++i) {
    table.For(absl::StrCat("n", i), true).solo.CountOut(1);
  }
  table.For("one-too-many", true).solo.CountOut(7);
  const std::vector<PeerTraffic> all = table.Snapshot();
  EXPECT_EQ(all.size(), 1 + TrafficCounters::kMaxPeers);
  EXPECT_EQ(all[0].bytes_out, 7u);
  EXPECT_EQ(Find(all, "one-too-many"), nullptr);
}

TEST(TrafficCountersTest, SnapshotSumsBothTalliesAndListsOtherFirstThenByName) {
  TrafficCounters table;
  table.For("c", true).solo.CountDropped(2);
  table.For("a", true).shared.CountDropped(3);
  table.For("a", true).solo.CountRefused();
  table.For("a", true).shared.CountRefused();
  const std::vector<PeerTraffic> all = table.Snapshot();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].node, "a");
  EXPECT_EQ(all[1].dropped, 3u);
  EXPECT_EQ(all[1].refused, 2u);
  EXPECT_EQ(all[2].node, "c");
  EXPECT_EQ(all[2].dropped, 2u);
}

TEST(TrafficMemoTest, FollowsTheNameAndNoticesANameTrackedElsewhere) {
  TrafficCounters table;
  TrafficMemo memo;
  PeerCounters& other = memo.For(table, "b", /*track=*/false);
  EXPECT_EQ(&other, &table.For("", false));
  EXPECT_EQ(&memo.For(table, "b", false), &other);  // memo hit
  // Another thread starts tracking b: the memo's next lookup finds b's own.
  PeerCounters& b = table.For("b", true);
  EXPECT_EQ(&memo.For(table, "b", false), &b);
  // A memo asked to track makes the counters itself.
  EXPECT_NE(&memo.For(table, "c", true), &other);
  EXPECT_EQ(&memo.For(table, "c", false), &table.For("c", false));
}

TEST(TrafficCountersTest, SharedTalliesLoseNothingUnderConcurrentWriters) {
  TrafficCounters table;
  constexpr int kThreads = 4;
  constexpr int kEach = 100000;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      TrafficMemo memo;
      for (int j = 0; j < kEach; ++j) memo.For(table, "b", true).shared.CountOut(2);
    });
  }
  for (std::thread& t : threads) t.join();
  const auto snapshot = table.Snapshot();  // Find points into it
  const PeerTraffic* b = Find(snapshot, "b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->messages_out, uint64_t{kThreads} * kEach);
  EXPECT_EQ(b->bytes_out, uint64_t{kThreads} * kEach * 2);
}

}  // namespace
}  // namespace polis::bus
