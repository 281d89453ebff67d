// telemetry/span_exporter_node_test.cc — the exporter over real nodes:
// servers calling each other across two nodes, their spans in a trace file
// and at an in-test collector as OTLP/JSON whose parent links form the
// call tree; and a collector that is down, which the node never notices.
#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_split.h"
#include "base/trace_context.h"
#include "genserver/genserver.h"
#include "google/protobuf/wrappers.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "telemetry/otlp_test_collector.h"
#include "telemetry/otlp_test_util.h"
#include "telemetry/span_exporter.h"
#include "tests/node_fixtures.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"
#include "tests/test_values.h"
#include "tests/wait.h"

namespace polis::telemetry {
namespace {

using ::google::protobuf::StringValue;
using ::polis::telemetry::testing::DeadPort;
using ::polis::telemetry::testing::OtlpTestSpan;
using ::polis::telemetry::testing::ParseOtlpJson;
using ::polis::telemetry::testing::TestCollector;
using ::polis::testing::IsOk;
using ::polis::testing::ScratchDir;
using ::polis::testing::Str;
using ::polis::testing::TestNodes;
using ::polis::testing::WaitFor;

// "call:NAME" calls NAME with "ok"; "fail" answers INTERNAL "boom";
// anything else answers "ok".
class Hop : public GenServer {
 public:
  Hop() { OnCall(&Hop::Do); }

 private:
  Task<absl::StatusOr<StringValue>> Do(const StringValue& req) {
    std::vector<std::string> p = absl::StrSplit(req.value(), absl::MaxSplits(':', 1));
    if (p[0] == "call" && p.size() == 2) co_return co_await Call<StringValue>(p[1], Str("ok"));
    if (p[0] == "fail") co_return absl::InternalError("boom");
    co_return Str("ok");
  }
};

// The spans of trace `trace_hex` in OTLP/JSON `requests`, by span id.
absl::flat_hash_map<std::string, OtlpTestSpan> SpansOf(const std::vector<std::string>& requests,
                                                        const std::string& trace_hex) {
  absl::flat_hash_map<std::string, OtlpTestSpan> out;
  for (const std::string& r : requests) {
    absl::StatusOr<std::vector<OtlpTestSpan>> spans = ParseOtlpJson(r);
    EXPECT_THAT(spans, IsOk()) << r;
    if (!spans.ok()) continue;
    for (OtlpTestSpan& s : *spans) {
      if (s.trace_id == trace_hex) out[s.span_id] = std::move(s);
    }
  }
  return out;
}

std::vector<std::string> FileLines(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
}

const OtlpTestSpan* Find(const absl::flat_hash_map<std::string, OtlpTestSpan>& spans,
                         const std::string& name) {
  for (const auto& [id, s] : spans) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// Calls `server` on `node` with `request` in a new trace; its context.
TraceContext CallTraced(Node& node, const std::string& server, const std::string& request,
                        absl::StatusCode want = absl::StatusCode::kOk) {
  TraceContext root = node.StartTrace();
  ScopedTrace scope(root);
  absl::StatusOr<StringValue> r = node.Call<StringValue>(server, Str(request));
  EXPECT_EQ(r.status().code(), want) << r.status();
  return root;
}

// The tree of a call x (node a) -> z (node b), from a plain thread on a.
void ExpectCallTree(const absl::flat_hash_map<std::string, OtlpTestSpan>& spans,
                    const TraceContext& root) {
  ASSERT_EQ(spans.size(), 4u);
  const OtlpTestSpan* reply_x = Find(spans, "reply x");
  const OtlpTestSpan* call_x = Find(spans, "call x");
  const OtlpTestSpan* reply_z = Find(spans, "reply z");
  const OtlpTestSpan* call_z = Find(spans, "call z");
  ASSERT_TRUE(reply_x && call_x && reply_z && call_z);
  EXPECT_EQ(reply_x->parent_span_id, SpanIdHex(root.span_id));
  EXPECT_EQ(call_x->parent_span_id, reply_x->span_id);
  EXPECT_EQ(reply_z->parent_span_id, call_x->span_id);
  EXPECT_EQ(call_z->parent_span_id, reply_z->span_id);
  EXPECT_EQ(reply_x->kind, 3);  // CLIENT
  EXPECT_EQ(call_x->kind, 2);   // SERVER
  EXPECT_EQ(call_x->service, "a");
  EXPECT_EQ(reply_z->service, "a");
  EXPECT_EQ(call_z->service, "b");
  EXPECT_EQ(reply_z->attributes.at("polis.peer_node"), "b");
  EXPECT_EQ(call_z->attributes.at("polis.sender.node"), "a");
  EXPECT_EQ(call_z->attributes.at("polis.message_type"), "google.protobuf.StringValue");
  for (const auto& [id, s] : spans) {
    EXPECT_THAT(s.span_id, ::testing::SizeIs(16));
    // Unix nanoseconds: 19 digits until 2286.
    EXPECT_THAT(s.start, ::testing::SizeIs(19));
    EXPECT_LE(s.start, s.end);
    EXPECT_EQ(s.status_code, 0);
  }
}

class SpanExporterNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = ScratchDir::Create("polis-export");
    ASSERT_THAT(dir, IsOk());
    dir_ = *std::move(dir);
    ASSERT_THAT(nodes_.StartMesh({"a", "b"}), IsOk());
    ASSERT_THAT(nodes_[0]->Spawn(std::make_unique<Hop>(), {.name = "x"}), IsOk());
    ASSERT_THAT(nodes_[1]->Spawn(std::make_unique<Hop>(), {.name = "z"}), IsOk());
    ASSERT_THAT(polis::testing::AwaitName(*nodes_[0], "z"), IsOk());
  }

  // Starts an exporter on each node with `options`.
  void Export(SpanExporterOptions options) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      absl::StatusOr<std::unique_ptr<SpanExporter>> e = SpanExporter::Create(options);
      ASSERT_THAT(e, IsOk());
      (*e)->Start(*nodes_[i]);
      exporters_.push_back(*std::move(e));
    }
  }

  // Waits until node a recorded `a` more spans and node b `b` more than
  // `before`, then stops the exporters: their last read then takes
  // everything, with no worker recording meanwhile (a worker that finds a
  // reader in its ring drops its span rather than wait).
  void StopAfterRecorded(const std::vector<TraceStats>& before, uint64_t a, uint64_t b) {
    ASSERT_TRUE(WaitFor([&] {
      return nodes_[0]->trace_stats().recorded >= before[0].recorded + a &&
             nodes_[1]->trace_stats().recorded >= before[1].recorded + b;
    }));
    for (auto& e : exporters_) e->Stop();
  }
  std::vector<TraceStats> Stats() {
    return {nodes_[0]->trace_stats(), nodes_[1]->trace_stats()};
  }

  // Read at Stop only, unless a test says otherwise.
  static constexpr absl::Duration kAtStop = absl::Hours(1);

  std::unique_ptr<ScratchDir> dir_;
  TestNodes nodes_{"inproc"};
  std::vector<std::unique_ptr<SpanExporter>> exporters_;  // Stopped before the nodes go.
};

TEST_F(SpanExporterNodeTest, FileLinesAreOtlpJsonWhoseParentLinksFormTheCallTree) {
  // Both nodes append to one file, as one collector would gather them.
  const std::string path = dir_->File("spans.jsonl");
  ASSERT_NO_FATAL_FAILURE(Export({.trace_file = path, .interval = kAtStop}));
  const std::vector<TraceStats> before = Stats();
  const TraceContext root = CallTraced(*nodes_[0], "x", "call:z");
  ASSERT_NO_FATAL_FAILURE(StopAfterRecorded(before, 3, 1));
  ExpectCallTree(SpansOf(FileLines(path), root.trace_id.Hex()), root);
}

TEST_F(SpanExporterNodeTest, AFailedCallIsAnErrorSpan) {
  const std::string path = dir_->File("spans.jsonl");
  ASSERT_NO_FATAL_FAILURE(Export({.trace_file = path, .interval = kAtStop}));
  const std::vector<TraceStats> before = Stats();
  const TraceContext root = CallTraced(*nodes_[0], "x", "fail", absl::StatusCode::kInternal);
  ASSERT_NO_FATAL_FAILURE(StopAfterRecorded(before, 2, 0));
  auto spans = SpansOf(FileLines(path), root.trace_id.Hex());
  const OtlpTestSpan* call_x = Find(spans, "call x");
  ASSERT_NE(call_x, nullptr);
  EXPECT_EQ(call_x->status_code, 2);
  EXPECT_EQ(call_x->status_message, "INTERNAL: boom");
  EXPECT_EQ(call_x->attributes.at("polis.status_code"), "13");
}

TEST_F(SpanExporterNodeTest, StopExportsWhatWasRecordedBeforeIt) {
  const std::string path = dir_->File("spans.jsonl");
  ASSERT_NO_FATAL_FAILURE(Export({.trace_file = path, .interval = absl::Milliseconds(20)}));
  const TraceStats before = nodes_[0]->trace_stats();
  const TraceContext root = CallTraced(*nodes_[0], "x", "ok");
  // The server's span may be recorded just after its reply went out.
  ASSERT_TRUE(WaitFor([&] { return nodes_[0]->trace_stats().recorded >= before.recorded + 2; }));
  // Stop reads the store once more, whatever the interval: both spans are
  // in the file (unless the store refused one while the exporter read).
  exporters_[0]->Stop();
  const uint64_t refused = nodes_[0]->trace_stats().dropped - before.dropped;
  EXPECT_EQ(SpansOf(FileLines(path), root.trace_id.Hex()).size() + refused, 2u);
}

TEST_F(SpanExporterNodeTest, HttpSinkDeliversTheTreeToACollector) {
  TestCollector collector;
  ASSERT_NO_FATAL_FAILURE(Export({.otlp_endpoint = collector.endpoint(), .interval = kAtStop}));
  const std::vector<TraceStats> before = Stats();
  const TraceContext root = CallTraced(*nodes_[0], "x", "call:z");
  // Stop flushes what is queued to the collector.
  ASSERT_NO_FATAL_FAILURE(StopAfterRecorded(before, 3, 1));
  auto bodies = [&] {
    std::vector<std::string> out;
    for (const TestCollector::Request& r : collector.requests()) {
      EXPECT_EQ(r.path, "/v1/traces");
      EXPECT_EQ(r.content_type, "application/json");
      out.push_back(r.body);
    }
    return out;
  };
  ExpectCallTree(SpansOf(bodies(), root.trace_id.Hex()), root);
}

TEST_F(SpanExporterNodeTest, ACollectorThatIsDownNeverFailsTheNodeAndMemoryStaysBounded) {
  DeadPort dead;
  SpanExporterOptions options{.otlp_endpoint = dead.endpoint(),
                              .interval = absl::Milliseconds(20),
                              .max_batch_spans = 16};
  options.http.max_queued_batches = 4;
  options.http.initial_backoff = absl::Milliseconds(5);
  options.http.max_backoff = absl::Milliseconds(20);
  ASSERT_NO_FATAL_FAILURE(Export(options));
  uint64_t most_queued = 0;
  for (int i = 0; i < 2000; ++i) {
    CallTraced(*nodes_[0], "x", "call:z");  // Each succeeds (checked inside).
    most_queued = std::max(most_queued, exporters_[0]->stats().otlp_http.queued_batches);
  }
  ASSERT_TRUE(WaitFor([&] { return exporters_[0]->stats().otlp_http.dropped_spans > 0; }));
  EXPECT_LE(most_queued, 4u);
  // Node a recorded 3 spans per call (reply x, call x, reply z); the last
  // call's server span may come just after its reply.
  ASSERT_TRUE(WaitFor([&] { return nodes_[0]->trace_stats().recorded >= 6000; }));
  for (auto& e : exporters_) e->Stop();
  for (auto& e : exporters_) {
    const SpanExportStats s = e->stats();
    EXPECT_EQ(s.otlp_http.exported_spans, 0u);
    EXPECT_GT(s.otlp_http.failed_requests, 0u);
    EXPECT_EQ(s.otlp_http.queued_batches, 0u);
    // Every span read is accounted for as dropped.
    EXPECT_EQ(s.otlp_http.dropped_spans, s.read_spans);
  }
  // Each span of node a was read by the exporter or dropped by the store
  // (a worker finding the exporter copying out of its ring drops its span
  // rather than wait; the store is not full here, so nothing was missed).
  EXPECT_EQ(exporters_[0]->stats().missed_spans, 0u);
  EXPECT_GE(exporters_[0]->stats().read_spans + nodes_[0]->trace_stats().dropped, 6000u);
}

}  // namespace
}  // namespace polis::telemetry
