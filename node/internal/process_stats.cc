// node/internal/process_stats.cc — see process_stats.h.
#include "node/internal/process_stats.h"

namespace polis::internal {

void ProcessStats::AddTo(ServerMetrics* m) const {
  m->calls += handled_[0].load(std::memory_order_relaxed);
  m->casts += handled_[1].load(std::memory_order_relaxed);
  m->infos += handled_[2].load(std::memory_order_relaxed);
  for (int c = 0; c < kStatusCodes; ++c) {
    m->answered[c] += answered_[c].load(std::memory_order_relaxed);
  }
  for (size_t b = 0; b < LatencyHistogram::kBuckets; ++b) {
    const uint64_t n = buckets_[b].load(std::memory_order_relaxed);
    m->latency.counts[b] += n;
    m->latency.count += n;
  }
  m->latency.sum_ns += sum_ns_.load(std::memory_order_relaxed);
}

}  // namespace polis::internal
