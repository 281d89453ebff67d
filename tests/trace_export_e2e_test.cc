// `polis node --trace-file / --otlp-endpoint` end to end: a real node
// process exports the spans of the calls `polis call` makes to a file of
// OTLP/JSON lines and to a collector in the test; bad values are usage
// errors (exit code 2).
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "telemetry/otlp_test_collector.h"
#include "telemetry/otlp_test_util.h"
#include "tests/node_process.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis {
namespace {

using ::polis::telemetry::testing::OtlpTestSpan;
using ::polis::telemetry::testing::ParseOtlpJson;
using ::polis::telemetry::testing::TestCollector;
using ::polis::testing::IsOk;
using ::polis::testing::NodeProcess;
using ::polis::testing::Polis;
using ::polis::testing::ProcessResult;
using ::polis::testing::ScratchDir;
using ::testing::HasSubstr;

// Every span in the OTLP/JSON requests `requests`.
std::vector<OtlpTestSpan> AllSpans(const std::vector<std::string>& requests) {
  std::vector<OtlpTestSpan> out;
  for (const std::string& r : requests) {
    absl::StatusOr<std::vector<OtlpTestSpan>> spans = ParseOtlpJson(r);
    EXPECT_THAT(spans, IsOk()) << r;
    if (spans.ok()) out.insert(out.end(), spans->begin(), spans->end());
  }
  return out;
}

int CountNamed(const std::vector<OtlpTestSpan>& spans, const std::string& name,
               const std::string& service) {
  int n = 0;
  for (const OtlpTestSpan& s : spans) n += s.name == name && s.service == service;
  return n;
}

std::vector<std::string> FileLines(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
}

TEST(TraceExportE2eTest, NodeExportsItsSpansToAFileAndACollector) {
  auto dir = ScratchDir::Create("polis-export");
  ASSERT_THAT(dir, IsOk());
  const std::string path = (*dir)->File("a.otlp.jsonl");
  TestCollector collector;
  auto a = NodeProcess::Start({.name = "a",
                               .listen = "tcp://127.0.0.1:*",
                               .serve = {"counter"},
                               .extra_args = {"--trace-file=" + path,
                                              "--otlp-endpoint=" + collector.endpoint()}});
  ASSERT_THAT(a, IsOk());
  for (int i = 0; i < 3; ++i) {
    ProcessResult r =
        Polis({"call", "--seed=" + (*a)->endpoint(), "counter", R"({"add": 1})"});
    ASSERT_EQ(r.exit_code, 0) << r.Summary();
  }
  // The collector gets them while the node runs.
  std::vector<std::string> bodies;
  ASSERT_TRUE(polis::testing::WaitFor([&] {
    bodies.clear();
    for (const TestCollector::Request& req : collector.requests()) bodies.push_back(req.body);
    return CountNamed(AllSpans(bodies), "call counter", "a") >= 3;
  })) << (*a)->Stderr();
  ASSERT_THAT((*a)->Stop(), IsOk());
  // Every line of the file is a request; together they hold the same calls.
  EXPECT_EQ(CountNamed(AllSpans(FileLines(path)), "call counter", "a"), 3);
  EXPECT_THAT((*a)->Stderr(), HasSubstr("spans exported: file"));
}

TEST(TraceExportE2eTest, BadTraceSettingsAreUsageErrors) {
  ProcessResult r = Polis({"node", "--name=a", "--trace-file=/nonexistent/dir/spans.jsonl"});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_THAT(r.err, HasSubstr("cannot open trace file /nonexistent/dir/spans.jsonl"));
  r = Polis({"node", "--name=a", "--otlp-endpoint=https://collector:4318"});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_THAT(r.err, HasSubstr("https is not supported"));
  r = Polis({"node", "--help"});  // The usage on stdout, exit 0 (tools/node_cli.h).
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.out, HasSubstr("--otlp-endpoint=http://HOST:PORT"));
}

}  // namespace
}  // namespace polis
