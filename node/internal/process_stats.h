// node/internal/process_stats.h — the counters of one process
// (node/metrics.h): messages handled by kind, calls answered by status
// code, and how long its handlers ran.
//
// Written by the process's runner only: one thread at a time, handed on
// through the scheduler's claim, so each count is a relaxed load and store
// — no read-modify-write, no lock (a local cast costs ~200 ns; a locked
// add per message would show). Read by any thread with relaxed loads
// (Node::Metrics). A process makes its ProcessStats on its first message
// (ProcessStatsSlot): 100,000 idle servers carry a null pointer each.
//
// Durations: a message whose trace is sampled is timed by its span's own
// two clock reads (Process::EndSpan calls Observe), which costs nothing
// more; of the others, one in kLatencySampleEvery (the first, then every
// 64th) is timed with two reads of the monotonic clock (~22 ns each on the
// project's VMs); the rest cost one decrement.
//
// Thread-safety: as above — Started, Finished, Observe and Answered on the
// runner; AddTo on any thread.
//
// Example (what Process does):
//   ProcessStats& s = stats_.Get();   // runner
//   s.Started(wire::KIND_CALL, /*timed_by_span=*/false);  ...handler...
//   s.Answered(code);  s.Finished();
//   if (const ProcessStats* p = stats_.Peek()) p->AddTo(&server_metrics);  // any thread
#ifndef POLIS_NODE_INTERNAL_PROCESS_STATS_H_
#define POLIS_NODE_INTERNAL_PROCESS_STATS_H_

#include <time.h>

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "node/metrics.h"
#include "polis/envelope.pb.h"

namespace polis::internal {

class ProcessStats {
 public:
  // Runner: the handler of a message of `kind` starts (KIND_CALL, _CAST or
  // _INFO; others are not counted). `timed_by_span`: its span's clock reads
  // time it (Observe follows); otherwise it may be sampled here.
  void Started(wire::Kind kind, bool timed_by_span) {
    const int i = static_cast<int>(kind) - static_cast<int>(wire::KIND_CALL);
    if (i < 0 || i >= static_cast<int>(handled_.size())) return;
    Bump(handled_[i], 1);
    if (!timed_by_span && --until_sample_ == 0) {
      until_sample_ = kLatencySampleEvery;
      start_ns_ = MonotonicNs();
    }
  }
  // Runner: the handler started last ended (returned, failed or threw).
  // Records its duration if Started sampled it.
  void Finished() {
    if (start_ns_ == 0) [[likely]] return;
    const int64_t ns = MonotonicNs() - start_ns_;
    start_ns_ = 0;
    Observe(ns);
  }
  // Runner: a handler ran `ns` nanoseconds.
  void Observe(int64_t ns) {
    Bump(buckets_[LatencyHistogram::BucketOf(ns)], 1);
    sum_ns_.store(sum_ns_.load(std::memory_order_relaxed) + ns, std::memory_order_relaxed);
  }
  // Runner: a call was answered with `code`.
  void Answered(absl::StatusCode code) {
    int c = static_cast<int>(code);
    if (c < 0 || c >= kStatusCodes) c = static_cast<int>(absl::StatusCode::kUnknown);
    Bump(answered_[c], 1);
  }

  // Any thread: adds these counts to `m` (calls, casts, infos, answered,
  // latency).
  void AddTo(ServerMetrics* m) const;

 private:
  static void Bump(std::atomic<uint64_t>& c, uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static int64_t MonotonicNs() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  }

  // What every message touches comes first, in one cache line: the
  // runner's sampling state, the handled counts, OK answers.
  int until_sample_ = 1;  // Messages until the next timed one (the first is).
  int64_t start_ns_ = 0;  // When the timed handler started; 0: none is.
  // Zeroed by the value-initialization in ProcessStatsSlot::Make.
  std::array<std::atomic<uint64_t>, 3> handled_;  // call, cast, info
  std::array<std::atomic<uint64_t>, kStatusCodes> answered_;
  std::array<std::atomic<uint64_t>, LatencyHistogram::kBuckets> buckets_;
  std::atomic<int64_t> sum_ns_;
};

// A process's ProcessStats, made on its first message.
class ProcessStatsSlot {
 public:
  ProcessStatsSlot() = default;
  ProcessStatsSlot(const ProcessStatsSlot&) = delete;
  ProcessStatsSlot& operator=(const ProcessStatsSlot&) = delete;
  ~ProcessStatsSlot() { delete stats_.load(std::memory_order_acquire); }

  // Runner only: the stats, made on first use.
  ProcessStats& Get() {
    ProcessStats* s = stats_.load(std::memory_order_relaxed);
    if (s == nullptr) [[unlikely]]
      s = Make();
    return *s;
  }
  // Any thread: null until the process's first message.
  const ProcessStats* Peek() const { return stats_.load(std::memory_order_acquire); }

 private:
  ProcessStats* Make() {
    auto* s = new ProcessStats();  // () zeroes the atomics.
    stats_.store(s, std::memory_order_release);
    return s;
  }
  std::atomic<ProcessStats*> stats_{nullptr};
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_PROCESS_STATS_H_
