// node/internal/tracer.h — one node's tracing: the sampler that decides
// for traces that start here, the trace context of each message sent, the
// span store, and the answers to span queries (node/trace.h says what is
// recorded and when; WORKSPACE.md "Tracing" shows where).
//
// Recording is for the thread that handled the message: Record picks the
// calling worker's ring (or the shared ring off the scheduler) and never
// waits for a reader on a worker.
//
// Thread-safety: all methods are thread-safe.
//
// Example (a process finished handling a sampled cast):
//   if (in.trace.sampled) tracer->Record([&](SpanRecord& r) {
//     FillHandled(r, in, wire::SPAN_KIND_CAST, start_ns, end_ns); });
#ifndef POLIS_NODE_INTERNAL_TRACER_H_
#define POLIS_NODE_INTERNAL_TRACER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "node/internal/scheduler.h"
#include "node/internal/span_store.h"
#include "node/message.h"
#include "node/trace.h"
#include "polis/trace.pb.h"

namespace polis::internal {

// Spans a SpanQuery answers with at most (and the default).
inline constexpr uint32_t kMaxQuerySpans = 10000;

class Tracer {
 public:
  // `scheduler` tells worker threads apart (may be null: every span goes
  // to the shared ring).
  Tracer(std::string node, const TraceOptions& options, const Scheduler* scheduler);

  const std::string& node() const { return node_; }
  const Sampler& sampler() const { return sampler_; }

  // A new trace: random ids, sampled by this node's sampler.
  TraceContext Root() const;
  // The context of a message sent while handling one traced by `parent`:
  // same trace and flags, `parent`'s span as parent, a fresh span id. A
  // new Root if `parent` is null or untraced.
  TraceContext Child(const TraceContext* parent) const;
  // The caller's side of a call made under `parent` (its reply span, the
  // parent of the request): a Child, except in an unsampled trace, where
  // nothing is recorded and `parent` itself serves (one random id less).
  TraceContext CallerSpan(const TraceContext* parent) const {
    if (parent != nullptr && !parent->trace_id.empty() && !parent->sampled) return *parent;
    return Child(parent);
  }

  // Records one span: `fill` fills the record (its strings keep their
  // buffers). On a worker, dropped if a reader holds the ring.
  template <typename F>
  void Record(F&& fill) {
    const int worker = scheduler_ != nullptr ? scheduler_->CurrentWorker() : -1;
    SpanRing& ring = store_.ring(worker);
    SpanRecord* r = worker >= 0 ? ring.TryBegin() : ring.Begin();
    if (r == nullptr) return;
    fill(*r);
    ring.Commit();
  }

  // A span of `kind` that this node ends now, for `ctx`, begun at
  // `start_ns` by `sender` about `target` on `target_node` ("" = here): the
  // caller's reply span, or a timer's span.
  void RecordSpan(wire::SpanKind kind, const TraceContext& ctx, int64_t start_ns,
                  const Pid& sender, const Target& target, const std::string& target_node,
                  const std::string* message_type, const absl::Status& outcome);

  // Answers a SpanQuery from this node's store.
  wire::SpanQueryReply Query(const wire::SpanQuery& query) const;
  // Exporters' reads (Node::ReadSpans).
  SpanCursor NewCursor() const;
  std::vector<wire::Span> Read(SpanCursor* cursor, size_t max) const;
  TraceStats Stats() const { return store_.Stats(); }

  // wire::Span of a record of this node's.
  void ToWire(const SpanRecord& r, wire::Span* out) const;

 private:
  const std::string node_;
  const Sampler sampler_;
  const Scheduler* const scheduler_;
  SpanStore store_;
};

// Fills `r`'s server and server_pid: the name `target` addresses, or its
// pid.
void SetServer(SpanRecord& r, const Target& target);
// Fills `r`'s status from `s` (message only when not OK).
void SetStatus(SpanRecord& r, const absl::Status& s);

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_TRACER_H_
