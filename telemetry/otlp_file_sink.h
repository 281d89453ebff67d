// telemetry/otlp_file_sink.h — spans appended to a file, one OTLP/JSON
// ExportTraceServiceRequest per line (`polis node --trace-file=PATH`).
//
// The format is what the OpenTelemetry Collector's `otlpjsonfile` receiver
// reads (and its `file` exporter writes): JSON Lines, one request per line.
// Each batch is written with one write(2) on a file opened with O_APPEND,
// so it reaches the OS (survives the process, not a power cut) before
// Export returns, and lines from two writers do not interleave. The file
// is created if missing (mode 0644) and never truncated.
//
// A failed write is logged (the first, then every 100th) and counted as a
// failed request and its spans as dropped; if part of the line was written,
// a newline is attempted so the next line starts clean.
//
// Thread-safety: see OtlpSink.
//
// Example:
//   absl::StatusOr<std::unique_ptr<OtlpFileSink>> sink = OtlpFileSink::Open(path);
//   if (!sink.ok()) return sink.status();   // NOT_FOUND: no such directory, ...
//   (*sink)->Export(EncodeOtlpJson(spans));
#ifndef POLIS_TELEMETRY_OTLP_FILE_SINK_H_
#define POLIS_TELEMETRY_OTLP_FILE_SINK_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "telemetry/otlp_sink.h"

namespace polis::telemetry {

class OtlpFileSink : public OtlpSink {
 public:
  // Opens `path` for appending. The errno of open(2) as a status saying
  // "cannot open trace file PATH: ..." (NOT_FOUND for a missing directory,
  // PERMISSION_DENIED, FAILED_PRECONDITION for a directory, ...);
  // INVALID_ARGUMENT for an empty path.
  static absl::StatusOr<std::unique_ptr<OtlpFileSink>> Open(const std::string& path);
  ~OtlpFileSink() override;

  std::string_view name() const override { return "file"; }
  void Export(const OtlpJson& batch) override;
  void Close() override;
  SinkStats stats() const override;

  const std::string& path() const { return path_; }

 private:
  OtlpFileSink(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  // Writes all of `data`; false (errno set) if a write failed.
  bool WriteAll(const char* data, size_t size, size_t* written);

  const std::string path_;
  int fd_;
  std::atomic<uint64_t> exported_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace polis::telemetry

#endif  // POLIS_TELEMETRY_OTLP_FILE_SINK_H_
