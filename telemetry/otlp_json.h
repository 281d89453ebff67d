// telemetry/otlp_json.h — polis spans in OpenTelemetry's own format:
// OTLP/JSON, one ExportTraceServiceRequest per batch.
//
// The encoding is the one the OpenTelemetry Protocol specification defines
// for OTLP/JSON (the protobuf JSON mapping of
// opentelemetry/proto/collector/trace/v1/trace_service.proto, with OTLP's
// exceptions): lowerCamelCase keys; trace and span ids as lowercase hex
// (32 and 16 digits, not base64); 64-bit integers (times in Unix
// nanoseconds, intValue attributes) as decimal strings; enums as integers.
// What a receiver gets, per node of the batch (one `resourceSpans` each,
// in the order the nodes first appear):
//
//   resource.attributes  service.name = the node name
//   scopeSpans[0].scope  name "polis"
//   spans[]              traceId, spanId, parentSpanId (omitted for a root),
//                        name "<kind> <server>" ("call counter",
//                        "reply relay_b"; an unnamed server: "call pid 42"),
//                        kind (call: SERVER 2, reply: CLIENT 3, cast and
//                        info: CONSUMER 5, timer and unknown: INTERNAL 1),
//                        startTimeUnixNano, endTimeUnixNano,
//                        status {code: 0 UNSET for OK, 2 ERROR otherwise,
//                        message "CODE: message"}, and the polis fields as
//                        attributes: polis.kind, polis.server,
//                        polis.server_pid, polis.node, polis.sender.node,
//                        polis.sender.name, polis.sender.pid,
//                        polis.message_type, polis.status_code,
//                        polis.peer_node (strings left out when empty).
//
// Strings are escaped as JSON requires; bytes that are not UTF-8 become
// U+FFFD, so any span gives valid JSON. A span that cannot be linked (a
// trace id that is not 16 bytes, a span id of 0) is left out and counted.
//
// Thread-safety: pure functions.
//
// Example:
//   std::vector<wire::Span> spans = node->ReadSpans(&cursor, 512);
//   OtlpJson out = EncodeOtlpJson(spans);
//   file << out.json << '\n';   // a line the Collector's otlpjsonfile reads
#ifndef POLIS_TELEMETRY_OTLP_JSON_H_
#define POLIS_TELEMETRY_OTLP_JSON_H_

#include <cstddef>
#include <string>

#include "absl/types/span.h"
#include "polis/trace.pb.h"

namespace polis::telemetry {

// OTLP's span kinds (opentelemetry.proto.trace.v1.Span.SpanKind).
enum class OtlpSpanKind : int {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};

// OTLP's status codes (opentelemetry.proto.trace.v1.Status.StatusCode).
enum class OtlpStatusCode : int { kUnset = 0, kOk = 1, kError = 2 };

struct OtlpJson {
  std::string json;    // One ExportTraceServiceRequest, on one line.
  size_t spans = 0;    // Spans it holds.
  size_t skipped = 0;  // Spans left out: no 16-byte trace id, or span id 0.
};

// Encodes `spans` as one ExportTraceServiceRequest (no trailing newline).
// An empty batch gives {"resourceSpans":[]}.
OtlpJson EncodeOtlpJson(absl::Span<const wire::Span> spans);

// The OTLP kind of a polis span kind (see above).
OtlpSpanKind ToOtlpKind(wire::SpanKind kind);
// "call", "cast", "info", "timer", "reply" ("unspecified" otherwise).
const char* SpanKindName(wire::SpanKind kind);
// The span's display name: "<kind> <server>", or "<kind> pid <N>".
std::string OtlpSpanName(const wire::Span& span);

}  // namespace polis::telemetry

#endif  // POLIS_TELEMETRY_OTLP_JSON_H_
