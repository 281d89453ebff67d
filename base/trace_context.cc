#include "base/trace_context.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace polis {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Lowercase hex digit value, or -1 (W3C: lowercase only).
int LowerHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int AnyHexValue(char c) {
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return LowerHexValue(c);
}

// Decodes `hex` (2 digits per byte) into `out`; false on a non-digit.
bool DecodeHex(std::string_view hex, uint8_t* out, bool lower_only) {
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = lower_only ? LowerHexValue(hex[i]) : AnyHexValue(hex[i]);
    const int lo = lower_only ? LowerHexValue(hex[i + 1]) : AnyHexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i / 2] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

void EncodeHex(const uint8_t* bytes, size_t n, std::string* out) {
  for (size_t i = 0; i < n; ++i) {
    out->push_back(kHex[bytes[i] >> 4]);
    out->push_back(kHex[bytes[i] & 0xf]);
  }
}

absl::StatusOr<uint64_t> SpanFromHex(std::string_view hex, bool lower_only) {
  if (hex.size() != 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("a span id is 16 hex digits, not ", hex.size(), " characters"));
  }
  uint8_t b[8];
  if (!DecodeHex(hex, b, lower_only)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "span id \"", std::string(hex), "\" is not ", lower_only ? "lowercase " : "", "hex"));
  }
  uint64_t v = 0;
  for (uint8_t byte : b) v = v << 8 | byte;
  if (v == 0) return absl::InvalidArgumentError("a span id of all zeros is invalid");
  return v;
}

}  // namespace

std::string TraceId::Hex() const {
  std::string out;
  if (empty()) return out;
  out.reserve(32);
  EncodeHex(bytes.data(), bytes.size(), &out);
  return out;
}

absl::StatusOr<TraceId> TraceId::FromHex(std::string_view hex) {
  if (hex.size() != 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("a trace id is 32 hex digits, not ", hex.size(), " characters"));
  }
  TraceId id;
  if (!DecodeHex(hex, id.bytes.data(), /*lower_only=*/false)) {
    return absl::InvalidArgumentError(
        absl::StrCat("trace id \"", std::string(hex), "\" is not hex"));
  }
  if (id.empty()) return absl::InvalidArgumentError("a trace id of all zeros is invalid");
  return id;
}

std::string SpanIdHex(uint64_t span_id) {
  uint8_t b[8];
  for (int i = 7; i >= 0; --i, span_id >>= 8) b[i] = static_cast<uint8_t>(span_id & 0xff);
  std::string out;
  out.reserve(16);
  EncodeHex(b, 8, &out);
  return out;
}

absl::StatusOr<uint64_t> SpanIdFromHex(std::string_view hex) {
  return SpanFromHex(hex, /*lower_only=*/false);
}

absl::StatusOr<TraceContext> ParseTraceparent(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "traceparent \"", std::string(text.substr(0, 80)), "\": ", std::string(why),
        " (expected 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>)"));
  };
  if (text.size() < 55) return bad("too short");
  if (text[2] != '-' || text[35] != '-' || text[52] != '-') return bad("fields not separated by '-'");
  uint8_t version;
  if (!DecodeHex(text.substr(0, 2), &version, /*lower_only=*/true)) return bad("version is not lowercase hex");
  if (version == 0xff) return bad("version ff is invalid");
  // Version 00 is exactly 55 characters; a later version may append fields
  // after a '-', which a version-00 reader ignores.
  if (version == 0 && text.size() != 55) return bad("version 00 is 55 characters");
  if (version != 0 && text.size() > 55 && text[55] != '-') return bad("bad field after the flags");
  TraceContext ctx;
  if (!DecodeHex(text.substr(3, 32), ctx.trace_id.bytes.data(), /*lower_only=*/true)) {
    return bad("trace id is not 32 lowercase hex digits");
  }
  if (ctx.trace_id.empty()) return bad("trace id is all zeros");
  absl::StatusOr<uint64_t> parent = SpanFromHex(text.substr(36, 16), /*lower_only=*/true);
  if (!parent.ok()) {
    const absl::string_view why = parent.status().message();
    return bad(std::string_view(why.data(), why.size()));
  }
  ctx.span_id = *parent;
  uint8_t flags;
  if (!DecodeHex(text.substr(53, 2), &flags, /*lower_only=*/true)) return bad("flags are not lowercase hex");
  ctx.sampled = (flags & kTraceFlagSampled) != 0;
  return ctx;
}

std::string FormatTraceparent(const TraceContext& ctx) {
  std::string out = "00-";
  out += ctx.trace_id.empty() ? std::string(32, '0') : ctx.trace_id.Hex();
  out += '-';
  out += SpanIdHex(ctx.span_id);
  out += ctx.sampled ? "-01" : "-00";
  return out;
}

namespace base {
namespace {
thread_local const TraceContext* tls_trace = nullptr;
}  // namespace

const TraceContext* CurrentTrace() { return tls_trace; }
void SetCurrentTrace(const TraceContext* ctx) { tls_trace = ctx; }

}  // namespace base
}  // namespace polis
