// `polis call` / `polis trace` against three real `polis node` processes:
// relay_a (node a) -> relay_b (node b) -> counter_c (node c). A call
// through the chain prints its trace id; `polis trace` gathers the spans
// from the three nodes into the tree relay_a call -> reply -> relay_b call
// -> reply -> counter_c call, as JSON and as a waterfall; `--last` lists
// it; a failed call is listed by `--errors`; a call made with
// `--traceparent` continues that trace (and is not recorded if its flags
// say "not sampled"); a frozen node is reported and the rest printed; an
// unknown trace is NOT_FOUND; bad input exits 2.
//
// No sleeps: names spreading by gossip and spans being recorded (a
// server's span ends after its reply left) are awaited by running the
// command again, bounded (tests/wait.h).
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/node_process.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

constexpr absl::Duration kConverge = absl::Seconds(15);
constexpr char kRelayCall[] = R"({"via": ["relay_b", "counter_c"], "request": {"add": 1}})";

google::protobuf::Struct ParseJson(const std::string& text) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &s).ok()) << text;
  return s;
}

std::string Str(const google::protobuf::Value& v, const std::string& key) {
  auto it = v.struct_value().fields().find(key);
  return it == v.struct_value().fields().end() ? "" : it->second.string_value();
}

// The spans of `polis trace --json` output.
std::vector<google::protobuf::Value> Spans(const std::string& json) {
  const google::protobuf::Struct s = ParseJson(json);
  auto it = s.fields().find("spans");
  if (it == s.fields().end()) return {};
  return {it->second.list_value().values().begin(), it->second.list_value().values().end()};
}

// The trace id a client command printed on stderr ("" if none).
std::string TraceIdOf(const ProcessResult& r) {
  for (absl::string_view line : absl::StrSplit(r.err, '\n')) {
    if (absl::ConsumePrefix(&line, "trace_id=")) return std::string(line);
  }
  return "";
}

std::string RandomHex(int digits) {
  std::random_device seed;
  std::mt19937_64 gen(seed());
  std::string out;
  while (static_cast<int>(out.size()) < digits) out += absl::StrFormat("%016x", gen());
  return out.substr(0, digits);
}

class TraceCliTest : public ::testing::Test {
 protected:
  // A frozen node stays a member for the length of a test (so `polis
  // trace` asks it and reports its silence); the same on every node.
  const std::vector<std::string> kSlowDetection = {"--failure-timeout=60s"};

  void SetUp() override {
    auto a = NodeProcess::Start({.name = "a",
                                 .listen = "tcp://127.0.0.1:*",
                                 .serve = {"relay:relay_a"},
                                 .extra_args = kSlowDetection});
    ASSERT_THAT(a, IsOk());
    a_ = std::move(*a);
    auto b = NodeProcess::Start({.name = "b",
                                 .listen = "tcp://127.0.0.1:*",
                                 .seeds = {a_->endpoint()},
                                 .serve = {"relay:relay_b"},
                                 .extra_args = kSlowDetection});
    ASSERT_THAT(b, IsOk());
    b_ = std::move(*b);
    auto c = NodeProcess::Start({.name = "c",
                                 .listen = "tcp://127.0.0.1:*",
                                 .seeds = {a_->endpoint()},
                                 .serve = {"counter:counter_c"},
                                 .extra_args = kSlowDetection});
    ASSERT_THAT(c, IsOk());
    c_ = std::move(*c);
    // Until every node knows every name, a hop is NOT_FOUND (with the hop
    // in the message): a read through the whole chain tells they all do.
    ProcessResult r = RetryUntil(
        [&] {
          return Polis({"call", Seed(), "relay_a",
                        R"({"via": ["relay_b", "counter_c"], "request": {"get": {}}})"});
        },
        [](const ProcessResult& r) { return !FailedWith(r, {"NOT_FOUND"}); }, kConverge);
    ASSERT_EQ(r.exit_code, 0) << r.Summary();
  }

  std::string Seed() const { return "--seed=" + a_->endpoint(); }

  // `polis trace --json ID`, run again (bounded) until it returns `spans`
  // spans: a server records its span when its handler has returned, which
  // may be just after its caller got the reply.
  std::vector<google::protobuf::Value> TraceUntil(const std::string& id, size_t spans) {
    ProcessResult r = RetryUntil(
        [&] { return Polis({"trace", Seed(), "--json", id}); },
        [&](const ProcessResult& r) { return r.exit_code == 0 && Spans(r.out).size() >= spans; },
        kConverge);
    EXPECT_EQ(r.exit_code, 0) << r.Summary();
    EXPECT_EQ(Spans(r.out).size(), spans) << r.Summary();
    return Spans(r.out);
  }

  std::unique_ptr<NodeProcess> a_, b_, c_;
};

// The chain's five spans, each the parent of the next, as `polis trace
// --json` lists them (tree order).
void ExpectRelayChain(const std::vector<google::protobuf::Value>& spans,
                      const std::string& root_parent, const std::string& status) {
  struct Hop {
    const char* server;
    const char* node;
    const char* kind;
  };
  const Hop hops[] = {{"relay_a", "a", "call"},
                      {"relay_b", "a", "reply"},
                      {"relay_b", "b", "call"},
                      {"counter_c", "b", "reply"},
                      {"counter_c", "c", "call"}};
  ASSERT_EQ(spans.size(), 5u);
  std::string parent = root_parent;
  for (size_t i = 0; i < 5; ++i) {
    const google::protobuf::Value& s = spans[i];
    EXPECT_EQ(Str(s, "server"), hops[i].server) << i;
    EXPECT_EQ(Str(s, "node"), hops[i].node) << i;
    EXPECT_EQ(Str(s, "kind"), hops[i].kind) << i;
    EXPECT_THAT(Str(s, "span_id"), MatchesRegex("[0-9a-f]{16}")) << i;
    if (i > 0 || !root_parent.empty()) {
      EXPECT_EQ(Str(s, "parent_span_id"), parent) << i;
    }
    if (!status.empty()) {
      EXPECT_EQ(Str(s, "status_code"), status) << i;
    }
    EXPECT_LE(std::stoll(Str(s, "start_unix_nano")), std::stoll(Str(s, "end_unix_nano"))) << i;
    parent = Str(s, "span_id");
  }
}

TEST_F(TraceCliTest, ACallThroughThreeNodesShowsAsOneTree) {
  ProcessResult r = Polis({"call", Seed(), "relay_a", kRelayCall});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"1\"}\n") << r.Summary();
  EXPECT_THAT(r.err, MatchesRegex("trace_id=[0-9a-f]{32}\n")) << r.Summary();
  const std::string id = TraceIdOf(r);

  const std::vector<google::protobuf::Value> spans = TraceUntil(id, 5);
  ExpectRelayChain(spans, /*root_parent=*/"", "OK");
  for (const google::protobuf::Value& s : spans) EXPECT_EQ(Str(s, "status_message"), "");
  // The client's own reply span left with the client: relay_a's call is
  // the root, its parent is not among the spans.
  EXPECT_NE(Str(spans[0], "parent_span_id"), "");

  ProcessResult text = Polis({"trace", Seed(), id});
  ASSERT_EQ(text.exit_code, 0) << text.Summary();
  EXPECT_THAT(text.out, StartsWith("trace " + id + ": 5 spans on 3 nodes, ")) << text.out;
  const std::vector<std::string> lines = absl::StrSplit(text.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 7u) << text.out;
  EXPECT_THAT(lines[1], StartsWith("SPAN")) << text.out;
  EXPECT_THAT(lines[2], MatchesRegex("relay_a +a +call +\\+0ns .*\\|  OK")) << text.out;
  EXPECT_THAT(lines[3], MatchesRegex("  -> relay_b +a +reply .*\\|  OK")) << text.out;
  EXPECT_THAT(lines[4], MatchesRegex("    relay_b +b +call .*\\|  OK")) << text.out;
  EXPECT_THAT(lines[5], MatchesRegex("      -> counter_c +b +reply .*\\|  OK")) << text.out;
  EXPECT_THAT(lines[6], MatchesRegex("        counter_c +c +call .*\\|  OK")) << text.out;
  EXPECT_THAT(text.out, HasSubstr("\u2588")) << text.out;

  ProcessResult last = Polis({"trace", Seed(), "--last=1", "--json"});
  ASSERT_EQ(last.exit_code, 0) << last.Summary();
  const google::protobuf::Struct listing = ParseJson(last.out);
  ASSERT_EQ(listing.fields().at("traces").list_value().values_size(), 1) << last.out;
  const google::protobuf::Value& t = listing.fields().at("traces").list_value().values(0);
  EXPECT_EQ(Str(t, "trace_id"), id) << last.out;
  EXPECT_EQ(Str(t, "root_server"), "relay_a") << last.out;
  EXPECT_EQ(Str(t, "root_node"), "a") << last.out;
  EXPECT_EQ(t.struct_value().fields().at("span_count").number_value(), 5) << last.out;
  EXPECT_FALSE(t.struct_value().fields().at("error").bool_value()) << last.out;

  ProcessResult table = Polis({"trace", Seed(), "--last=1"});
  ASSERT_EQ(table.exit_code, 0) << table.Summary();
  EXPECT_THAT(table.out, AllOf(StartsWith("TRACE_ID "), HasSubstr(id + "  relay_a  a "),
                               HasSubstr("  OK\n")))
      << table.out;
}

TEST_F(TraceCliTest, AFailedCallIsListedByErrorsWithTheFailedSpans) {
  ProcessResult ok = Polis({"call", Seed(), "relay_a", kRelayCall});
  ASSERT_EQ(ok.exit_code, 0) << ok.Summary();
  const std::string ok_id = TraceIdOf(ok);
  // counter_c refuses a request with no op: INVALID_ARGUMENT back through
  // both relays.
  ProcessResult bad = Polis(
      {"call", Seed(), "relay_a", R"({"via": ["relay_b", "counter_c"], "request": {}})"});
  ASSERT_EQ(bad.exit_code, 1) << bad.Summary();
  EXPECT_THAT(bad.err, StartsWith("INVALID_ARGUMENT: relay_a -> relay_b -> counter_c: "))
      << bad.Summary();
  EXPECT_EQ(bad.out, "") << bad.Summary();
  const std::string bad_id = TraceIdOf(bad);
  ASSERT_THAT(bad_id, MatchesRegex("[0-9a-f]{32}")) << bad.Summary();

  const std::vector<google::protobuf::Value> spans = TraceUntil(bad_id, 5);
  ExpectRelayChain(spans, "", "");
  for (const google::protobuf::Value& s : spans) {
    EXPECT_EQ(Str(s, "status_code"), "INVALID_ARGUMENT") << Str(s, "server");
  }
  EXPECT_THAT(Str(spans[4], "status_message"), HasSubstr("no op set"));

  ProcessResult errors = Polis({"trace", Seed(), "--last=10", "--errors", "--json"});
  ASSERT_EQ(errors.exit_code, 0) << errors.Summary();
  const google::protobuf::Struct listing = ParseJson(errors.out);
  std::vector<std::string> ids;
  for (const google::protobuf::Value& t : listing.fields().at("traces").list_value().values()) {
    ids.push_back(Str(t, "trace_id"));
    EXPECT_TRUE(t.struct_value().fields().at("error").bool_value()) << errors.out;
  }
  EXPECT_THAT(ids, ::testing::Contains(bad_id)) << errors.out;
  EXPECT_THAT(ids, ::testing::Not(::testing::Contains(ok_id))) << errors.out;

  // All traces, newest first: the failed one, then the good one.
  ProcessResult all = Polis({"trace", Seed(), "--last=2"});
  ASSERT_EQ(all.exit_code, 0) << all.Summary();
  const std::vector<std::string> rows = absl::StrSplit(all.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(rows.size(), 3u) << all.out;
  EXPECT_THAT(rows[1], AllOf(StartsWith(bad_id), HasSubstr("INVALID_ARGUMENT"))) << all.out;
  EXPECT_THAT(rows[2], AllOf(StartsWith(ok_id), HasSubstr("  OK"))) << all.out;

  // A hop that does not exist: NOT_FOUND, the relays' spans carry it.
  ProcessResult ghost =
      Polis({"call", Seed(), "relay_a", R"({"via": ["relay_b", "ghost"], "request": {"add": 1}})"});
  ASSERT_EQ(ghost.exit_code, 1) << ghost.Summary();
  EXPECT_THAT(ghost.err, StartsWith("NOT_FOUND: relay_a -> relay_b -> ghost: ")) << ghost.Summary();
  ProcessResult text = RetryUntil(
      [&] { return Polis({"trace", Seed(), TraceIdOf(ghost)}); },
      [](const ProcessResult& r) { return absl::StrContains(r.out, "    relay_b "); }, kConverge);
  ASSERT_EQ(text.exit_code, 0) << text.Summary();
  EXPECT_THAT(text.out, AllOf(HasSubstr("NOT_FOUND: relay_a -> relay_b -> ghost"),
                              HasSubstr("error")))
      << text.out;
}

// The caller's own side of the call (its reply span, whose parent is the
// traceparent's span) is recorded by the short-lived client node and goes
// with it; what the cluster holds is relay_a's call span, the child of
// that reply span, and everything under it.
TEST_F(TraceCliTest, ATraceparentIsContinuedAndItsSampledFlagHonoured) {
  const std::string trace_id = RandomHex(32);
  const std::string parent = RandomHex(16);
  // Not sampled (flags 00): the trace is not recorded anywhere.
  const std::string unsampled = RandomHex(32);
  ProcessResult quiet = Polis({"call", Seed(), "--traceparent=00-" + unsampled + "-" + parent + "-00",
                               "relay_a", kRelayCall});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.Summary();
  EXPECT_EQ(quiet.err, absl::StrCat("trace_id=", unsampled, "\n")) << quiet.Summary();

  const std::string traceparent = absl::StrCat("00-", trace_id, "-", parent, "-01");
  ProcessResult r =
      Polis({"call", Seed(), "--traceparent=" + traceparent, "--json", "relay_a", kRelayCall});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, absl::StrCat(R"({"reply":{"value":"2"},"trace_id":")", trace_id, "\"}\n"))
      << r.Summary();
  EXPECT_EQ(r.err, absl::StrCat("trace_id=", trace_id, "\n")) << r.Summary();

  const std::vector<google::protobuf::Value> spans = TraceUntil(trace_id, 5);
  // The root is relay_a's call span, a child of the traceparent's span (a
  // client node records no span of its own), so the trace links to the
  // system that passed the traceparent in.
  ExpectRelayChain(spans, /*root_parent=*/parent, "OK");

  // The sampled call came after the unsampled one and is fully recorded:
  // had the unsampled one been recorded, its spans would be there by now.
  ProcessResult none = Polis({"trace", Seed(), unsampled});
  EXPECT_EQ(none.exit_code, 1) << none.Summary();
  EXPECT_THAT(none.err, StartsWith("NOT_FOUND: ")) << none.Summary();
}

TEST_F(TraceCliTest, AFrozenNodeIsReportedAndTheOtherSpansPrinted) {
  ProcessResult r = Polis({"call", Seed(), "relay_a", kRelayCall});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  const std::string id = TraceIdOf(r);
  TraceUntil(id, 5);
  ASSERT_THAT(c_->Pause(), IsOk());
  ProcessResult t = Polis({"trace", Seed(), "--json", "--timeout=2s", id});
  ASSERT_THAT(c_->Resume(), IsOk());
  ASSERT_EQ(t.exit_code, 0) << t.Summary();
  // c did not answer in time.
  EXPECT_THAT(t.err, HasSubstr("polis trace: node c did not answer")) << t.Summary();
  const std::vector<google::protobuf::Value> spans = Spans(t.out);
  ASSERT_EQ(spans.size(), 4u) << t.out;
  for (const google::protobuf::Value& s : spans) EXPECT_NE(Str(s, "node"), "c") << t.out;
}

TEST_F(TraceCliTest, AnUnknownTraceIsNotFound) {
  const std::string id = RandomHex(32);
  ProcessResult r = Polis({"trace", Seed(), id});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_THAT(r.err, AllOf(StartsWith("NOT_FOUND: "), HasSubstr(id))) << r.Summary();
  EXPECT_EQ(r.out, "") << r.Summary();
}

TEST(TraceCliUsageTest, BadArgumentsExitTwoWithAClearMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string seed = "--seed=tcp://127.0.0.1:1";
  const std::vector<Case> cases = {
      {{"trace", std::string(32, 'a')}, "--seed=ENDPOINT is required"},
      {{"trace", seed}, "one TRACE_ID"},
      {{"trace", seed, "xyz"}, "bad TRACE_ID \"xyz\""},
      {{"trace", seed, std::string(32, '0')}, "bad TRACE_ID"},
      {{"trace", seed, "--errors"}, "--errors goes with --last"},
      {{"trace", seed, "--last=0"}, "--last"},
      {{"trace", seed, "--last=2", std::string(32, 'a')}, "not both"},
      {{"call", seed, "--traceparent=00-xyz", "relay_a", "{}"}, "--traceparent: "},
      {{"cast", seed, "--traceparent=00-" + std::string(32, '0') + "-0000000000000001-01",
        "relay_a", "{}"},
       "all zeros"},
  };
  for (const Case& c : cases) {
    ProcessResult r = Polis(c.args);
    EXPECT_EQ(r.exit_code, 2) << r.Summary();
    EXPECT_THAT(r.err, AllOf(StartsWith("INVALID_ARGUMENT: "), HasSubstr(c.message)))
        << r.Summary();
    EXPECT_EQ(r.out, "") << r.Summary();
  }
}

}  // namespace
}  // namespace polis::testing
