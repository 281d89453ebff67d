// telemetry/otlp_json_test.cc — spans built by hand, encoded, and read back
// with protobuf's JSON parser.
#include "telemetry/otlp_json.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "telemetry/otlp_test_util.h"
#include "tests/status_matchers.h"

namespace polis::telemetry {
namespace {

using ::polis::testing::IsOk;
using ::polis::telemetry::testing::OtlpTestSpan;
using ::polis::telemetry::testing::ParseOtlpJson;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::SizeIs;

std::string TraceBytes(uint8_t seed) {
  std::string id(16, '\0');
  for (int i = 0; i < 16; ++i) id[i] = static_cast<char>(seed + i * 17);
  return id;
}

wire::Span MakeSpan(wire::SpanKind kind, uint64_t id, uint64_t parent, const std::string& node,
                    const std::string& server) {
  wire::Span s;
  s.set_trace_id(TraceBytes(0xa0));
  s.set_span_id(id);
  s.set_parent_span_id(parent);
  s.set_kind(kind);
  s.set_node(node);
  s.set_server(server);
  s.set_server_pid(7);
  s.mutable_sender()->set_node("client");
  s.mutable_sender()->set_pid(3);
  s.set_start_unix_nano(1'700'000'000'123'456'789);
  s.set_end_unix_nano(1'700'000'000'124'000'000);
  s.set_message_type("polis.examples.CounterRequest");
  return s;
}

bool IsLowerHex(const std::string& s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

std::vector<OtlpTestSpan> EncodeAndParse(const std::vector<wire::Span>& spans) {
  OtlpJson out = EncodeOtlpJson(spans);
  EXPECT_EQ(out.json.find('\n'), std::string::npos) << "one request is one line";
  absl::StatusOr<std::vector<OtlpTestSpan>> parsed = ParseOtlpJson(out.json);
  EXPECT_THAT(parsed, IsOk()) << out.json;
  return parsed.ok() ? *parsed : std::vector<OtlpTestSpan>{};
}

TEST(OtlpJsonTest, EmptyBatchIsAnEmptyRequest) {
  OtlpJson out = EncodeOtlpJson({});
  EXPECT_EQ(out.json, R"({"resourceSpans":[]})");
  EXPECT_EQ(out.spans, 0u);
}

TEST(OtlpJsonTest, IdsAreLowercaseHexOfTheRightLengthAndTimesAreNanosecondStrings) {
  wire::Span s = MakeSpan(wire::SPAN_KIND_CALL, 0x0123456789abcdefull, 0xfedcba9876543210ull,
                          "a", "counter");
  std::vector<OtlpTestSpan> spans = EncodeAndParse({s});
  ASSERT_THAT(spans, SizeIs(1));
  const OtlpTestSpan& p = spans[0];
  EXPECT_THAT(p.trace_id, SizeIs(32));
  EXPECT_TRUE(IsLowerHex(p.trace_id)) << p.trace_id;
  EXPECT_EQ(p.trace_id, "a0b1c2d3e4f5061728394a5b6c7d8e9f");
  EXPECT_EQ(p.span_id, "0123456789abcdef");
  EXPECT_EQ(p.parent_span_id, "fedcba9876543210");
  EXPECT_EQ(p.start, "1700000000123456789");
  EXPECT_EQ(p.end, "1700000000124000000");
}

TEST(OtlpJsonTest, RootSpanHasNoParentSpanId) {
  OtlpJson out = EncodeOtlpJson({MakeSpan(wire::SPAN_KIND_REPLY, 5, 0, "a", "counter")});
  EXPECT_EQ(out.json.find("parentSpanId"), std::string::npos) << out.json;
}

TEST(OtlpJsonTest, KindsNamesAndResource) {
  std::vector<OtlpTestSpan> spans = EncodeAndParse({
      MakeSpan(wire::SPAN_KIND_CALL, 1, 0, "a", "counter"),
      MakeSpan(wire::SPAN_KIND_REPLY, 2, 1, "a", "relay_b"),
      MakeSpan(wire::SPAN_KIND_CAST, 3, 1, "a", "kv"),
      MakeSpan(wire::SPAN_KIND_INFO, 4, 1, "a", "kv"),
      MakeSpan(wire::SPAN_KIND_TIMER, 5, 1, "a", ""),
  });
  ASSERT_THAT(spans, SizeIs(5));
  EXPECT_EQ(spans[0].kind, 2);  // SERVER
  EXPECT_EQ(spans[1].kind, 3);  // CLIENT
  EXPECT_EQ(spans[2].kind, 5);  // CONSUMER
  EXPECT_EQ(spans[3].kind, 5);
  EXPECT_EQ(spans[4].kind, 1);  // INTERNAL
  EXPECT_EQ(spans[0].name, "call counter");
  EXPECT_EQ(spans[1].name, "reply relay_b");
  EXPECT_EQ(spans[2].name, "cast kv");
  EXPECT_EQ(spans[4].name, "timer pid 7");
  for (const OtlpTestSpan& s : spans) {
    EXPECT_EQ(s.service, "a");
    EXPECT_EQ(s.scope, "polis");
  }
}

TEST(OtlpJsonTest, PolisFieldsAreTypedAttributes) {
  wire::Span s = MakeSpan(wire::SPAN_KIND_REPLY, 1, 0, "a", "counter");
  s.set_peer_node("b");
  std::vector<OtlpTestSpan> spans = EncodeAndParse({s});
  ASSERT_THAT(spans, SizeIs(1));
  EXPECT_THAT(spans[0].attributes,
              ElementsAre(Pair("polis.kind", "reply"),
                          Pair("polis.message_type", "polis.examples.CounterRequest"),
                          Pair("polis.node", "a"), Pair("polis.peer_node", "b"),
                          Pair("polis.sender.node", "client"), Pair("polis.sender.pid", "3"),
                          Pair("polis.server", "counter"), Pair("polis.server_pid", "7"),
                          Pair("polis.status_code", "0")));
  EXPECT_EQ(spans[0].attribute_types["polis.server"], "stringValue");
  EXPECT_EQ(spans[0].attribute_types["polis.server_pid"], "intValue");
  EXPECT_EQ(spans[0].attribute_types["polis.sender.pid"], "intValue");
  EXPECT_EQ(spans[0].attribute_types["polis.status_code"], "intValue");
}

TEST(OtlpJsonTest, OkIsUnsetAndAnErrorCarriesItsCodeAndMessage) {
  wire::Span ok = MakeSpan(wire::SPAN_KIND_CALL, 1, 0, "a", "counter");
  wire::Span failed = MakeSpan(wire::SPAN_KIND_CALL, 2, 0, "a", "counter");
  failed.set_status_code(static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  failed.set_status_message("call timed out");
  std::vector<OtlpTestSpan> spans = EncodeAndParse({ok, failed});
  ASSERT_THAT(spans, SizeIs(2));
  EXPECT_EQ(spans[0].status_code, 0);
  EXPECT_EQ(spans[0].status_message, "");
  EXPECT_EQ(spans[1].status_code, 2);
  EXPECT_EQ(spans[1].status_message, "DEADLINE_EXCEEDED: call timed out");
  EXPECT_EQ(spans[1].attributes["polis.status_code"], "4");
}

TEST(OtlpJsonTest, HostileTextStaysValidJson) {
  wire::Span s = MakeSpan(wire::SPAN_KIND_CALL, 1, 0, "nöde \"x\"", "srv\\\n");
  std::string message = "quote \" backslash \\ newline \n tab \t nul ";
  message.push_back('\0');
  message += " bell \x07 del \x7f invalid \xff\xfe utf8 é 日本 </script>";
  s.set_status_code(13);
  s.set_status_message(message);
  std::vector<OtlpTestSpan> spans = EncodeAndParse({s});
  ASSERT_THAT(spans, SizeIs(1));
  std::string expected = "INTERNAL: quote \" backslash \\ newline \n tab \t nul ";
  expected.push_back('\0');
  expected += " bell \x07 del \x7f invalid \xEF\xBF\xBD\xEF\xBF\xBD utf8 é 日本 </script>";
  EXPECT_EQ(spans[0].status_message, expected);
  EXPECT_EQ(spans[0].service, "nöde \"x\"");
  EXPECT_EQ(spans[0].name, "call srv\\\n");
}

TEST(OtlpJsonTest, SpansOfSeveralNodesAreGroupedByNode) {
  OtlpJson out = EncodeOtlpJson({
      MakeSpan(wire::SPAN_KIND_REPLY, 1, 0, "a", "relay_b"),
      MakeSpan(wire::SPAN_KIND_CALL, 2, 1, "b", "relay_b"),
      MakeSpan(wire::SPAN_KIND_REPLY, 3, 2, "b", "counter"),
      MakeSpan(wire::SPAN_KIND_CALL, 4, 3, "c", "counter"),
      MakeSpan(wire::SPAN_KIND_CAST, 5, 0, "a", "kv"),
  });
  EXPECT_EQ(out.spans, 5u);
  absl::StatusOr<std::vector<OtlpTestSpan>> spans = ParseOtlpJson(out.json);
  ASSERT_THAT(spans, IsOk());
  std::vector<std::pair<std::string, std::string>> order;
  for (const OtlpTestSpan& s : *spans) order.emplace_back(s.service, s.span_id);
  EXPECT_THAT(order, ElementsAre(Pair("a", "0000000000000001"), Pair("a", "0000000000000005"),
                                 Pair("b", "0000000000000002"), Pair("b", "0000000000000003"),
                                 Pair("c", "0000000000000004")));
}

TEST(OtlpJsonTest, SpansThatCannotBeLinkedAreSkippedAndCounted) {
  wire::Span no_trace = MakeSpan(wire::SPAN_KIND_CALL, 1, 0, "a", "x");
  no_trace.set_trace_id("short");
  wire::Span no_id = MakeSpan(wire::SPAN_KIND_CALL, 0, 0, "a", "x");
  wire::Span good = MakeSpan(wire::SPAN_KIND_CALL, 2, 0, "a", "x");
  OtlpJson out = EncodeOtlpJson({no_trace, no_id, good});
  EXPECT_EQ(out.spans, 1u);
  EXPECT_EQ(out.skipped, 2u);
  absl::StatusOr<std::vector<OtlpTestSpan>> spans = ParseOtlpJson(out.json);
  ASSERT_THAT(spans, IsOk());
  EXPECT_THAT(*spans, SizeIs(1));
}

TEST(OtlpJsonTest, NegativeTimesAreSentAsZero) {
  wire::Span s = MakeSpan(wire::SPAN_KIND_CALL, 1, 0, "a", "x");
  s.set_start_unix_nano(-5);
  std::vector<OtlpTestSpan> spans = EncodeAndParse({s});
  ASSERT_THAT(spans, SizeIs(1));
  EXPECT_EQ(spans[0].start, "0");
}

}  // namespace
}  // namespace polis::telemetry
