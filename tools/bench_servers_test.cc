// tools/bench_servers_test.cc — the benchmark's servers count what they
// claim: a CastLoop's casts are all confirmed by the sink through its
// sliding window (including a count that is not a multiple of the window),
// and a CallLoop records one latency per call to an echo server; loops
// send payloads of the size they are given; CastLoops with sinks of their
// own (`bench scale`'s pairs) each get their own acks, and their counts add
// up in one LoopResult.
#include "tools/bench_servers.h"

#include <atomic>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "examples/echo.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"
#include "tools/bench_remote_setup.h"

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

// Records the size of the last BytesValue it was called or cast with; like
// Sink, a call answers the casts counted so far and a UInt64Value cast (a
// mark) is acked to `ack_to`.
class SizeRecorder : public GenServer {
 public:
  SizeRecorder(std::atomic<int64_t>* last_size, std::string ack_to)
      : last_size_(last_size), ack_to_(std::move(ack_to)) {
    AcceptAnyCall();
    AcceptAnyCast();
  }
  Task<absl::StatusOr<Reply>> HandleCall(const Message& request, const From&) override {
    Record(request);
    co_return Count(casts_);
  }
  Task<absl::Status> HandleCast(const Message& message) override {
    if (message.Is<google::protobuf::UInt64Value>()) {
      absl::StatusOr<google::protobuf::UInt64Value> mark =
          message.As<google::protobuf::UInt64Value>();
      co_return mark.ok() ? Cast(ack_to_, *mark) : mark.status();
    }
    Record(message);
    ++casts_;
    co_return absl::OkStatus();
  }

 private:
  void Record(const Message& m) {
    if (absl::StatusOr<google::protobuf::BytesValue> v = m.As<google::protobuf::BytesValue>();
        v.ok()) {
      *last_size_ = static_cast<int64_t>(v->value().size());
    }
  }
  std::atomic<int64_t>* last_size_;
  const std::string ack_to_;
  int64_t casts_ = 0;
};

TEST(BenchServersTest, LoopsSendPayloadsOfTheSizeTheyAreGiven) {
  EXPECT_EQ(BenchPayload().value().size(), static_cast<size_t>(kPayloadBytes));
  EXPECT_EQ(BenchPayload(5 << 20).value().size(), 5u << 20);
  std::unique_ptr<Node> node = NodeWithSink();
  std::atomic<int64_t> call_size{-1}, cast_size{-1};
  ASSERT_THAT(node->Spawn(std::make_unique<SizeRecorder>(&call_size, ""), {.name = "calls"}),
              IsOk());
  ASSERT_THAT(node->Spawn(std::make_unique<SizeRecorder>(&cast_size, "loop"), {.name = "casts"}),
              IsOk());
  LoopResult calls(1);
  EXPECT_THAT(RunLoops(*node, calls, 1, 3,
                       [&](int) {
                         return std::make_unique<CallLoop>("calls", &calls, 0,
                                                           /*payload_bytes=*/300'000);
                       }),
              IsOk());
  EXPECT_EQ(call_size.load(), 300'000);
  // 7 casts of 70,000 bytes in windows of 3 (the last one short).
  LoopResult casts(1);
  EXPECT_THAT(RunLoops(
                  *node, casts, 1, 7,
                  [&](int) {
                    return std::make_unique<CastLoop>("casts", &casts, 2,
                                                      /*payload_bytes=*/70'000, /*window=*/3);
                  },
                  [](int) { return std::string("loop"); }),
              IsOk());
  EXPECT_EQ(casts.confirmed, 7);
  EXPECT_EQ(cast_size.load(), 70'000);
  node->Shutdown();
}

TEST(BenchServersTest, PairsWithSinksOfTheirOwnAddUpInOneResult) {
  auto node = StartNode({.name = "bench-pairs-test"});
  ASSERT_THAT(node, IsOk());
  constexpr int kPairs = 3;
  LoopResult result(kPairs);
  std::vector<Pid> loops;
  for (int i = 0; i < kPairs; ++i) {
    const std::string loop_name = absl::StrCat("loop-", i);
    ASSERT_THAT((*node)->Spawn(std::make_unique<Sink>(loop_name), {.name = absl::StrCat("s-", i)}),
                IsOk());
    absl::StatusOr<Pid> loop =
        (*node)->Spawn(std::make_unique<CastLoop>(absl::StrCat("s-", i), &result, 1,
                                                  kPayloadBytes, /*window=*/100),
                       {.name = loop_name});
    ASSERT_THAT(loop, IsOk());
    loops.push_back(*loop);
  }
  // Different counts: each loop finishes on its own sink's acks alone.
  for (int i = 0; i < kPairs; ++i) {
    ASSERT_THAT((*node)->Cast(loops[i], Count(1000 * (i + 1) + 1)), IsOk());
  }
  result.done.Wait();
  {
    absl::MutexLock lock(&result.mu);
    EXPECT_THAT(result.error, IsOk());
    EXPECT_EQ(result.confirmed, 1001 + 2001 + 3001);
    EXPECT_GT(result.elapsed_us, 0);
  }
  (*node)->Shutdown();
}

}  // namespace
}  // namespace polis::tools
