// tools/trace_view_test.cc — `polis trace` without a cluster: the tree,
// the waterfall, the JSON and the --last listing, from hand-built spans.
#include "tools/trace_view.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tools/trace_command.h"

namespace polis::tools {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;  // Unix nanos.

TraceId Id(char fill) {
  absl::StatusOr<TraceId> id = TraceId::FromHex(std::string(32, fill));
  EXPECT_THAT(id, IsOk());
  return id.ok() ? *id : TraceId();
}

wire::Span MakeSpan(uint64_t id, uint64_t parent, const std::string& node, const std::string& server,
                    wire::SpanKind kind, int64_t start_us, int64_t end_us, int32_t code = 0,
                    const std::string& message = "") {
  wire::Span s;
  s.set_trace_id(std::string(Id('a').view()));
  s.set_span_id(id);
  s.set_parent_span_id(parent);
  s.set_node(node);
  s.set_server(server);
  s.set_kind(kind);
  s.set_start_unix_nano(kT0 + start_us * 1000);
  s.set_end_unix_nano(kT0 + end_us * 1000);
  s.set_status_code(code);
  s.set_status_message(message);
  return s;
}

// relay_a (a) -> relay_b (b) -> counter_c (c), called by a client whose
// own reply span (id 0x99) is not among them. Given out of order, as the
// nodes' answers would mix them.
std::vector<wire::Span> RelaySpans() {
  return {
      MakeSpan(5, 4, "c", "counter_c", wire::SPAN_KIND_CALL, 600, 680),
      MakeSpan(2, 1, "a", "relay_b", wire::SPAN_KIND_REPLY, 50, 2350),
      MakeSpan(1, 0x99, "a", "relay_a", wire::SPAN_KIND_CALL, 0, 2400),
      MakeSpan(4, 3, "b", "counter_c", wire::SPAN_KIND_REPLY, 350, 1550),
      MakeSpan(3, 2, "b", "relay_b", wire::SPAN_KIND_CALL, 300, 2200),
  };
}

std::vector<std::pair<uint64_t, int>> IdsAndDepths(const std::vector<TreeSpan>& tree) {
  std::vector<std::pair<uint64_t, int>> out;
  for (const TreeSpan& t : tree) out.emplace_back(t.span.span_id(), t.depth);
  return out;
}

TEST(ArrangeTraceTest, ParentLinksMakeTheTreeAndAnUnknownParentMakesARoot) {
  EXPECT_THAT(IdsAndDepths(ArrangeTrace(RelaySpans())),
              ElementsAre(std::pair<uint64_t, int>{1, 0}, std::pair<uint64_t, int>{2, 1},
                          std::pair<uint64_t, int>{3, 2}, std::pair<uint64_t, int>{4, 3},
                          std::pair<uint64_t, int>{5, 4}));
}

TEST(ArrangeTraceTest, ChildrenAndRootsAreSortedByStartTime) {
  std::vector<wire::Span> spans = {
      MakeSpan(10, 0, "a", "late_root", wire::SPAN_KIND_CAST, 500, 600),
      MakeSpan(11, 0, "a", "root", wire::SPAN_KIND_CALL, 0, 1000),
      MakeSpan(12, 11, "b", "second", wire::SPAN_KIND_CAST, 300, 400),
      MakeSpan(13, 11, "b", "first", wire::SPAN_KIND_CAST, 100, 900),
      MakeSpan(14, 13, "c", "grandchild", wire::SPAN_KIND_INFO, 150, 200),
  };
  EXPECT_THAT(IdsAndDepths(ArrangeTrace(spans)),
              ElementsAre(std::pair<uint64_t, int>{11, 0}, std::pair<uint64_t, int>{13, 1},
                          std::pair<uint64_t, int>{14, 2}, std::pair<uint64_t, int>{12, 1},
                          std::pair<uint64_t, int>{10, 0}));
}

TEST(ArrangeTraceTest, DuplicatesAreKeptOnceAndCyclesAreStillShown) {
  std::vector<wire::Span> spans = RelaySpans();
  spans.push_back(spans[0]);  // The same span twice (same node and id).
  EXPECT_EQ(ArrangeTrace(spans).size(), 5u);
  // 7 and 8 are each other's parent: both shown, the earlier as a root.
  std::vector<wire::Span> cycle = {MakeSpan(7, 8, "a", "x", wire::SPAN_KIND_CALL, 10, 20),
                                   MakeSpan(8, 7, "a", "y", wire::SPAN_KIND_CALL, 0, 30),
                                   MakeSpan(9, 9, "a", "self", wire::SPAN_KIND_CALL, 40, 50)};
  EXPECT_THAT(IdsAndDepths(ArrangeTrace(cycle)),
              ElementsAre(std::pair<uint64_t, int>{9, 0}, std::pair<uint64_t, int>{8, 0},
                          std::pair<uint64_t, int>{7, 1}));
}

TEST(FormatNanosTest, ThreeSignificantDigitsInTheLargestFittingUnit) {
  EXPECT_EQ(FormatNanos(0), "0ns");
  EXPECT_EQ(FormatNanos(830), "830ns");
  EXPECT_EQ(FormatNanos(5200), "5.20\u00b5s");
  EXPECT_EQ(FormatNanos(52'000), "52.0\u00b5s");
  EXPECT_EQ(FormatNanos(999'700), "1.00ms");
  EXPECT_EQ(FormatNanos(2'410'000), "2.41ms");
  EXPECT_EQ(FormatNanos(1'500'000'000), "1.50s");
  EXPECT_EQ(FormatNanos(3'600'000'000'000), "3600s");
  EXPECT_EQ(FormatNanos(-1'200'000), "-1.20ms");
}

// The waterfall's lines, without the title line and the header.
std::vector<std::string> Rows(const std::string& waterfall) {
  std::vector<std::string> lines = absl::StrSplit(waterfall, '\n', absl::SkipEmpty());
  EXPECT_GE(lines.size(), 2u) << waterfall;
  if (lines.size() < 2) return {};
  return std::vector<std::string>(lines.begin() + 2, lines.end());
}

TEST(WaterfallTest, IndentsTheTreeAndDrawsBarsInProportion) {
  const std::string w = FormatWaterfall(Id('a'), ArrangeTrace(RelaySpans()), /*bar_width=*/24);
  EXPECT_THAT(w, ::testing::StartsWith(
                     "trace aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 5 spans on 3 nodes, 2.40ms, OK\n"
                     "SPAN"))
      << w;
  EXPECT_THAT(w, HasSubstr("WATERFALL 2.40ms")) << w;
  const std::vector<std::string> rows = Rows(w);
  ASSERT_EQ(rows.size(), 5u) << w;
  EXPECT_THAT(rows[0], ::testing::StartsWith("relay_a ")) << w;
  EXPECT_THAT(rows[1], ::testing::StartsWith("  -> relay_b ")) << w;
  EXPECT_THAT(rows[2], ::testing::StartsWith("    relay_b ")) << w;
  EXPECT_THAT(rows[3], ::testing::StartsWith("      -> counter_c ")) << w;
  EXPECT_THAT(rows[4], ::testing::StartsWith("        counter_c ")) << w;
  // The root spans the whole trace; counter_c (600-680 µs of 2400) is one
  // cell, six cells in.
  const std::string full = "|" + [] {
    std::string s;
    for (int i = 0; i < 24; ++i) s += "\u2588";
    return s;
  }() + "|";
  EXPECT_THAT(rows[0], HasSubstr(full)) << w;
  EXPECT_THAT(rows[4], HasSubstr("|      \u2588                 |")) << w;
  EXPECT_THAT(rows[0], ::testing::MatchesRegex("relay_a +a +call +\\+0ns .*")) << w;
  EXPECT_THAT(rows[1], ::testing::MatchesRegex("  -> relay_b +a +reply .*")) << w;
  EXPECT_THAT(rows[4], ::testing::MatchesRegex("        counter_c +c +call .*")) << w;
  // Offsets from the first span, durations; OK at the end of each line.
  EXPECT_THAT(rows[0], HasSubstr("+0ns")) << w;
  EXPECT_THAT(rows[4], HasSubstr("+600\u00b5s")) << w;
  EXPECT_THAT(rows[4], HasSubstr("80.0\u00b5s")) << w;
  for (const std::string& row : rows) EXPECT_THAT(row, ::testing::EndsWith("|  OK")) << w;
}

TEST(WaterfallTest, ColumnsLineUpAndErrorsShowTheirCodeAndMessage) {
  std::vector<wire::Span> spans = RelaySpans();
  spans[0].set_status_code(static_cast<int>(absl::StatusCode::kNotFound));
  spans[0].set_status_message("no server named \"counter_c\"\nsecond line");
  const std::string w = FormatWaterfall(Id('a'), ArrangeTrace(spans));
  EXPECT_THAT(w, HasSubstr("5 spans on 3 nodes, 2.40ms, 1 error\n")) << w;
  const std::vector<std::string> rows = Rows(w);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_THAT(rows[4], ::testing::EndsWith("NOT_FOUND: no server named \"counter_c\" second line"));
  // Every bar starts in the same column (counted in characters, not bytes).
  auto bar_column = [](const std::string& line) {
    size_t chars = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '|') return chars;
      chars += (static_cast<unsigned char>(line[i]) & 0xC0) != 0x80;
    }
    return std::string::npos;
  };
  for (const std::string& row : rows) EXPECT_EQ(bar_column(row), bar_column(rows[0])) << w;
}

TEST(WaterfallTest, UnnamedProcessesShowTheirNodeAndPid) {
  wire::Span s = MakeSpan(1, 0, "b", "", wire::SPAN_KIND_INFO, 0, 10);
  s.set_server_pid(7);
  wire::Span r = MakeSpan(2, 1, "b", "", wire::SPAN_KIND_REPLY, 1, 9);
  r.set_server_pid(3);
  r.set_peer_node("c");
  const std::vector<std::string> rows = Rows(FormatWaterfall(Id('a'), ArrangeTrace({s, r})));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[0], ::testing::StartsWith("<b.7> "));
  EXPECT_THAT(rows[1], ::testing::StartsWith("  -> <c.3> "));
}

TEST(TraceJsonTest, SpansInTreeOrderWithHexIdsAndTimesAsStrings) {
  std::vector<wire::Span> spans = {
      MakeSpan(0x2a, 0, "a", "relay_a", wire::SPAN_KIND_CALL, 0, 5),
      MakeSpan(0xffffffffffffffff, 0x2a, "b", "q\"x", wire::SPAN_KIND_TIMER, 1, 2,
               static_cast<int>(absl::StatusCode::kDeadlineExceeded), "late")};
  EXPECT_EQ(FormatTraceJson(Id('a'), ArrangeTrace(spans)),
            R"({"trace_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","spans":[)"
            R"({"span_id":"000000000000002a","parent_span_id":"","node":"a","server":"relay_a",)"
            R"("kind":"call","start_unix_nano":"1700000000000000000",)"
            R"("end_unix_nano":"1700000000000005000","status_code":"OK","status_message":""},)"
            R"({"span_id":"ffffffffffffffff","parent_span_id":"000000000000002a","node":"b",)"
            R"("server":"q\"x","kind":"timer","start_unix_nano":"1700000000000001000",)"
            R"("end_unix_nano":"1700000000000002000","status_code":"DEADLINE_EXCEEDED",)"
            R"("status_message":"late"}]})"
            "\n");
}

TEST(TraceJsonTest, KindsAreLowercaseWords) {
  EXPECT_STREQ(SpanKindWord(wire::SPAN_KIND_CALL), "call");
  EXPECT_STREQ(SpanKindWord(wire::SPAN_KIND_CAST), "cast");
  EXPECT_STREQ(SpanKindWord(wire::SPAN_KIND_INFO), "info");
  EXPECT_STREQ(SpanKindWord(wire::SPAN_KIND_TIMER), "timer");
  EXPECT_STREQ(SpanKindWord(wire::SPAN_KIND_REPLY), "reply");
  EXPECT_STREQ(SpanKindWord(wire::SPAN_KIND_UNSPECIFIED), "unspecified");
}

wire::TraceSummary Summary(char id, int64_t start_us, int64_t end_us, uint32_t count, bool error) {
  wire::TraceSummary t;
  t.set_trace_id(std::string(Id(id).view()));
  t.set_start_unix_nano(kT0 + start_us * 1000);
  t.set_end_unix_nano(kT0 + end_us * 1000);
  t.set_span_count(count);
  t.set_error(error);
  return t;
}

TEST(TraceListTest, SummariesAreMergedByIdAndTheMostRecentKept) {
  wire::SpanQueryReply a, b;
  *a.add_traces() = Summary('1', 0, 100, 2, false);
  *a.add_traces() = Summary('2', 50, 300, 1, false);
  *b.add_traces() = Summary('1', 20, 500, 3, true);  // Ends last, with an error.
  *b.add_traces() = Summary('3', 10, 200, 1, false);
  std::vector<wire::TraceSummary> recent = MostRecentTraces({a, b}, 2, /*errors_only=*/false);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].trace_id(), std::string(Id('1').view()));
  EXPECT_EQ(recent[0].start_unix_nano(), kT0);
  EXPECT_EQ(recent[0].end_unix_nano(), kT0 + 500'000);
  EXPECT_EQ(recent[0].span_count(), 5u);
  EXPECT_TRUE(recent[0].error());
  EXPECT_EQ(recent[1].trace_id(), std::string(Id('2').view()));

  std::vector<wire::TraceSummary> errors = MostRecentTraces({a, b}, 10, /*errors_only=*/true);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].trace_id(), std::string(Id('1').view()));
}

TEST(TraceListTest, TheSpansGiveTheRootTheExactCountAndTheFirstError) {
  std::vector<wire::Span> spans = RelaySpans();
  spans[0].set_status_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
  spans[2].set_status_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
  TraceListing l = ListTrace(Summary('a', 0, 1, 99, false), ArrangeTrace(spans));
  EXPECT_EQ(l.root_server, "relay_a");
  EXPECT_EQ(l.root_node, "a");
  EXPECT_EQ(l.span_count, 5u);
  EXPECT_TRUE(l.error);
  EXPECT_EQ(l.status_code, "INVALID_ARGUMENT");
  EXPECT_EQ(l.end_unix_nano - l.start_unix_nano, 2'400'000);

  // Spans gone meanwhile: the summary's figures.
  TraceListing bare = ListTrace(Summary('b', 0, 7, 4, true), {});
  EXPECT_EQ(bare.root_server, "-");
  EXPECT_EQ(bare.span_count, 4u);
  EXPECT_EQ(bare.status_code, "ERROR");

  const absl::Time now = absl::FromUnixNanos(kT0) + absl::Seconds(3);
  const std::string table = FormatTraceList({l, bare}, /*json=*/false, now);
  EXPECT_EQ(table,
            "TRACE_ID                          ROOT     NODE  SPANS  DURATION  AGE  STATUS\n"
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  relay_a  a         5    2.40ms   2s  INVALID_ARGUMENT\n"
            "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb  -        -         4    7.00\u00b5s   2s  ERROR\n");
  EXPECT_EQ(FormatTraceList({l}, /*json=*/true, now),
            R"({"traces":[{"trace_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","root_server":"relay_a",)"
            R"("root_node":"a","span_count":5,"start_unix_nano":"1700000000000000000",)"
            R"("end_unix_nano":"1700000000002400000","error":true,)"
            R"("status_code":"INVALID_ARGUMENT"}]})"
            "\n");
}

TEST(CollectAnswersTest, NodesThatDidNotAnswerAreNotedAndTheRestKept) {
  wire::SpanQueryReply b;
  b.set_node("b");
  b.set_truncated(true);
  SpanAnswers answers;
  answers.emplace_back("a", absl::DeadlineExceededError("did not answer within 2s"));
  answers.emplace_back("b", b);
  std::string err;
  auto kept = CollectAnswers(answers, &err);
  ASSERT_THAT(kept, IsOk());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].node(), "b");
  EXPECT_THAT(err, HasSubstr("polis trace: node a did not answer (its spans are left out): "
                             "DEADLINE_EXCEEDED: did not answer within 2s\n"));
  EXPECT_THAT(err, HasSubstr("node b holds more matching spans than it sent"));

  SpanAnswers none;
  none.emplace_back("a", absl::UnavailableError("down"));
  EXPECT_THAT(CollectAnswers(none, &err),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("node a: down")));
  EXPECT_THAT(CollectAnswers({}, &err), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace polis::tools
