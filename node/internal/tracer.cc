#include "node/internal/tracer.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "base/clock.h"
#include "node/internal/letter.h"

namespace polis::internal {
namespace {

struct TraceIdHash {
  size_t operator()(const TraceId& id) const {
    uint64_t h[2];
    std::memcpy(h, id.bytes.data(), sizeof(h));
    return absl::HashOf(h[0], h[1]);
  }
};

int64_t NowNs() { return base::NowUnixNanos(); }

}  // namespace

void SetServer(SpanRecord& r, const Target& target) {
  if (target.is_name()) {
    r.server.assign(target.name());
    r.server_pid = 0;
  } else {
    r.server.clear();
    r.server_pid = target.pid().id;
  }
}

void SetStatus(SpanRecord& r, const absl::Status& s) {
  r.status_code = static_cast<int32_t>(s.code());
  if (s.ok()) {
    r.status_message.clear();
  } else {
    r.status_message.assign(s.message().data(), s.message().size());
  }
}

Tracer::Tracer(std::string node, const TraceOptions& options, const Scheduler* scheduler)
    : node_(std::move(node)),
      sampler_(options.sampler),
      scheduler_(scheduler),
      store_(options.max_spans, scheduler != nullptr ? scheduler->size() : 0) {}

TraceContext Tracer::Root() const {
  TraceContext t;
  t.trace_id = NewTraceId();
  t.span_id = RandomId();
  t.sampled = sampler_.Sample(t.trace_id);
  return t;
}

TraceContext Tracer::Child(const TraceContext* parent) const {
  if (parent == nullptr || parent->trace_id.empty()) return Root();
  TraceContext t;
  t.trace_id = parent->trace_id;
  t.parent_span_id = parent->span_id;
  t.span_id = RandomId();
  t.sampled = parent->sampled;
  return t;
}

void Tracer::RecordSpan(wire::SpanKind kind, const TraceContext& ctx, int64_t start_ns,
                        const Pid& sender, const Target& target, const std::string& target_node,
                        const std::string* message_type, const absl::Status& outcome) {
  const int64_t end_ns = NowNs();
  Record([&](SpanRecord& r) {
    r.trace_id = ctx.trace_id;
    r.span_id = ctx.span_id;
    r.parent_span_id = ctx.parent_span_id;
    r.kind = kind;
    r.start_ns = start_ns;
    r.end_ns = end_ns;
    r.sender_node.assign(sender.node);
    r.sender_pid = sender.id;
    SetServer(r, target);
    r.peer_node.assign(target_node);
    r.message_type = message_type;
    SetStatus(r, outcome);
  });
}

void Tracer::ToWire(const SpanRecord& r, wire::Span* out) const {
  out->set_trace_id(std::string(r.trace_id.view()));
  out->set_span_id(r.span_id);
  out->set_parent_span_id(r.parent_span_id);
  out->set_kind(r.kind);
  out->mutable_sender()->set_node(r.sender_node);
  out->mutable_sender()->set_pid(r.sender_pid);
  out->set_server(r.server);
  out->set_server_pid(r.server_pid);
  out->set_node(node_);
  out->set_start_unix_nano(r.start_ns);
  out->set_end_unix_nano(r.end_ns);
  out->set_status_code(r.status_code);
  out->set_status_message(r.status_message);
  if (r.message_type != nullptr) out->set_message_type(*r.message_type);
  out->set_peer_node(r.peer_node);
}

wire::SpanQueryReply Tracer::Query(const wire::SpanQuery& query) const {
  wire::SpanQueryReply reply;
  reply.set_node(node_);
  reply.set_dropped(store_.Stats().dropped);
  if (query.trace_ids_size() > 0) {
    absl::flat_hash_set<TraceId, TraceIdHash> wanted;
    for (const std::string& id : query.trace_ids()) {
      TraceId t = TraceId::FromBytes(id);
      if (!t.empty()) wanted.insert(t);
    }
    const uint32_t max = query.max_spans() == 0 ? kMaxQuerySpans
                                                : std::min(query.max_spans(), kMaxQuerySpans);
    store_.ForEach([&](const SpanRecord& r) {
      if (!wanted.contains(r.trace_id)) return;
      if (static_cast<uint32_t>(reply.spans_size()) >= max) {
        reply.set_truncated(true);
        return;
      }
      ToWire(r, reply.add_spans());
    });
    return reply;
  }
  absl::flat_hash_map<TraceId, wire::TraceSummary, TraceIdHash> traces;
  store_.ForEach([&](const SpanRecord& r) {
    auto [it, fresh] = traces.try_emplace(r.trace_id);
    wire::TraceSummary& s = it->second;
    if (fresh) {
      s.set_start_unix_nano(r.start_ns);
      s.set_end_unix_nano(r.end_ns);
    }
    s.set_start_unix_nano(std::min(s.start_unix_nano(), r.start_ns));
    s.set_end_unix_nano(std::max(s.end_unix_nano(), r.end_ns));
    s.set_span_count(s.span_count() + 1);
    if (r.status_code != 0) s.set_error(true);
  });
  std::vector<std::pair<TraceId, wire::TraceSummary*>> order;
  order.reserve(traces.size());
  for (auto& [id, s] : traces) {
    if (query.errors_only() && !s.error()) continue;
    order.emplace_back(id, &s);
  }
  const size_t n = std::min<size_t>(order.size(), query.last() == 0 ? 20 : query.last());
  std::partial_sort(order.begin(), order.begin() + n, order.end(), [](const auto& a, const auto& b) {
    return a.second->end_unix_nano() > b.second->end_unix_nano();
  });
  for (size_t i = 0; i < n; ++i) {
    wire::TraceSummary* s = reply.add_traces();
    *s = *order[i].second;
    s->set_trace_id(std::string(order[i].first.view()));
  }
  return reply;
}

SpanCursor Tracer::NewCursor() const {
  SpanCursor c;
  for (int i = 0; i < store_.ring_count(); ++i) c.positions.push_back(store_.ring_at(i).written());
  return c;
}

std::vector<wire::Span> Tracer::Read(SpanCursor* cursor, size_t max) const {
  std::vector<wire::Span> out;
  cursor->positions.resize(store_.ring_count(), 0);
  for (int i = 0; i < store_.ring_count() && out.size() < max; ++i) {
    const SpanRing& ring = store_.ring_at(i);
    uint64_t& pos = cursor->positions[i];
    uint64_t next = pos;
    ring.Read(pos, [&](const SpanRecord& r, uint64_t at) {
      if (out.size() >= max) return;
      if (at > next) cursor->missed += at - next;  // Overwritten before read.
      ToWire(r, &out.emplace_back());
      next = at + 1;
    });
    // Read skips what was overwritten; if nothing was read the ring may
    // still have lapped the cursor.
    const uint64_t w = ring.written();
    if (next == pos && w > ring.capacity() && pos < w - ring.capacity()) {
      cursor->missed += w - ring.capacity() - pos;
      next = w - ring.capacity();
    }
    pos = next;
  }
  return out;
}

}  // namespace polis::internal
