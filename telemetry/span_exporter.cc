// telemetry/span_exporter.cc — see span_exporter.h. (Start(Node&) and the
// node's SpanSource are in span_exporter_node.cc.)
#include "telemetry/span_exporter.h"

#include <pthread.h>

#include <utility>

#include "absl/status/status.h"
#include "telemetry/otlp_file_sink.h"
#include "telemetry/otlp_json.h"

namespace polis::telemetry {
namespace {

// Batches read per round at most, so that a node recording faster than the
// exporter encodes still lets it notice Stop; what it cannot keep up with
// the store drops (and the cursor counts as missed).
constexpr size_t kMaxBatchesPerRound = 256;

}  // namespace

absl::StatusOr<std::unique_ptr<SpanExporter>> SpanExporter::Create(SpanExporterOptions options) {
  if (options.trace_file.empty() && options.otlp_endpoint.empty()) {
    return absl::InvalidArgumentError("span exporter: no trace file and no OTLP endpoint");
  }
  if (options.max_batch_spans == 0 || options.interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "span exporter: max_batch_spans and interval must be positive");
  }
  std::unique_ptr<SpanExporter> exporter(new SpanExporter(options));
  if (!options.otlp_endpoint.empty()) {
    // Checked first: a bad endpoint should not leave a new empty file behind.
    absl::StatusOr<OtlpEndpoint> endpoint = ParseOtlpEndpoint(options.otlp_endpoint);
    if (!endpoint.ok()) return endpoint.status();
  }
  if (!options.trace_file.empty()) {
    absl::StatusOr<std::unique_ptr<OtlpFileSink>> file = OtlpFileSink::Open(options.trace_file);
    if (!file.ok()) return file.status();
    exporter->file_ = *std::move(file);
  }
  if (!options.otlp_endpoint.empty()) {
    absl::StatusOr<std::unique_ptr<OtlpHttpSink>> http =
        OtlpHttpSink::Create(options.otlp_endpoint, options.http);
    if (!http.ok()) return http.status();
    exporter->http_ = *std::move(http);
  }
  return exporter;
}

SpanExporter::~SpanExporter() { Stop(); }

void SpanExporter::Start(std::unique_ptr<SpanSource> source) {
  if (thread_.joinable() || source_ != nullptr) return;
  source_ = std::move(source);
  thread_ = std::thread([this] { Run(); });
}

void SpanExporter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  // Without a thread (never started, or already stopped) the sinks are
  // closed here; closing twice is harmless.
  if (file_ != nullptr) file_->Close();
  if (http_ != nullptr) http_->Close();
}

void SpanExporter::Run() {
  pthread_setname_np(pthread_self(), "polis-trace-exp");
  for (;;) {
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval);
      stopping = stopping_;
    }
    Drain(kMaxBatchesPerRound);
    if (stopping) break;
  }
  if (file_ != nullptr) file_->Close();
  if (http_ != nullptr) http_->Close();
}

void SpanExporter::Drain(size_t max_batches) {
  for (size_t n = 0; n < max_batches; ++n) {
    std::vector<wire::Span> spans = source_->Read(options_.max_batch_spans);
    const uint64_t missed = source_->missed();
    OtlpJson batch = EncodeOtlpJson(spans);
    {
      absl::MutexLock lock(&mu_);
      read_ += spans.size();
      missed_ = missed;
      skipped_ += batch.skipped;
    }
    if (batch.spans > 0) {
      if (file_ != nullptr) file_->Export(batch);
      if (http_ != nullptr) http_->Export(batch);
    }
    if (spans.size() < options_.max_batch_spans) return;
  }
}

SpanExportStats SpanExporter::stats() const {
  SpanExportStats s;
  {
    absl::MutexLock lock(&mu_);
    s.read_spans = read_;
    s.missed_spans = missed_;
    s.skipped_spans = skipped_;
  }
  s.has_file = file_ != nullptr;
  s.has_http = http_ != nullptr;
  if (file_ != nullptr) s.file = file_->stats();
  if (http_ != nullptr) s.otlp_http = http_->stats();
  return s;
}

}  // namespace polis::telemetry
