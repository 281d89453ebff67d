#include "node/internal/tracer.h"

#include <string>

#include "gtest/gtest.h"
#include "node/internal/letter.h"

namespace polis::internal {
namespace {

TEST(Sampler, ParsesItsThreeForms) {
  EXPECT_EQ(Sampler::Parse("always")->ToString(), "always");
  EXPECT_EQ(Sampler::Parse("never")->ToString(), "never");
  EXPECT_DOUBLE_EQ(Sampler::Parse("0.25")->ratio(), 0.25);
  EXPECT_DOUBLE_EQ(Sampler::Parse("1")->ratio(), 1.0);
  for (const char* bad : {"", "sometimes", "-0.1", "1.5", "nan", "0.5x"}) {
    EXPECT_EQ(Sampler::Parse(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Sampler, RatioSamplesAboutThatShareAndDecidesEachIdTheSameWay) {
  const Sampler half = Sampler::Ratio(0.5);
  int sampled = 0;
  for (int i = 0; i < 4000; ++i) {
    const TraceId id = NewTraceId();
    const bool first = half.Sample(id);
    EXPECT_EQ(first, half.Sample(id));
    sampled += first ? 1 : 0;
  }
  // 4000 fair coins: 2000 ± 6 sigma (190).
  EXPECT_GT(sampled, 1810);
  EXPECT_LT(sampled, 2190);
  EXPECT_TRUE(Sampler::Always().Sample(NewTraceId()));
  EXPECT_FALSE(Sampler::Never().Sample(NewTraceId()));
}

TEST(Tracer, ChildrenKeepTheTraceAndItsSampledFlag) {
  Tracer never("n", TraceOptions{.sampler = Sampler::Never()}, nullptr);
  TraceContext root = never.Root();
  EXPECT_FALSE(root.trace_id.empty());
  EXPECT_FALSE(root.sampled);
  // A trace sampled where it started is sampled here too, whatever this
  // node's own sampler says.
  TraceContext sampled_parent = root;
  sampled_parent.sampled = true;
  TraceContext child = never.Child(&sampled_parent);
  EXPECT_EQ(child.trace_id, root.trace_id);
  EXPECT_EQ(child.parent_span_id, root.span_id);
  EXPECT_NE(child.span_id, root.span_id);
  EXPECT_TRUE(child.sampled);
  // No parent, or an untraced one: a new root.
  TraceContext orphan = never.Child(nullptr);
  EXPECT_NE(orphan.trace_id, root.trace_id);
  EXPECT_EQ(orphan.parent_span_id, 0u);
}

void Put(Tracer& t, const TraceId& trace, uint64_t span, int64_t start, int32_t code = 0) {
  t.Record([&](SpanRecord& r) {
    r.trace_id = trace;
    r.span_id = span;
    r.parent_span_id = 0;
    r.kind = wire::SPAN_KIND_CAST;
    r.start_ns = start;
    r.end_ns = start + 10;
    r.server = "s";
    r.status_code = code;
  });
}

TEST(Tracer, TheStoreIsBoundedAndDropsTheOldestCountingThem) {
  Tracer t("n", TraceOptions{.max_spans = 256}, nullptr);  // one ring of 256
  const TraceId trace = NewTraceId();
  for (int i = 1; i <= 1000; ++i) Put(t, trace, i, i);
  TraceStats s = t.Stats();
  EXPECT_EQ(s.recorded, 1000u);
  EXPECT_EQ(s.stored, 256u);
  EXPECT_EQ(s.dropped, 744u);
  wire::SpanQuery q;
  q.add_trace_ids(std::string(trace.view()));
  wire::SpanQueryReply r = t.Query(q);
  ASSERT_EQ(r.spans_size(), 256);
  EXPECT_EQ(r.spans(0).span_id(), 745u);  // the newest 256 are kept
  EXPECT_EQ(r.dropped(), 744u);
  EXPECT_EQ(r.spans(0).node(), "n");
}

TEST(Tracer, AWriterWaitsForAReaderOnlyBrieflyThenDrops) {
  Tracer t("n", TraceOptions{.max_spans = 256}, nullptr);
  SpanStore store(256, 1);
  SpanRecord* r = store.ring(0).TryBegin();
  ASSERT_NE(r, nullptr);
  store.ring(0).Commit();
  int seen = 0;
  store.ring(0).Read(0, [&](const SpanRecord&, uint64_t) {
    ++seen;
    // The reader holds the ring (here: for longer than the writer waits):
    // a worker's write is refused after kWriterWait.
    const absl::Time start = absl::Now();
    EXPECT_EQ(store.ring(0).TryBegin(), nullptr);
    EXPECT_GE(absl::Now() - start, SpanRing::kWriterWait);
  });
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(store.Stats().dropped, 1u);
  EXPECT_EQ(store.Stats().recorded, 2u);
}

TEST(Tracer, SummariesListTheMostRecentTracesAndTheFailedOnes) {
  Tracer t("n", TraceOptions{}, nullptr);
  const TraceId a = NewTraceId(), b = NewTraceId(), c = NewTraceId();
  Put(t, a, 1, 100);
  Put(t, a, 2, 150);
  Put(t, b, 3, 300, /*code=*/5);
  Put(t, c, 4, 200);
  wire::SpanQuery q;
  q.set_last(2);
  wire::SpanQueryReply r = t.Query(q);
  ASSERT_EQ(r.traces_size(), 2);
  EXPECT_EQ(r.traces(0).trace_id(), std::string(b.view()));
  EXPECT_TRUE(r.traces(0).error());
  EXPECT_EQ(r.traces(1).trace_id(), std::string(c.view()));
  q.set_last(10);
  q.set_errors_only(true);
  r = t.Query(q);
  ASSERT_EQ(r.traces_size(), 1);
  EXPECT_EQ(r.traces(0).trace_id(), std::string(b.view()));
  q.Clear();
  q.add_trace_ids(std::string(a.view()));
  r = t.Query(q);
  EXPECT_EQ(r.spans_size(), 2);
}

TEST(Tracer, AReaderCursorGetsEachSpanOnceAndCountsWhatItMissed) {
  Tracer t("n", TraceOptions{.max_spans = 256}, nullptr);
  const TraceId trace = NewTraceId();
  Put(t, trace, 1, 1);
  SpanCursor cursor = t.NewCursor();  // after span 1
  for (int i = 2; i <= 11; ++i) Put(t, trace, i, i);
  std::vector<wire::Span> got = t.Read(&cursor, 4);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].span_id(), 2u);
  got = t.Read(&cursor, 100);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got.back().span_id(), 11u);
  EXPECT_TRUE(t.Read(&cursor, 100).empty());
  EXPECT_EQ(cursor.missed, 0u);
  for (int i = 12; i <= 1011; ++i) Put(t, trace, i, i);  // laps the ring
  got = t.Read(&cursor, 10000);
  EXPECT_EQ(got.size(), 256u);
  EXPECT_EQ(cursor.missed, 1000u - 256u);
}

}  // namespace
}  // namespace polis::internal
