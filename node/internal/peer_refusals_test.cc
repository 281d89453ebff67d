// node/internal/peer_refusals_test.cc — the per-peer refusal table: counts
// by label and reason, a hard bound, a quiet label giving way.
#include "node/internal/peer_refusals.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace polis::internal {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST(PeerRefusalsTest, CountsByPeerAndReasonSortedWithOtherLast) {
  PeerRefusals t;
  t.Count("addr:10.0.0.7", BadInputReason::kFraming, kT0);
  t.Count("addr:10.0.0.7", BadInputReason::kFraming, kT0);
  t.Count("b", BadInputReason::kRefused, kT0);
  t.Count("", BadInputReason::kOther, kT0);  // No label: "other".
  const auto all = t.Snapshot();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].peer, "addr:10.0.0.7");
  EXPECT_EQ(all[0].by_reason[static_cast<size_t>(BadInputReason::kFraming)], 2u);
  EXPECT_EQ(all[0].total(), 2u);
  EXPECT_EQ(all[1].peer, "b");
  EXPECT_EQ(all[1].by_reason[static_cast<size_t>(BadInputReason::kRefused)], 1u);
  EXPECT_EQ(all[2].peer, PeerRefusals::kOther);
  EXPECT_EQ(all[2].total(), 1u);
}

TEST(PeerRefusalsTest, InventedPeersCannotGrowTheTable) {
  PeerRefusals t;
  constexpr int kPeers = 10'000;
  for (int i = 0; i < kPeers; ++i) {
    t.Count(absl::StrCat("addr:10.0.", i / 256, ".", i % 256), BadInputReason::kFraming, kT0);
  }
  const auto all = t.Snapshot();
  ASSERT_EQ(all.size(), PeerRefusals::kMaxPeers + 1);
  EXPECT_EQ(all.back().peer, PeerRefusals::kOther);
  EXPECT_EQ(all.back().total(), kPeers - PeerRefusals::kMaxPeers);
  uint64_t sum = 0;
  for (const auto& e : all) sum += e.total();
  EXPECT_EQ(sum, static_cast<uint64_t>(kPeers));  // Nothing lost.
}

TEST(PeerRefusalsTest, AQuietPeerGivesWayAndItsCountsMoveToOther) {
  PeerRefusals t;
  t.Count("quiet", BadInputReason::kVersion, kT0);
  for (size_t i = 1; i < PeerRefusals::kMaxPeers; ++i) {
    t.Count(absl::StrCat("p", i), BadInputReason::kFraming, kT0 + PeerRefusals::kIdle);
  }
  // Full; the newcomer before "quiet" has been quiet long enough: other.
  t.Count("new", BadInputReason::kFraming, kT0 + PeerRefusals::kIdle / 2);
  auto all = t.Snapshot();
  EXPECT_EQ(all.back().peer, PeerRefusals::kOther);
  EXPECT_EQ(all.back().total(), 1u);
  // Later it has: "quiet" goes, its count with other.
  t.Count("new", BadInputReason::kFraming, kT0 + PeerRefusals::kIdle);
  all = t.Snapshot();
  ASSERT_EQ(all.size(), PeerRefusals::kMaxPeers + 1);
  EXPECT_EQ(all.back().total(), 2u);
  EXPECT_EQ(all.back().by_reason[static_cast<size_t>(BadInputReason::kVersion)], 1u);
  bool has_new = false, has_quiet = false;
  for (const auto& e : all) {
    has_new |= e.peer == "new";
    has_quiet |= e.peer == "quiet";
  }
  EXPECT_TRUE(has_new);
  EXPECT_FALSE(has_quiet);
}

}  // namespace
}  // namespace polis::internal
