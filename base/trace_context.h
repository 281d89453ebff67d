// base/trace_context.h — W3C trace context: the trace id, span ids and
// sampled flag every polis message carries, its `traceparent` text form,
// and the trace a thread is working for (what log lines are stamped with).
//
// A trace is one request tree. Every message belongs to a span (span_id)
// whose parent is the span of the handler that sent it; every span of a
// tree shares the trace id. The sampled flag is decided once, where a trace
// starts, and travels with it: a trace is recorded whole or not at all.
// The text form is W3C Trace Context's `traceparent` header, version 00:
//   00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>
// (https://www.w3.org/TR/trace-context/#traceparent-header).
//
// Thread-safety: the types are values. CurrentTrace/ScopedTrace act on the
// calling thread only.
//
// Example (continue a trace that came in over HTTP):
//   absl::StatusOr<TraceContext> ctx = ParseTraceparent(header);
//   if (ctx.ok()) { ScopedTrace scope(*ctx); ... calls made here are its children ... }
#ifndef POLIS_BASE_TRACE_CONTEXT_H_
#define POLIS_BASE_TRACE_CONTEXT_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace polis {

// A W3C trace id: 16 bytes, all zero = none. A value, so copying a trace
// context never allocates.
struct TraceId {
  std::array<uint8_t, 16> bytes{};
  bool empty() const {
    uint64_t half[2];
    std::memcpy(half, bytes.data(), sizeof(half));
    return (half[0] | half[1]) == 0;
  }
  std::string_view view() const {
    return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  // 32 lowercase hex digits ("" for an empty id).
  std::string Hex() const;
  // From wire bytes; anything but 16 bytes gives an empty id.
  static TraceId FromBytes(std::string_view b) {
    TraceId id;
    if (b.size() == id.bytes.size()) std::memcpy(id.bytes.data(), b.data(), b.size());
    return id;
  }
  // From 32 hex digits (either case); INVALID_ARGUMENT otherwise, and for
  // all zeros.
  static absl::StatusOr<TraceId> FromHex(std::string_view hex);
  friend bool operator==(const TraceId&, const TraceId&) = default;
};

// W3C trace-flags bit 0.
inline constexpr uint32_t kTraceFlagSampled = 0x01;

// The trace context of one message (W3C trace-context compatible).
struct TraceContext {
  TraceId trace_id;             // Empty when not traced.
  uint64_t span_id = 0;         // Span of the message (its handling).
  uint64_t parent_span_id = 0;  // Span that caused it; 0 for a root.
  bool sampled = false;         // Recorded (W3C sampled flag).

  uint32_t flags() const { return sampled ? kTraceFlagSampled : 0; }
};

// 16 lowercase hex digits.
std::string SpanIdHex(uint64_t span_id);
// INVALID_ARGUMENT unless 16 hex digits, not all zero.
absl::StatusOr<uint64_t> SpanIdFromHex(std::string_view hex);

// The context a `traceparent` header describes, as the context of the
// caller's own span: trace id, span_id = the header's parent-id, sampled =
// flags bit 0. Calls made under it are its children. Version 00 exactly
// (55 characters); a later version is read by its first four fields, as the
// specification asks. INVALID_ARGUMENT, saying what is wrong, otherwise
// (all-zero ids, uppercase hex, version ff).
absl::StatusOr<TraceContext> ParseTraceparent(std::string_view text);
// "00-<trace>-<span_id>-<flags>" for `ctx` (its span as the parent).
std::string FormatTraceparent(const TraceContext& ctx);

namespace base {

// The trace the calling thread is working for: the message a handler on
// this thread is handling, or what a plain thread set with ScopedTrace.
// Null if none. Log lines carry its ids (base/log.h).
const TraceContext* CurrentTrace();
// Sets the calling thread's current trace; nullptr clears it. The pointee
// must outlive its use as current.
void SetCurrentTrace(const TraceContext* ctx);

}  // namespace base

// Makes `ctx` the calling thread's current trace for a scope, restoring
// the previous one after: calls, casts and sends from a plain thread inside
// it are children of `ctx`'s span, and log lines carry its ids.
class ScopedTrace {
 public:
  explicit ScopedTrace(const TraceContext& ctx)
      : ctx_(ctx), previous_(base::CurrentTrace()) {
    base::SetCurrentTrace(&ctx_);
  }
  ~ScopedTrace() { base::SetCurrentTrace(previous_); }
  ScopedTrace(const ScopedTrace&) = delete;
  ScopedTrace& operator=(const ScopedTrace&) = delete;
  const TraceContext& context() const { return ctx_; }

 private:
  const TraceContext ctx_;
  const TraceContext* const previous_;
};

}  // namespace polis

#endif  // POLIS_BASE_TRACE_CONTEXT_H_
