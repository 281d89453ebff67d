// telemetry/otlp_http_sink.h — spans POSTed to an OpenTelemetry collector
// over OTLP/HTTP with JSON bodies (`polis node --otlp-endpoint=URL`).
//
// Each batch is one `POST http://HOST:PORT/v1/traces` with
// `Content-Type: application/json` and an ExportTraceServiceRequest body
// (telemetry/otlp_json.h), as the OTLP specification defines OTLP/HTTP.
// A collector that is down or slow never slows the node:
//   * Export only queues the batch (at most max_queued_batches; when full,
//     the oldest queued batch is dropped and its spans counted as dropped);
//   * the requests go out from this sink's own thread (`polis-otlp-http`,
//     started by the first Export), one at a time, with connect / read
//     timeouts;
//   * a batch that failed in a way OTLP says to retry (no connection, a
//     timeout, HTTP 429, 502, 503, 504) is sent again after a back-off that
//     doubles from initial_backoff to max_backoff, with jitter (a
//     Retry-After the collector sends is honoured, up to max_backoff), for
//     at most max_retry_time; any other answer (400, 404, 413, 500...) gives
//     it up at once. Given-up batches count as dropped.
// Close delivers what is queued within flush_timeout, each batch once: the
// first failure ends the flush (the rest is dropped and counted), so a
// stopping node waits at most about flush_timeout + one request's timeouts.
//
// Thread-safety: see OtlpSink (Export and Close from one thread; stats()
// from any).
//
// Example:
//   absl::StatusOr<std::unique_ptr<OtlpHttpSink>> sink =
//       OtlpHttpSink::Create("http://127.0.0.1:4318");
//   (*sink)->Export(EncodeOtlpJson(spans));   // returns at once
//   (*sink)->Close();                         // bounded flush
#ifndef POLIS_TELEMETRY_OTLP_HTTP_SINK_H_
#define POLIS_TELEMETRY_OTLP_HTTP_SINK_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "telemetry/otlp_endpoint.h"
#include "telemetry/otlp_sink.h"

namespace polis::telemetry {
namespace internal {
class OtlpHttpPoster;
}

struct OtlpHttpOptions {
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration read_timeout = absl::Seconds(2);  // Also the write timeout.
  size_t max_queued_batches = 64;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  absl::Duration max_retry_time = absl::Seconds(30);
  absl::Duration flush_timeout = absl::Seconds(2);
};

class OtlpHttpSink : public OtlpSink {
 public:
  // Checks `endpoint` (ParseOtlpEndpoint's INVALID_ARGUMENT). No thread
  // runs, and nothing is connected, until the first batch comes.
  static absl::StatusOr<std::unique_ptr<OtlpHttpSink>> Create(std::string_view endpoint,
                                                              OtlpHttpOptions options = {});
  // Close()s.
  ~OtlpHttpSink() override;

  std::string_view name() const override { return "otlp_http"; }
  // Queues a copy of the batch; never blocks on the network.
  void Export(const OtlpJson& batch) override;
  void Close() override;
  SinkStats stats() const override;

  const OtlpEndpoint& endpoint() const { return endpoint_; }

 private:
  struct Batch {
    std::string json;
    size_t spans = 0;
  };

  OtlpHttpSink(OtlpEndpoint endpoint, OtlpHttpOptions options);
  void Run();
  // Sends `batch` until delivered or given up (retrying with back-off).
  void Deliver(internal::OtlpHttpPoster& poster, Batch batch);

  const OtlpEndpoint endpoint_;
  const OtlpHttpOptions options_;

  mutable absl::Mutex mu_;
  std::deque<Batch> queue_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time flush_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  SinkStats stats_ ABSL_GUARDED_BY(mu_);
  // Started by the first Export; touched by the Export/Close thread only.
  std::thread thread_;
  bool closed_ = false;
};

}  // namespace polis::telemetry

#endif  // POLIS_TELEMETRY_OTLP_HTTP_SINK_H_
