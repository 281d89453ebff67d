// telemetry/span_exporter_test.cc — the exporter's thread over a source the
// test fills: batching, Stop's final read, counters, and its errors at
// Create. (With a real node: span_exporter_node_test.cc.)
#include "telemetry/span_exporter.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "telemetry/otlp_test_collector.h"
#include "telemetry/otlp_test_util.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis::telemetry {
namespace {

using ::polis::telemetry::testing::ParseOtlpJson;
using ::polis::telemetry::testing::TestCollector;
using ::polis::testing::IsOk;
using ::polis::testing::ScratchDir;
using ::polis::testing::StatusIs;
using ::polis::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::SizeIs;

// A store the test appends to; the exporter reads it through Read.
class FakeSource : public SpanSource {
 public:
  struct State {
    absl::Mutex mu;
    std::vector<wire::Span> spans ABSL_GUARDED_BY(mu);
    size_t next ABSL_GUARDED_BY(mu) = 0;
    uint64_t missed ABSL_GUARDED_BY(mu) = 0;
  };
  explicit FakeSource(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::vector<wire::Span> Read(size_t max) override {
    absl::MutexLock lock(&state_->mu);
    std::vector<wire::Span> out;
    while (state_->next < state_->spans.size() && out.size() < max) {
      out.push_back(state_->spans[state_->next++]);
    }
    return out;
  }
  uint64_t missed() const override {
    absl::MutexLock lock(&state_->mu);
    return state_->missed;
  }

 private:
  std::shared_ptr<State> state_;
};

void Record(FakeSource::State& state, int n) {
  absl::MutexLock lock(&state.mu);
  for (int i = 0; i < n; ++i) {
    wire::Span s;
    s.set_trace_id(std::string(16, '\x07'));
    s.set_span_id(state.spans.size() + 1);
    s.set_node("a");
    s.set_server("counter");
    s.set_kind(wire::SPAN_KIND_CALL);
    state.spans.push_back(s);
  }
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
}

class SpanExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = ScratchDir::Create("polis-export");
    ASSERT_THAT(dir, IsOk());
    dir_ = *std::move(dir);
  }
  std::unique_ptr<ScratchDir> dir_;
  std::shared_ptr<FakeSource::State> state_ = std::make_shared<FakeSource::State>();
};

TEST_F(SpanExporterTest, BatchesAtMostMaxSpansPerRequest) {
  const std::string path = dir_->File("spans.jsonl");
  Record(*state_, 1300);
  absl::StatusOr<std::unique_ptr<SpanExporter>> exporter = SpanExporter::Create(
      {.trace_file = path, .interval = absl::Milliseconds(10), .max_batch_spans = 512});
  ASSERT_THAT(exporter, IsOk());
  (*exporter)->Start(std::make_unique<FakeSource>(state_));
  ASSERT_TRUE(WaitFor([&] { return (*exporter)->stats().file.exported_spans == 1300; }));
  std::vector<size_t> sizes;
  for (const std::string& line : Lines(path)) {
    absl::StatusOr<std::vector<testing::OtlpTestSpan>> spans = ParseOtlpJson(line);
    ASSERT_THAT(spans, IsOk());
    sizes.push_back(spans->size());
  }
  EXPECT_THAT(sizes, ElementsAre(512, 512, 276));
  EXPECT_EQ((*exporter)->stats().read_spans, 1300u);
}

TEST_F(SpanExporterTest, StopWakesTheThreadAndExportsWhatIsRecorded) {
  const std::string path = dir_->File("spans.jsonl");
  absl::StatusOr<std::unique_ptr<SpanExporter>> exporter =
      SpanExporter::Create({.trace_file = path, .interval = absl::Hours(1)});
  ASSERT_THAT(exporter, IsOk());
  (*exporter)->Start(std::make_unique<FakeSource>(state_));
  Record(*state_, 7);
  (*exporter)->Stop();  // Returns at once, not in an hour, with the 7 written.
  EXPECT_EQ((*exporter)->stats().file.exported_spans, 7u);
  ASSERT_THAT(Lines(path), SizeIs(1));
  Record(*state_, 1);  // After Stop: not exported.
  (*exporter)->Stop();
  EXPECT_EQ((*exporter)->stats().read_spans, 7u);
}

TEST_F(SpanExporterTest, CountsSpansTheStoreDroppedBeforeTheyWereRead) {
  {
    absl::MutexLock lock(&state_->mu);
    state_->missed = 42;
  }
  absl::StatusOr<std::unique_ptr<SpanExporter>> exporter = SpanExporter::Create(
      {.trace_file = dir_->File("spans.jsonl"), .interval = absl::Milliseconds(10)});
  ASSERT_THAT(exporter, IsOk());
  (*exporter)->Start(std::make_unique<FakeSource>(state_));
  ASSERT_TRUE(WaitFor([&] { return (*exporter)->stats().missed_spans == 42; }));
}

TEST_F(SpanExporterTest, FeedsBothSinks) {
  TestCollector collector;
  const std::string path = dir_->File("spans.jsonl");
  absl::StatusOr<std::unique_ptr<SpanExporter>> exporter =
      SpanExporter::Create({.trace_file = path,
                            .otlp_endpoint = collector.endpoint(),
                            .interval = absl::Milliseconds(10)});
  ASSERT_THAT(exporter, IsOk());
  (*exporter)->Start(std::make_unique<FakeSource>(state_));
  Record(*state_, 3);
  ASSERT_TRUE(WaitFor([&] {
    SpanExportStats s = (*exporter)->stats();
    return s.file.exported_spans == 3 && s.otlp_http.exported_spans == 3;
  }));
  SpanExportStats s = (*exporter)->stats();
  EXPECT_TRUE(s.has_file);
  EXPECT_TRUE(s.has_http);
  ASSERT_THAT(collector.requests(), SizeIs(1));
  EXPECT_EQ(collector.requests()[0].body, Lines(path).at(0));
}

TEST_F(SpanExporterTest, CreateRefusesBadOptionsClearly) {
  EXPECT_THAT(SpanExporter::Create({}), StatusIs(absl::StatusCode::kInvalidArgument));
  const std::string path = dir_->File("never.jsonl");
  EXPECT_THAT(SpanExporter::Create({.trace_file = path, .otlp_endpoint = "http://h"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(std::filesystem::exists(path)) << "a bad endpoint leaves no file behind";
  EXPECT_THAT(SpanExporter::Create({.trace_file = dir_->File("no/dir/x.jsonl")}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(SpanExporter::Create({.trace_file = path, .max_batch_spans = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SpanExporterTest, StopWithoutStartClosesTheSinks) {
  absl::StatusOr<std::unique_ptr<SpanExporter>> exporter =
      SpanExporter::Create({.otlp_endpoint = "http://127.0.0.1:9"});
  ASSERT_THAT(exporter, IsOk());
  (*exporter)->Stop();
  EXPECT_EQ((*exporter)->stats().read_spans, 0u);
}

}  // namespace
}  // namespace polis::telemetry
