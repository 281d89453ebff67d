// telemetry/otlp_file_sink_test.cc — the file sink: one request per line,
// appended; clear errors at open; failed writes counted.
#include "telemetry/otlp_file_sink.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "telemetry/otlp_test_util.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"

namespace polis::telemetry {
namespace {

using ::polis::telemetry::testing::ParseOtlpJson;
using ::polis::testing::IsOk;
using ::polis::testing::ReadFile;
using ::polis::testing::ScratchDir;
using ::polis::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

OtlpJson Batch(int spans, uint64_t first_id) {
  std::vector<wire::Span> v;
  for (int i = 0; i < spans; ++i) {
    wire::Span s;
    s.set_trace_id(std::string(16, '\x11'));
    s.set_span_id(first_id + i);
    s.set_node("a");
    s.set_server("kv");
    s.set_kind(wire::SPAN_KIND_CAST);
    v.push_back(s);
  }
  return EncodeOtlpJson(v);
}

TEST(OtlpFileSinkTest, AppendsOneRequestPerLineAfterWhatIsThere) {
  auto dir = ScratchDir::Create("polis-otlp");
  ASSERT_THAT(dir, IsOk());
  const std::string path = (*dir)->File("spans.jsonl");
  std::ofstream(path) << "{\"resourceSpans\":[]}\n";  // An earlier run's line stays.
  absl::StatusOr<std::unique_ptr<OtlpFileSink>> sink = OtlpFileSink::Open(path);
  ASSERT_THAT(sink, IsOk());
  (*sink)->Export(Batch(2, 1));
  (*sink)->Export(Batch(3, 10));
  // Written before Export returns: readable now, before Close.
  std::vector<std::string> lines = absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(3));
  EXPECT_EQ(lines[0], "{\"resourceSpans\":[]}");
  absl::StatusOr<std::vector<testing::OtlpTestSpan>> first = ParseOtlpJson(lines[1]);
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(*first, SizeIs(2));
  absl::StatusOr<std::vector<testing::OtlpTestSpan>> second = ParseOtlpJson(lines[2]);
  ASSERT_THAT(second, IsOk());
  EXPECT_THAT(*second, SizeIs(3));
  EXPECT_EQ((*sink)->stats().exported_spans, 5u);
  EXPECT_EQ((*sink)->stats().failed_requests, 0u);
}

TEST(OtlpFileSinkTest, OpenFailsClearly) {
  auto dir = ScratchDir::Create("polis-otlp");
  ASSERT_THAT(dir, IsOk());
  absl::StatusOr<std::unique_ptr<OtlpFileSink>> missing =
      OtlpFileSink::Open((*dir)->File("no/such/dir/spans.jsonl"));
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(missing.status().message(), HasSubstr("cannot open trace file"));
  EXPECT_THAT(missing.status().message(), HasSubstr("no/such/dir/spans.jsonl"));
  EXPECT_THAT(OtlpFileSink::Open((*dir)->path()), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(OtlpFileSink::Open(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(OtlpFileSinkTest, AFailedWriteIsCountedNotFatal) {
  // /dev/full opens, and every write to it fails with ENOSPC.
  absl::StatusOr<std::unique_ptr<OtlpFileSink>> sink = OtlpFileSink::Open("/dev/full");
  ASSERT_THAT(sink, IsOk());
  (*sink)->Export(Batch(4, 1));
  (*sink)->Export(Batch(1, 9));
  SinkStats s = (*sink)->stats();
  EXPECT_EQ(s.failed_requests, 2u);
  EXPECT_EQ(s.dropped_spans, 5u);
  EXPECT_EQ(s.exported_spans, 0u);
}

}  // namespace
}  // namespace polis::telemetry
