// telemetry/span_exporter.h — a node's spans, exported as they are
// recorded to the tools people already run (OpenTelemetry collectors,
// Jaeger, Grafana Tempo): to a file of OTLP/JSON lines and/or to an
// OTLP/HTTP endpoint.
//
// A SpanExporter owns one thread, `polis-trace-exp` (Linux keeps 15
// characters of a thread name). Every `interval` (woken early by Stop) it
// reads the spans the node recorded since its last read, through a
// SpanCursor of its own (Node::ReadSpans), in batches of at most
// max_batch_spans, encodes each batch once as an OTLP/JSON
// ExportTraceServiceRequest (telemetry/otlp_json.h) and hands it to each
// sink: OtlpFileSink (written at once) and OtlpHttpSink (queued for its
// own sender thread, so a slow collector never holds up reading the store).
//
// Guarantees:
//   * The node never waits for the exporter: handlers record spans into
//     the node's bounded store and go on; the exporter only reads it.
//   * Spans the store dropped before the exporter read them (it fell
//     behind) are counted (stats().missed_spans); so are spans a sink
//     dropped. Nothing is queued without bound. (A worker that records a
//     span while the exporter is copying a chunk out of that worker's ring
//     drops the span rather than wait: that counts in the node's
//     trace_stats().dropped, not here; larger batches mean fewer reads.)
//   * Stop reads the store one last time, hands that to the sinks, and
//     closes them (the HTTP sink's flush is bounded in time); spans
//     recorded after Stop are not exported.
//
// Thread-safety: Start and Stop from one thread (the node's owner); stats()
// from any thread.
//
// Example:
//   auto exporter = SpanExporter::Create({.otlp_endpoint = "http://127.0.0.1:4318"});
//   if (!exporter.ok()) return exporter.status();   // INVALID_ARGUMENT: bad endpoint
//   (*exporter)->Start(*node);
//   ...
//   (*exporter)->Stop();   // before node->Shutdown()
#ifndef POLIS_TELEMETRY_SPAN_EXPORTER_H_
#define POLIS_TELEMETRY_SPAN_EXPORTER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/node.h"
#include "polis/trace.pb.h"
#include "telemetry/otlp_http_sink.h"
#include "telemetry/otlp_sink.h"

namespace polis::telemetry {

struct SpanExporterOptions {
  // A file to append OTLP/JSON lines to ("" = none).
  std::string trace_file;
  // A collector's OTLP/HTTP endpoint, http://HOST:PORT ("" = none).
  std::string otlp_endpoint;
  // How often the store is read.
  absl::Duration interval = absl::Milliseconds(200);
  // Spans per request at most.
  size_t max_batch_spans = 512;
  // The HTTP sink's queue, retries and timeouts.
  OtlpHttpOptions http;
};

struct SpanExportStats {
  uint64_t read_spans = 0;     // Read from the node's store.
  uint64_t missed_spans = 0;   // Dropped by the store before they were read (SpanCursor::missed).
  uint64_t skipped_spans = 0;  // Read but not exportable (no 16-byte trace id, span id 0).
  bool has_file = false;       // Which sinks there are.
  bool has_http = false;
  SinkStats file;              // Zero when there is no such sink.
  SinkStats otlp_http;
};

// Where the exporter reads spans: a node's store through a cursor of its
// own. A seam for tests; Start(Node&) makes the real one.
class SpanSource {
 public:
  virtual ~SpanSource() = default;
  // The spans recorded since the last call, oldest first, at most `max`.
  virtual std::vector<wire::Span> Read(size_t max) = 0;
  // Spans dropped before they could be read, since the source was made.
  virtual uint64_t missed() const = 0;
};

// A SpanSource over `node`'s store, starting at the spans recorded after
// it is made. `node` must outlive it.
std::unique_ptr<SpanSource> NodeSpanSource(Node& node);

class SpanExporter {
 public:
  // Makes the sinks: opens trace_file (OtlpFileSink::Open's error) and
  // checks otlp_endpoint (INVALID_ARGUMENT). INVALID_ARGUMENT if neither is
  // set, or for a zero max_batch_spans or interval. Starts no thread and
  // reads nothing until Start (the threads it starts then inherit the
  // signal mask of Start's caller).
  static absl::StatusOr<std::unique_ptr<SpanExporter>> Create(SpanExporterOptions options);
  // Stop()s.
  ~SpanExporter();

  // Starts the thread, reading `node`'s spans recorded from now on.
  // `node` must outlive Stop. At most one Start.
  void Start(Node& node);
  void Start(std::unique_ptr<SpanSource> source);
  // Reads the store a last time, hands it to the sinks and closes them;
  // then the thread ends. Returns within about the HTTP sink's flush
  // timeout plus one request's timeouts. Idempotent.
  void Stop();

  SpanExportStats stats() const;

 private:
  explicit SpanExporter(SpanExporterOptions options) : options_(std::move(options)) {}
  void Run();
  // Reads and exports until the store has nothing more (or `max_batches`).
  void Drain(size_t max_batches);

  const SpanExporterOptions options_;
  std::unique_ptr<OtlpSink> file_;
  std::unique_ptr<OtlpSink> http_;
  std::unique_ptr<SpanSource> source_;  // Touched by the thread only, once started.
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t read_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t missed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t skipped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace polis::telemetry

#endif  // POLIS_TELEMETRY_SPAN_EXPORTER_H_
