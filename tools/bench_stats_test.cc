// tools/bench_stats_test.cc — the statistics the benchmarks report.
#include "tools/bench_stats.h"

#include <vector>

#include "gtest/gtest.h"

namespace polis::tools {
namespace {

TEST(BenchStatsTest, PercentileAndMedian) {
  std::vector<double> v = {5, 1, 4, 2, 3};
  EXPECT_EQ(Percentile(v, 0.0), 1);
  EXPECT_EQ(Percentile(v, 1.0), 5);
  EXPECT_EQ(Median({5, 1, 4, 2, 3}), 3);
  EXPECT_EQ(Median({}), 0);
}

TEST(BenchStatsTest, MedianRatioPairsRoundsInsteadOfDividingMedians) {
  // Round ratios 0.9, 0.5, 1.0: median 0.9. Dividing the medians instead
  // (100 / 100) would say 1.0.
  const std::vector<double> polis = {90, 200, 100};
  const std::vector<double> zmq = {100, 400, 100};
  EXPECT_DOUBLE_EQ(MedianRatio(polis, zmq), 0.9);
  EXPECT_DOUBLE_EQ(MedianRatio({1, 3, 10}, {2, 2, 2}), 1.5);
}

TEST(BenchStatsTest, MedianRatioSkipsZeroDenominatorsAndUnpairedValues) {
  EXPECT_DOUBLE_EQ(MedianRatio({1, 2, 9}, {0, 4}), 0.5);
  EXPECT_EQ(MedianRatio({}, {}), 0);
}

}  // namespace
}  // namespace polis::tools
