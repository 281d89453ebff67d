// telemetry/otlp_http_sink_test.cc — the OTLP/HTTP sink against a collector
// in the test: what arrives, retries, giving up, a collector that is down
// or hangs.
#include "telemetry/otlp_http_sink.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "telemetry/otlp_json.h"
#include "telemetry/otlp_test_collector.h"
#include "telemetry/otlp_test_util.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis::telemetry {
namespace {

using ::polis::telemetry::testing::DeadPort;
using ::polis::telemetry::testing::ParseOtlpJson;
using ::polis::telemetry::testing::TestCollector;
using ::polis::testing::IsOk;
using ::polis::testing::StatusIs;
using ::polis::testing::WaitFor;
using ::testing::SizeIs;

OtlpJson Batch(int spans, uint64_t first_id = 1) {
  std::vector<wire::Span> v;
  for (int i = 0; i < spans; ++i) {
    wire::Span s;
    s.set_trace_id(std::string(16, '\x42'));
    s.set_span_id(first_id + i);
    s.set_kind(wire::SPAN_KIND_CALL);
    s.set_node("a");
    s.set_server("counter");
    v.push_back(s);
  }
  return EncodeOtlpJson(v);
}

// Fast retries, so that the tests take milliseconds.
OtlpHttpOptions FastOptions() {
  OtlpHttpOptions o;
  o.initial_backoff = absl::Milliseconds(5);
  o.max_backoff = absl::Milliseconds(20);
  o.connect_timeout = absl::Milliseconds(500);
  o.read_timeout = absl::Milliseconds(500);
  return o;
}

TEST(OtlpHttpSinkTest, CreateRefusesABadEndpoint) {
  EXPECT_THAT(OtlpHttpSink::Create("http://h:99999").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(OtlpHttpSinkTest, PostsJsonToV1Traces) {
  TestCollector collector;
  ASSERT_TRUE(collector.listening());
  absl::StatusOr<std::unique_ptr<OtlpHttpSink>> sink =
      OtlpHttpSink::Create(collector.endpoint(), FastOptions());
  ASSERT_THAT(sink, IsOk());
  (*sink)->Export(Batch(3));
  ASSERT_TRUE(WaitFor([&] { return (*sink)->stats().exported_spans == 3; }));
  std::vector<TestCollector::Request> got = collector.requests();
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].path, "/v1/traces");
  EXPECT_EQ(got[0].content_type, "application/json");
  absl::StatusOr<std::vector<testing::OtlpTestSpan>> spans = ParseOtlpJson(got[0].body);
  ASSERT_THAT(spans, IsOk());
  EXPECT_THAT(*spans, SizeIs(3));
  SinkStats s = (*sink)->stats();
  EXPECT_EQ(s.dropped_spans, 0u);
  EXPECT_EQ(s.failed_requests, 0u);
  EXPECT_EQ(s.retries, 0u);
}

TEST(OtlpHttpSinkTest, RetriesUnavailableThenDelivers) {
  TestCollector collector;
  collector.AnswerWith([](int n) { return n < 3 ? 503 : 200; });
  absl::StatusOr<std::unique_ptr<OtlpHttpSink>> sink =
      OtlpHttpSink::Create(collector.endpoint(), FastOptions());
  ASSERT_THAT(sink, IsOk());
  (*sink)->Export(Batch(5));
  ASSERT_TRUE(WaitFor([&] { return (*sink)->stats().exported_spans == 5; }));
  SinkStats s = (*sink)->stats();
  EXPECT_EQ(s.failed_requests, 3u);
  EXPECT_EQ(s.retries, 3u);
  EXPECT_EQ(s.dropped_spans, 0u);
  std::vector<TestCollector::Request> got = collector.requests();
  ASSERT_THAT(got, SizeIs(4));
  for (const TestCollector::Request& r : got) EXPECT_EQ(r.body, got[0].body);
}

TEST(OtlpHttpSinkTest, RetriesTooManyRequestsAndGatewayErrors) {
  TestCollector collector;
  collector.AnswerWith([](int n) {
    static constexpr int kAnswers[] = {429, 502, 504, 200};
    return kAnswers[std::min(n, 3)];
  });
  absl::StatusOr<std::unique_ptr<OtlpHttpSink>> sink =
      OtlpHttpSink::Create(collector.endpoint(), FastOptions());
  ASSERT_THAT(sink, IsOk());
  (*sink)->Export(Batch(2));
  ASSERT_TRUE(WaitFor([&] { return (*sink)->stats().exported_spans == 2; }));
  EXPECT_EQ((*sink)->stats().retries, 3u);
}

TEST(OtlpHttpSinkTest, GivesUpOnOtherClientErrors) {
  TestCollector collector;
  collector.AnswerWith([](int n) { return n == 0 ? 400 : 200; });
  absl::StatusOr<std::unique_ptr<OtlpHttpSink>> sink =
      OtlpHttpSink::Create(collector.endpoint(), FastOptions());
  ASSERT_THAT(sink, IsOk());
  (*sink)->Export(Batch(4));
  ASSERT_TRUE(WaitFor([&] { return (*sink)->stats().dropped_spans == 4; }));
  (*sink)->Export(Batch(1, 100));  // The next batch goes through.
  ASSERT_TRUE(WaitFor([&] { return (*sink)->stats().exported_spans == 1; }));
  SinkStats s = (*sink)->stats();
  EXPECT_EQ(s.failed_requests, 1u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_THAT(collector.requests(), SizeIs(2));
}

TEST(OtlpHttpSinkTest, CollectorDownDropsOldestAndStaysBounded) {
  DeadPort dead;
  OtlpHttpOptions o = FastOptions();
  o.max_queued_batches = 4;
  absl::StatusOr<std::unique_ptr<OtlpHttpSink>> sink = OtlpHttpSink::Create(dead.endpoint(), o);
  ASSERT_THAT(sink, IsOk());
  for (int i = 0; i < 50; ++i) {
    (*sink)->Export(Batch(10, 1 + i * 10));
    EXPECT_LE((*sink)->stats().queued_batches, 4u);
  }
  // 50 batches: at most 4 queued and 1 in flight; the rest were dropped.
  SinkStats s = (*sink)->stats();
  EXPECT_GE(s.dropped_spans, 450u);
  ASSERT_TRUE(WaitFor([&] { return (*sink)->stats().retries >= 2; }));
  (*sink)->Close();
  s = (*sink)->stats();
  EXPECT_EQ(s.exported_spans, 0u);
  EXPECT_EQ(s.dropped_spans, 500u) << "every span is accounted for after Close";
  EXPECT_EQ(s.queued_batches, 0u);
  EXPECT_GE(s.failed_requests, 2u);
}

TEST(OtlpHttpSinkTest, HungCollectorNeverBlocksExport) {
  TestCollector collector;
  collector.Hold();
  OtlpHttpOptions o = FastOptions();
  o.max_queued_batches = 2;
  o.read_timeout = absl::Milliseconds(200);
  absl::StatusOr<std::unique_ptr<OtlpHttpSink>> sink =
      OtlpHttpSink::Create(collector.endpoint(), o);
  ASSERT_THAT(sink, IsOk());
  (*sink)->Export(Batch(1));
  ASSERT_TRUE(collector.WaitForRequests(1));  // The sender is stuck in a request now.
  for (int i = 0; i < 20; ++i) (*sink)->Export(Batch(1, 10 + i));
  SinkStats s = (*sink)->stats();
  EXPECT_EQ(s.queued_batches, 2u);
  EXPECT_EQ(s.dropped_spans, 18u);
  // The request times out and is retried; once the collector answers,
  // what is queued arrives.
  ASSERT_TRUE(WaitFor([&] { return (*sink)->stats().failed_requests >= 1; }));
  collector.Release();
  ASSERT_TRUE(WaitFor([&] { return (*sink)->stats().exported_spans == 3; }));
}

TEST(OtlpHttpSinkTest, CloseDeliversWhatIsQueued) {
  TestCollector collector;
  absl::StatusOr<std::unique_ptr<OtlpHttpSink>> sink =
      OtlpHttpSink::Create(collector.endpoint(), FastOptions());
  ASSERT_THAT(sink, IsOk());
  for (int i = 0; i < 10; ++i) (*sink)->Export(Batch(2, 1 + 2 * i));
  (*sink)->Close();
  SinkStats s = (*sink)->stats();
  EXPECT_EQ(s.exported_spans, 20u);
  EXPECT_EQ(s.dropped_spans, 0u);
  (*sink)->Export(Batch(1, 100));  // After Close: dropped, counted.
  EXPECT_EQ((*sink)->stats().dropped_spans, 1u);
}

TEST(OtlpHttpSinkTest, CloseGivesUpAtTheFirstFailure) {
  DeadPort dead;
  OtlpHttpOptions o = FastOptions();
  o.initial_backoff = absl::Seconds(30);  // Close must not wait for it.
  o.max_backoff = absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<OtlpHttpSink>> sink = OtlpHttpSink::Create(dead.endpoint(), o);
  ASSERT_THAT(sink, IsOk());
  for (int i = 0; i < 5; ++i) (*sink)->Export(Batch(1, 1 + i));
  ASSERT_TRUE(WaitFor([&] { return (*sink)->stats().failed_requests >= 1; }));
  const absl::Time start = absl::Now();
  (*sink)->Close();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  SinkStats s = (*sink)->stats();
  EXPECT_EQ(s.dropped_spans, 5u);
  EXPECT_EQ(s.exported_spans, 0u);
}

}  // namespace
}  // namespace polis::telemetry
