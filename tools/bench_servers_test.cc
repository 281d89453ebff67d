// tools/bench_servers_test.cc — the benchmark's servers count what they
// claim: a CastLoop's casts are all confirmed by the sink through its
// sliding window (including a count that is not a multiple of the window),
// and a CallLoop records one latency per call to an echo server.
#include "tools/bench_servers.h"

#include <memory>
#include <utility>

#include "examples/echo.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"

namespace polis::tools {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::StartNode;

std::unique_ptr<Node> NodeWithSink() {
  auto node = StartNode({.name = "bench-test"});
  EXPECT_THAT(node, IsOk());
  EXPECT_THAT((*node)->Spawn(std::make_unique<Sink>(), {.name = "sink"}), IsOk());
  return std::move(*node);
}

TEST(BenchServersTest, CastLoopGetsEveryCastConfirmedThroughItsWindows) {
  std::unique_ptr<Node> node = NodeWithSink();
  for (auto [n, windows] : {std::pair<int64_t, uint64_t>{1, 2}, {25'001, 1}, {25'001, 2}}) {
    LoopResult result(1);
    absl::StatusOr<Pid> loop = node->Spawn(std::make_unique<CastLoop>("sink", &result, windows),
                                           {.name = kCastLoopName});
    ASSERT_THAT(loop, IsOk());
    ASSERT_THAT(node->Cast(*loop, Count(n)), IsOk());
    result.done.Wait();
    ASSERT_THAT(node->Stop(*loop), IsOk());
    absl::MutexLock lock(&result.mu);
    EXPECT_THAT(result.error, IsOk());
    EXPECT_EQ(result.confirmed, n);
    EXPECT_GT(result.elapsed_us, 0);
  }
  node->Shutdown();
}

TEST(BenchServersTest, CallLoopRecordsOneLatencyPerCall) {
  std::unique_ptr<Node> node = NodeWithSink();
  ASSERT_THAT(node->Spawn(std::make_unique<examples::Echo>(), {.name = "pong"}), IsOk());
  LoopResult result(1);
  result.latencies_us.resize(1);
  absl::StatusOr<Pid> loop = node->Spawn(std::make_unique<CallLoop>("pong", &result, 0));
  ASSERT_THAT(loop, IsOk());
  ASSERT_THAT(node->Cast(*loop, Count(500)), IsOk());
  result.done.Wait();
  absl::MutexLock lock(&result.mu);
  EXPECT_THAT(result.error, IsOk());
  EXPECT_EQ(result.latencies_us[0].size(), 500u);
  node->Shutdown();
}

// Throughput runs leave latencies_us empty: the loops still finish (a failed
// call would be recorded) and time nothing.
TEST(BenchServersTest, CallLoopWithoutLatenciesStillFinishesAndReports) {
  std::unique_ptr<Node> node = NodeWithSink();
  ASSERT_THAT(node->Spawn(std::make_unique<examples::Echo>(), {.name = "pong"}), IsOk());
  LoopResult result(2);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<Pid> loop = node->Spawn(std::make_unique<CallLoop>("pong", &result, i));
    ASSERT_THAT(loop, IsOk());
    ASSERT_THAT(node->Cast(*loop, Count(300)), IsOk());
  }
  result.done.Wait();
  absl::MutexLock lock(&result.mu);
  EXPECT_THAT(result.error, IsOk());
  EXPECT_TRUE(result.latencies_us.empty());
  node->Shutdown();
}

}  // namespace
}  // namespace polis::tools
