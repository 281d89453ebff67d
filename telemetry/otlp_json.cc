// telemetry/otlp_json.cc — see otlp_json.h.
#include "telemetry/otlp_json.h"

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/utf8.h"

namespace polis::telemetry {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Appends `s` as a JSON string literal: quotes, backslashes and control
// characters escaped; bytes that are not UTF-8 replaced by U+FFFD first.
void AppendJsonString(std::string* out, std::string_view s) {
  std::string repaired;
  if (!base::IsValidUtf8(s)) {
    repaired = base::ToValidUtf8(s);
    s = repaired;
  }
  out->push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 0xf]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Appends "KEY": (KEY is a literal that needs no escaping).
void AppendKey(std::string* out, std::string_view key) {
  out->push_back('"');
  out->append(key);
  out->append("\":");
}

// Key-value attributes, in OTLP's KeyValue / AnyValue form.
class Attributes {
 public:
  explicit Attributes(std::string* out) : out_(out) { out_->push_back('['); }
  void String(std::string_view key, std::string_view value) {
    Open(key);
    AppendKey(out_, "stringValue");
    AppendJsonString(out_, value);
    out_->append("}}");
  }
  void StringIfSet(std::string_view key, std::string_view value) {
    if (!value.empty()) String(key, value);
  }
  // int64 in the protobuf JSON mapping: a decimal string.
  void Int(std::string_view key, int64_t value) {
    Open(key);
    AppendKey(out_, "intValue");
    absl::StrAppend(out_, "\"", value, "\"}}");
  }
  void Close() { out_->push_back(']'); }

 private:
  void Open(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->append("{\"key\":");
    AppendJsonString(out_, key);
    out_->append(",\"value\":{");
  }
  std::string* out_;
  bool first_ = true;
};

void AppendHex(std::string* out, const uint8_t* bytes, size_t n) {
  out->push_back('"');
  for (size_t i = 0; i < n; ++i) {
    out->push_back(kHex[bytes[i] >> 4]);
    out->push_back(kHex[bytes[i] & 0xf]);
  }
  out->push_back('"');
}

// A span id as 16 hex digits, most significant byte first (W3C order).
void AppendSpanId(std::string* out, uint64_t id) {
  uint8_t bytes[8];
  for (int i = 7; i >= 0; --i, id >>= 8) bytes[i] = static_cast<uint8_t>(id & 0xff);
  AppendHex(out, bytes, sizeof(bytes));
}

// fixed64 nanoseconds: a decimal string; a negative time (a clock before
// 1970) is sent as 0.
void AppendNanos(std::string* out, int64_t nanos) {
  absl::StrAppend(out, "\"", nanos < 0 ? 0 : nanos, "\"");
}

bool Exportable(const wire::Span& span) {
  return span.trace_id().size() == 16 && span.span_id() != 0;
}

void AppendSpan(std::string* out, const wire::Span& span) {
  out->append("{\"traceId\":");
  AppendHex(out, reinterpret_cast<const uint8_t*>(span.trace_id().data()), 16);
  out->append(",\"spanId\":");
  AppendSpanId(out, span.span_id());
  if (span.parent_span_id() != 0) {
    out->append(",\"parentSpanId\":");
    AppendSpanId(out, span.parent_span_id());
  }
  out->append(",\"name\":");
  AppendJsonString(out, OtlpSpanName(span));
  absl::StrAppend(out, ",\"kind\":", static_cast<int>(ToOtlpKind(span.kind())));
  out->append(",\"startTimeUnixNano\":");
  AppendNanos(out, span.start_unix_nano());
  out->append(",\"endTimeUnixNano\":");
  AppendNanos(out, span.end_unix_nano());

  out->append(",\"attributes\":");
  Attributes attrs(out);
  attrs.String("polis.kind", SpanKindName(span.kind()));
  attrs.StringIfSet("polis.server", span.server());
  attrs.Int("polis.server_pid", static_cast<int64_t>(span.server_pid()));
  attrs.StringIfSet("polis.node", span.node());
  if (span.has_sender()) {
    attrs.StringIfSet("polis.sender.node", span.sender().node());
    attrs.StringIfSet("polis.sender.name", span.sender().name());
    attrs.Int("polis.sender.pid", static_cast<int64_t>(span.sender().pid()));
  }
  attrs.StringIfSet("polis.message_type", span.message_type());
  attrs.Int("polis.status_code", span.status_code());
  attrs.StringIfSet("polis.peer_node", span.peer_node());
  attrs.Close();

  out->append(",\"status\":{");
  if (span.status_code() == 0) {
    absl::StrAppend(out, "\"code\":", static_cast<int>(OtlpStatusCode::kUnset));
  } else {
    absl::StrAppend(out, "\"code\":", static_cast<int>(OtlpStatusCode::kError), ",\"message\":");
    const std::string code =
        absl::StatusCodeToString(static_cast<absl::StatusCode>(span.status_code()));
    AppendJsonString(out, span.status_message().empty()
                              ? code
                              : absl::StrCat(code, ": ", span.status_message()));
  }
  out->append("}}");
}

}  // namespace

OtlpSpanKind ToOtlpKind(wire::SpanKind kind) {
  switch (kind) {
    case wire::SPAN_KIND_CALL: return OtlpSpanKind::kServer;
    case wire::SPAN_KIND_REPLY: return OtlpSpanKind::kClient;
    case wire::SPAN_KIND_CAST:
    case wire::SPAN_KIND_INFO: return OtlpSpanKind::kConsumer;
    default: return OtlpSpanKind::kInternal;
  }
}

const char* SpanKindName(wire::SpanKind kind) {
  switch (kind) {
    case wire::SPAN_KIND_CALL: return "call";
    case wire::SPAN_KIND_CAST: return "cast";
    case wire::SPAN_KIND_INFO: return "info";
    case wire::SPAN_KIND_TIMER: return "timer";
    case wire::SPAN_KIND_REPLY: return "reply";
    default: return "unspecified";
  }
}

std::string OtlpSpanName(const wire::Span& span) {
  if (!span.server().empty()) return absl::StrCat(SpanKindName(span.kind()), " ", span.server());
  return absl::StrCat(SpanKindName(span.kind()), " pid ", span.server_pid());
}

OtlpJson EncodeOtlpJson(absl::Span<const wire::Span> spans) {
  OtlpJson result;
  // Group by node, keeping the order in which nodes first appear.
  std::vector<std::pair<std::string_view, std::vector<const wire::Span*>>> groups;
  absl::flat_hash_map<std::string_view, size_t> group_of;
  for (const wire::Span& span : spans) {
    if (!Exportable(span)) {
      ++result.skipped;
      continue;
    }
    auto [it, added] = group_of.try_emplace(span.node(), groups.size());
    if (added) groups.emplace_back(span.node(), std::vector<const wire::Span*>());
    groups[it->second].second.push_back(&span);
    ++result.spans;
  }

  std::string& out = result.json;
  out.reserve(256 + result.spans * 640);
  out.append("{\"resourceSpans\":[");
  for (size_t g = 0; g < groups.size(); ++g) {
    if (g > 0) out.push_back(',');
    out.append("{\"resource\":{\"attributes\":");
    Attributes resource(&out);
    resource.String("service.name", groups[g].first);
    resource.Close();
    out.append("},\"scopeSpans\":[{\"scope\":{\"name\":\"polis\"},\"spans\":[");
    const std::vector<const wire::Span*>& members = groups[g].second;
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendSpan(&out, *members[i]);
    }
    out.append("]}]}");
  }
  out.append("]}");
  return result;
}

}  // namespace polis::telemetry
