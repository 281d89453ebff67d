// node/trace.h — what a node does with the trace context of the messages
// it handles: which traces it samples, the spans it records, and how to
// read them back (polis trace, the OTLP exporters in telemetry/).
//
// Every message carries a W3C trace context (base/trace_context.h). A node
// decides whether to sample a trace only where the trace starts (a plain
// thread's call without a ScopedTrace, a message that arrived with no trace
// context, a runtime notice); after that the sampled flag travels with the
// trace, so a trace is recorded whole, on every node it reaches, or not at
// all. For a sampled message a node records one span (wire::Span,
// proto/polis/trace.proto):
//   call   a server handling a call, until its handler returned;
//   cast   a server handling a cast;          info  ... an info message;
//   timer  a SendAfter: from when it was set until it fired;
//   reply  the caller's side of a call: from sending it until its reply or
//          its failure (timeout, peer down) — the parent of the server's
//          call span.
// Spans go to a bounded in-memory store per node (TraceOptions::max_spans)
// that never blocks a handler or the I/O thread: when full, the oldest span
// is dropped, and counted.
//
// Thread-safety: Sampler is a value; Node's tracing methods are thread-safe.
//
// Example:
//   NodeOptions o;
//   o.trace.sampler = *Sampler::Parse("0.1");   // 10% of new traces
//   ...
//   TraceContext ctx = node->StartTrace();      // a new root, sampled or not
//   { ScopedTrace scope(ctx); node->Call<Reply>(Target("relay_a"), req); }
//   std::cout << ctx.trace_id.Hex();            // polis trace --seed=... <id>
#ifndef POLIS_NODE_TRACE_H_
#define POLIS_NODE_TRACE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/trace_context.h"

namespace polis {

// Which new traces a node samples.
class Sampler {
 public:
  static Sampler Always() { return Sampler(1.0); }
  static Sampler Never() { return Sampler(0.0); }
  // `ratio` of new traces, in [0, 1].
  static Sampler Ratio(double ratio) { return Sampler(ratio); }
  // "always", "never", or a ratio in [0, 1] ("0.25"); INVALID_ARGUMENT
  // saying which forms are accepted otherwise.
  static absl::StatusOr<Sampler> Parse(std::string_view text);

  // Decides for a new trace `id`: the same id always gets the same answer
  // (its low 8 bytes against the ratio, like OpenTelemetry's
  // TraceIdRatioBased sampler).
  bool Sample(const TraceId& id) const;
  double ratio() const { return ratio_; }
  // "always", "never" or the ratio.
  std::string ToString() const;

 private:
  explicit Sampler(double ratio);
  double ratio_;
  uint64_t threshold_;  // Sample if the id's low 8 bytes are below it.
};

struct TraceOptions {
  Sampler sampler = Sampler::Always();
  // Spans kept in memory; past it the oldest are dropped (and counted).
  // 65,536 spans are about 20 MiB.
  size_t max_spans = 65536;
};

// Where a reader of the store (an exporter) got to. Starts at the spans
// recorded after the cursor was made.
struct SpanCursor {
  std::vector<uint64_t> positions;  // Per ring of the store.
  uint64_t missed = 0;  // Spans dropped from the store before this reader read them.
};

struct TraceStats {
  uint64_t recorded = 0;  // Spans recorded since the node started.
  uint64_t dropped = 0;   // Of those, dropped from the full store (oldest first)
                          // or because a reader held their slot.
  uint64_t stored = 0;    // Spans in the store now.
};

}  // namespace polis

#endif  // POLIS_NODE_TRACE_H_
