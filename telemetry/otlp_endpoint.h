// telemetry/otlp_endpoint.h — where an OpenTelemetry collector takes
// OTLP/HTTP: `--otlp-endpoint=http://HOST:PORT`, checked before anything
// starts (polis node's flags and config file, OtlpHttpSink::Create).
//
// Only plain http to a host and port is accepted: batches go to the
// endpoint's /v1/traces, as the OTLP specification's default path for
// traces (a collector on the same host or network; https is refused rather
// than silently sent in the clear).
//
// Thread-safety: pure functions; OtlpEndpoint is a value.
//
// Example:
//   absl::StatusOr<OtlpEndpoint> e = ParseOtlpEndpoint("http://127.0.0.1:4318");
//   // e->host == "127.0.0.1", e->port == 4318
//   ParseOtlpEndpoint("127.0.0.1:4318");  // INVALID_ARGUMENT: not an http:// URL
#ifndef POLIS_TELEMETRY_OTLP_ENDPOINT_H_
#define POLIS_TELEMETRY_OTLP_ENDPOINT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace polis::telemetry {

// The path batches are POSTed to.
inline constexpr char kOtlpTracesPath[] = "/v1/traces";

// Where a collector listens: http://HOST:PORT.
struct OtlpEndpoint {
  std::string host;  // A host name, an IPv4 address, or an IPv6 address (no brackets).
  int port = 0;
  // "http://HOST:PORT" (IPv6 in brackets).
  std::string ToString() const;
};

// Reads "http://HOST:PORT" or "http://HOST:PORT/" (HOST a name, an IPv4
// address or [IPv6]; PORT 1-65535). INVALID_ARGUMENT saying what is wrong
// and which form is accepted otherwise (https, a path, a missing port, ...).
absl::StatusOr<OtlpEndpoint> ParseOtlpEndpoint(std::string_view text);

}  // namespace polis::telemetry

#endif  // POLIS_TELEMETRY_OTLP_ENDPOINT_H_
