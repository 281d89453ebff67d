// telemetry/otlp_sink.h — where a SpanExporter sends its batches: the
// interface its sinks share (OtlpFileSink, OtlpHttpSink), and their counters.
//
// A sink receives each batch once, already encoded as an OTLP/JSON
// ExportTraceServiceRequest (telemetry/otlp_json.h), from the exporter's
// thread. Export must return promptly whatever the destination does (a
// full disk, a collector that is down or slow): the exporter reads the
// node's span store between two batches, and the store drops what it is
// not read in time.
//
// Thread-safety: Export and Close from one thread (the exporter's); stats()
// from any thread.
//
// Example:
//   std::unique_ptr<OtlpSink> sink = *OtlpFileSink::Open("/var/log/polis.otlp");
//   sink->Export(EncodeOtlpJson(spans));
//   sink->Close();
//   uint64_t written = sink->stats().exported_spans;
#ifndef POLIS_TELEMETRY_OTLP_SINK_H_
#define POLIS_TELEMETRY_OTLP_SINK_H_

#include <cstdint>
#include <string_view>

#include "telemetry/otlp_json.h"

namespace polis::telemetry {

// A sink's counters since it was made. Spans count spans; requests count
// HTTP requests (or file writes), each attempt once.
struct SinkStats {
  uint64_t exported_spans = 0;   // Written to the file / accepted by the collector (2xx).
  uint64_t dropped_spans = 0;    // Never delivered: queue full (oldest batch dropped), a
                                 // batch given up (non-retryable answer, retried too long,
                                 // undelivered at Close), a failed write.
  uint64_t failed_requests = 0;  // Attempts that failed (error, timeout, non-2xx answer).
  uint64_t retries = 0;          // Attempts that sent a batch again.
  uint64_t queued_batches = 0;   // Waiting to be sent now (a gauge; 0 for the file sink).
};

class OtlpSink {
 public:
  virtual ~OtlpSink() = default;
  // "file" or "otlp_http": a label for logs and metrics.
  virtual std::string_view name() const = 0;
  // Takes one batch. Never waits on the destination.
  virtual void Export(const OtlpJson& batch) = 0;
  // Delivers what it still holds within its own bounded time, then stops;
  // what is left is dropped (and counted). Export is not called after.
  virtual void Close() = 0;
  virtual SinkStats stats() const = 0;
};

}  // namespace polis::telemetry

#endif  // POLIS_TELEMETRY_OTLP_SINK_H_
