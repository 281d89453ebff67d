// node/internal/span_store.h — the bounded in-memory store of the spans a
// node records (node/trace.h).
//
// One ring of fixed capacity per scheduler worker, and one shared ring for
// every other thread (plain threads' calls, the timer thread). A worker
// writes only to its own ring, so recording a span costs no contention: it
// takes the ring's spin flag with one exchange, fills the next slot (the
// slot's strings keep their buffers from the span before: no malloc once
// the ring has wrapped) and releases it. When the ring is full the oldest
// span is overwritten, and counted as dropped. Readers (queries, exporters)
// copy out of a ring a chunk of 64 slots at a time under its flag; a worker
// that finds the flag taken does not wait: it drops its span and counts it.
//
// Thread-safety: all methods are thread-safe.
//
// Example:
//   SpanStore store(65536, scheduler.size());
//   if (SpanRecord* r = store.ring(worker).TryBegin()) {
//     r->span_id = ...;
//     store.ring(worker).Commit();
//   }
#ifndef POLIS_NODE_INTERNAL_SPAN_STORE_H_
#define POLIS_NODE_INTERNAL_SPAN_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/trace_context.h"
#include "node/trace.h"
#include "polis/trace.pb.h"

namespace polis::internal {

// One span as stored (wire::Span is made from it when read).
struct SpanRecord {
  TraceId trace_id;
  uint64_t span_id = 0;
  uint64_t parent_span_id = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  uint64_t sender_pid = 0;
  uint64_t server_pid = 0;
  int32_t status_code = 0;
  wire::SpanKind kind = wire::SPAN_KIND_UNSPECIFIED;
  const std::string* message_type = nullptr;  // Interned (InternType); may be null.
  std::string sender_node;
  std::string server;
  std::string peer_node;
  std::string status_message;
};

class SpanRing {
 public:
  explicit SpanRing(size_t capacity);

  // Writer. The next slot, with the ring held; nullptr (and a drop
  // counted) if a reader holds it. Fill it, then Commit.
  // Waits at most kWriterWait for a reader's chunk, then drops the span.
  SpanRecord* TryBegin();
  static constexpr absl::Duration kWriterWait = absl::Microseconds(50);
  // As TryBegin, but waits for a reader's chunk (threads that are not
  // scheduler workers).
  SpanRecord* Begin();
  void Commit();

  // Reader. Calls f(record, position) for each span at positions [from,
  // written) that is still in the ring, in order, holding the ring for at
  // most 64 spans at a time (f must be quick: a copy).
  template <typename F>
  void Read(uint64_t from, F&& f) const;

  uint64_t written() const { return written_.load(std::memory_order_acquire); }
  // Spans dropped: overwritten while in the ring, or refused while a
  // reader held it.
  uint64_t dropped() const;
  size_t capacity() const { return capacity_; }

 private:
  // Slots are allocated 256 at a time as the ring first fills, so an idle
  // node's store costs nothing (65,536 slots are about 14 MiB).
  static constexpr size_t kChunk = 256;
  // The slot for position `pos` (held; allocated if new).
  SpanRecord& Slot(uint64_t pos);
  const SpanRecord& SlotAt(uint64_t pos) const {
    const size_t i = pos % capacity_;
    return chunks_[i / kChunk][i % kChunk];
  }
  void Lock() const;
  void Unlock() const { locked_.store(false, std::memory_order_release); }

  mutable std::atomic<bool> locked_{false};
  const size_t capacity_;
  std::vector<std::unique_ptr<SpanRecord[]>> chunks_;
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> busy_drops_{0};
};

class SpanStore {
 public:
  // At most `max_spans` in all, over `workers` worker rings and the shared
  // ring (each a multiple of 256 spans, and at least 256).
  SpanStore(size_t max_spans, int workers);

  // The ring for scheduler worker `worker`; the shared ring for -1.
  SpanRing& ring(int worker) {
    return worker >= 0 && worker < static_cast<int>(rings_.size()) - 1 ? *rings_[worker]
                                                                      : *rings_.back();
  }
  int ring_count() const { return static_cast<int>(rings_.size()); }
  const SpanRing& ring_at(int i) const { return *rings_[i]; }

  // Calls f(record) for every span held (any order).
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& r : rings_) r->Read(0, [&](const SpanRecord& s, uint64_t) { f(s); });
  }

  TraceStats Stats() const;

 private:
  std::vector<std::unique_ptr<SpanRing>> rings_;
};

// --- Implementation ---

template <typename F>
void SpanRing::Read(uint64_t from, F&& f) const {
  constexpr uint64_t kChunk = 64;
  const uint64_t cap = capacity_;
  uint64_t pos = from;
  while (true) {
    Lock();
    const uint64_t end = written_.load(std::memory_order_relaxed);
    if (end > cap && pos < end - cap) pos = end - cap;  // Overwritten already.
    const uint64_t stop = std::min(end, pos + kChunk);
    for (; pos < stop; ++pos) f(SlotAt(pos), pos);
    Unlock();
    if (pos >= end) return;
  }
}

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_SPAN_STORE_H_
