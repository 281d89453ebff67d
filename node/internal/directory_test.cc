// Tests for the cluster view: members with their names, numbered deltas,
// and the conflict rule every node computes alike.
#include "node/internal/directory.h"

#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace polis::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

wire::NameEntry Name(const std::string& name, uint64_t pid, int64_t registered) {
  wire::NameEntry n;
  n.set_name(name);
  n.set_pid(pid);
  n.set_registered_unix_ns(registered);
  return n;
}

wire::NodeEntry Member(const std::string& node, uint64_t incarnation, uint64_t version,
                       std::vector<wire::NameEntry> names = {}) {
  wire::NodeEntry e;
  e.set_node(node);
  e.set_endpoint("tcp://127.0.0.1:1" + node);
  e.set_incarnation(incarnation);
  e.set_names_version(version);
  for (auto& n : names) *e.add_names() = std::move(n);
  return e;
}

wire::NamesChanged Delta(const std::string& node, uint64_t incarnation, uint64_t version,
                         std::vector<wire::NameEntry> added, std::vector<std::string> removed) {
  wire::NamesChanged nc;
  nc.set_node(node);
  nc.set_incarnation(incarnation);
  nc.set_names_version(version);
  for (auto& n : added) *nc.add_added() = std::move(n);
  for (auto& n : removed) nc.add_removed(n);
  return nc;
}

TEST(ClaimWinsTest, OlderRegistrationThenSmallerNodeThenSmallerIncarnation) {
  const NameClaim old{"z", 9, 1, 100};
  const NameClaim young{"a", 1, 1, 200};
  EXPECT_TRUE(ClaimWins(old, young));
  EXPECT_FALSE(ClaimWins(young, old));
  const NameClaim a{"a", 9, 1, 100};
  const NameClaim b{"b", 1, 1, 100};
  EXPECT_TRUE(ClaimWins(a, b));
  EXPECT_FALSE(ClaimWins(b, a));
  const NameClaim a1{"a", 1, 1, 100};
  EXPECT_TRUE(ClaimWins(a1, a));
  EXPECT_FALSE(ClaimWins(a1, a1));  // A strict order: never both ways.
}

TEST(DirectoryTest, ResolveGivesTheRealPidOfTheMember) {
  Directory d;
  d.Upsert(Member("b", 7, 3, {Name("counter", 42, 100)}));
  EXPECT_THAT(d.Resolve("counter"), Optional(::testing::Field(&NameClaim::pid, 42u)));
  std::string node, endpoint;
  ASSERT_TRUE(d.Lookup("counter", &node, &endpoint));
  EXPECT_EQ(node, "b");
  EXPECT_EQ(endpoint, "tcp://127.0.0.1:1b");
  EXPECT_FALSE(d.Resolve("nothing"));
}

TEST(DirectoryTest, EveryOrderOfClaimsResolvesToTheSameWinner) {
  // The same two claims, learnt in either order, give the same answer: the
  // older registration, whichever node it is on.
  for (bool b_first : {false, true}) {
    Directory d;
    const auto b = Member("b", 1, 1, {Name("leader", 5, 200)});
    const auto c = Member("c", 1, 1, {Name("leader", 6, 100)});
    d.Upsert(b_first ? b : c);
    d.Upsert(b_first ? c : b);
    EXPECT_THAT(d.NodeOfName("leader"), Optional(std::string("c"))) << b_first;
    // The winner leaves: the other claim is the answer.
    d.Remove("c");
    EXPECT_THAT(d.NodeOfName("leader"), Optional(std::string("b")));
  }
}

TEST(DirectoryTest, DeltasApplyInOrderAndAGapIsReported) {
  Directory d;
  d.Upsert(Member("b", 7, 3, {Name("x", 1, 10)}));
  EXPECT_EQ(d.ApplyNamesChanged(Delta("b", 7, 4, {Name("y", 2, 20)}, {"x"})),
            Directory::Delta::kApplied);
  EXPECT_FALSE(d.Resolve("x"));
  EXPECT_TRUE(d.Resolve("y"));
  EXPECT_EQ(d.ApplyNamesChanged(Delta("b", 7, 4, {Name("z", 3, 30)}, {})),
            Directory::Delta::kStale);
  EXPECT_FALSE(d.Resolve("z"));
  EXPECT_EQ(d.ApplyNamesChanged(Delta("b", 7, 6, {Name("z", 3, 30)}, {})),
            Directory::Delta::kGap);
  EXPECT_FALSE(d.Resolve("z"));  // Nothing of a delta after a gap is applied.
  // Another incarnation's delta, or a stranger's, is not this member's.
  EXPECT_EQ(d.ApplyNamesChanged(Delta("b", 8, 5, {Name("z", 3, 30)}, {})),
            Directory::Delta::kUnknown);
  EXPECT_EQ(d.ApplyNamesChanged(Delta("q", 1, 2, {Name("z", 3, 30)}, {})),
            Directory::Delta::kUnknown);
  EXPECT_FALSE(d.Resolve("z"));
}

TEST(DirectoryTest, UpsertReplacesNamesAndReportsARestart) {
  Directory d;
  EXPECT_EQ(d.Upsert(Member("b", 7, 2, {Name("x", 1, 10)})), std::nullopt);
  EXPECT_EQ(d.Upsert(Member("b", 7, 3, {Name("y", 2, 20)})), std::nullopt);
  EXPECT_FALSE(d.Resolve("x"));
  EXPECT_THAT(d.Upsert(Member("b", 8, 1)), Optional(7u));
  EXPECT_FALSE(d.Resolve("y"));
  EXPECT_THAT(d.ConnectedNodes(), ElementsAre("b"));
}

TEST(DirectoryTest, ReplaceAllIsExactlyTheGivenView) {
  Directory d;
  d.Upsert(Member("old", 1, 1, {Name("gone", 1, 1)}));
  d.ReplaceAll({Member("a", 1, 1, {Name("x", 1, 1)}), Member("b", 1, 1, {Name("x", 2, 0)})});
  EXPECT_THAT(d.ConnectedNodes(), ElementsAre("a", "b"));
  EXPECT_FALSE(d.Resolve("gone"));
  EXPECT_THAT(d.NodeOfName("x"), Optional(std::string("b")));  // Older claim.
}

TEST(DirectoryTest, AwaitChangeWakesOnAChangeFromAnotherThread) {
  Directory d;
  const uint64_t seen = d.version();
  std::thread t([&] { d.Upsert(Member("b", 1, 1)); });
  d.AwaitChange(seen, absl::InfiniteFuture());  // Returns only on the change.
  EXPECT_NE(d.version(), seen);
  t.join();
}

TEST(DirectoryTest, SnapshotWithoutNamesCarriesNoNames) {
  Directory d;
  d.Upsert(Member("b", 1, 4, {Name("x", 1, 1)}));
  std::vector<wire::NodeEntry> bare = d.Snapshot(/*with_names=*/false);
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_EQ(bare[0].names_size(), 0);
  std::vector<wire::NodeEntry> full = d.Snapshot(/*with_names=*/true);
  ASSERT_EQ(full.size(), 1u);
  EXPECT_EQ(full[0].names_size(), 1);
  EXPECT_EQ(full[0].names_version(), 4u);
}

}  // namespace
}  // namespace polis::internal
