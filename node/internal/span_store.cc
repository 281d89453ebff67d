#include "node/internal/span_store.h"

#include <algorithm>
#include <thread>

#include "node/internal/spin.h"

namespace polis::internal {

SpanRing::SpanRing(size_t capacity)
    : capacity_((std::max<size_t>(capacity, 1) + kChunk - 1) / kChunk * kChunk) {}

SpanRecord& SpanRing::Slot(uint64_t pos) {
  const size_t i = pos % capacity_;
  if (i / kChunk >= chunks_.size()) chunks_.push_back(std::make_unique<SpanRecord[]>(kChunk));
  return chunks_[i / kChunk][i % kChunk];
}

SpanRecord* SpanRing::TryBegin() {
  if (locked_.exchange(true, std::memory_order_acquire)) {
    // A reader holds the ring for at most 64 spans' copies: a few
    // microseconds. Wait that long, never longer (kWriterWait), then drop.
    // (Dropping at once lost the span of a handler that ended while
    // `polis trace` or an exporter was reading: a likely moment, right
    // after the reply a reader was waiting for.)
    const absl::Time until = base::Now() + kWriterWait;
    if (!SpinUntil(until, [&] { return !locked_.exchange(true, std::memory_order_acquire); })) {
      busy_drops_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
  }
  return &Slot(written_.load(std::memory_order_relaxed));
}

SpanRecord* SpanRing::Begin() {
  Lock();
  return &Slot(written_.load(std::memory_order_relaxed));
}

void SpanRing::Commit() {
  written_.store(written_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  Unlock();
}

void SpanRing::Lock() const {
  // Held for one span's copy (a writer) or 64 (a reader): spin briefly,
  // then let the holder run.
  for (int spins = 0; locked_.exchange(true, std::memory_order_acquire); ++spins) {
    if (spins > 64) std::this_thread::yield();
  }
}

uint64_t SpanRing::dropped() const {
  const uint64_t w = written();
  return (w > capacity_ ? w - capacity_ : 0) +
         busy_drops_.load(std::memory_order_relaxed);
}

SpanStore::SpanStore(size_t max_spans, int workers) {
  const int rings = std::max(workers, 0) + 1;
  // Whole chunks, rounded down: the rings together hold at most max_spans
  // (unless that is under 256 a ring).
  const size_t each = std::max<size_t>(256, max_spans / rings / 256 * 256);
  for (int i = 0; i < rings; ++i) rings_.push_back(std::make_unique<SpanRing>(each));
}

TraceStats SpanStore::Stats() const {
  TraceStats s;
  for (const auto& r : rings_) {
    const uint64_t w = r->written();
    s.dropped += r->dropped();
    s.stored += std::min<uint64_t>(w, r->capacity());
    s.recorded += w;
  }
  // Refused spans were never written; they count as recorded and dropped.
  for (const auto& r : rings_) {
    const uint64_t w = r->written();
    s.recorded += r->dropped() - (w > r->capacity() ? w - r->capacity() : 0);
  }
  return s;
}

}  // namespace polis::internal
