// tools/bench_scale_remote.cc — the remote curves of `polis bench scale`
// (bench.h), against one `bench-peer` process over tcp:
//
//   scale_size     per payload size (100 B .. 4 MiB): a plain thread's
//                  calls to "pong", one in flight (p50/p99), against raw
//                  ZeroMQ round trips of the same size (ratio_p50); casts
//                  from a CastLoop to "sink" (msgs/s, MB/s) against raw
//                  one-way DEALER messages of that size (cast_ratio).
//                  Counts shrink as the size grows (a byte budget per
//                  round), and so do the CastLoop's windows (16 MiB of
//                  casts per window at most). A size polis refuses gives a
//                  line with "error" instead of figures.
//   scale_callers  1 .. 1,000 CallLoops calling "pong" at once (calls/s,
//                  p50/p99 per call) against a DEALER keeping as many
//                  requests in flight (ratio).
// Each figure is the median of kRounds rounds in which zmq and polis
// alternate; a ratio is the median of the rounds' ratios (MedianRatio).
#include <algorithm>
#include <array>
#include <memory>

#include "absl/strings/str_cat.h"
#include "tools/bench.h"
#include "tools/bench_remote_setup.h"

namespace polis::tools {
namespace {

constexpr int kRounds = 3;
constexpr int kWarmup = 1000;
constexpr std::array<int64_t, 5> kSizes = {100, 1 << 10, 16 << 10, 256 << 10, 4 << 20};
constexpr std::array<int, 4> kCallers = {1, 10, 100, 1000};

// Per round and size: calls (one in flight) and casts, by a byte budget.
int64_t CallsPerRound(int64_t bytes) { return std::clamp<int64_t>((64 << 20) / bytes, 30, 2000); }
int64_t CastsPerRound(int64_t bytes) {
  return std::clamp<int64_t>((128 << 20) / bytes, 16, 100000);
}
// CastLoop's window for `bytes` casts: at most 16 MiB of them.
int64_t CastWindow(int64_t bytes) {
  return std::clamp<int64_t>((16 << 20) / bytes, 1, kCastWindow);
}
// Calls per round with `callers` in flight.
int64_t CallerCalls(int callers) { return callers == 1 ? 2000 : 20000; }

struct SizeRound {
  double polis_p50, polis_p99, zmq_p50, zmq_p99, polis_casts, zmq_casts;
};

absl::StatusOr<SizeRound> MeasureSize(RemoteSetup& s, int64_t bytes) {
  const int64_t calls = CallsPerRound(bytes), casts = CastsPerRound(bytes);
  SizeRound r;
  absl::StatusOr<std::vector<double>> zmq = s.zmq->RoundTrips(calls);
  if (!zmq.ok()) return zmq.status();
  absl::StatusOr<std::vector<double>> polis = PolisRoundTrips(*s.node, calls, false, bytes);
  if (!polis.ok()) return polis.status();
  r.zmq_p50 = Percentile(*zmq, 0.50);
  r.zmq_p99 = Percentile(*zmq, 0.99);
  r.polis_p50 = Percentile(*polis, 0.50);
  r.polis_p99 = Percentile(*polis, 0.99);
  absl::StatusOr<double> zmq_rate = s.zmq->OneWayPerSecond(casts);
  if (!zmq_rate.ok()) return zmq_rate.status();
  r.zmq_casts = *zmq_rate;
  LoopResult result(1);
  absl::StatusOr<double> seconds = RunLoops(
      *s.node, result, 1, casts,
      [&](int) {
        return std::make_unique<CastLoop>("sink", &result, /*windows_in_flight=*/2, bytes,
                                          CastWindow(bytes));
      },
      [](int) { return std::string(kCastLoopName); });
  if (!seconds.ok()) return seconds.status();
  absl::MutexLock lock(&result.mu);
  if (result.confirmed != casts) {
    return absl::DataLossError(
        absl::StrCat("sink confirmed ", result.confirmed, " of ", casts, " casts"));
  }
  r.polis_casts = casts / (result.elapsed_us / 1e6);
  return r;
}

// `kRounds` results of `measure()`, or its first failure.
template <typename Measure>
auto Rounds(Measure measure)
    -> absl::StatusOr<std::vector<typename decltype(measure())::value_type>> {
  std::vector<typename decltype(measure())::value_type> rounds;
  for (int round = 0; round < kRounds; ++round) {
    auto r = measure();
    if (!r.ok()) return r.status();
    rounds.push_back(*std::move(r));
  }
  return rounds;
}

// One figure of every round.
template <typename Round>
std::vector<double> Each(const std::vector<Round>& rounds, double Round::*figure) {
  std::vector<double> v;
  for (const Round& r : rounds) v.push_back(r.*figure);
  return v;
}

// The median of one figure over the rounds.
template <typename Round>
double MedianOf(const std::vector<Round>& rounds, double Round::*figure) {
  return Median(Each(rounds, figure));
}

// The median of the rounds' ratios of two figures (MedianRatio).
template <typename Round>
double RatioOf(const std::vector<Round>& rounds, double Round::*a, double Round::*b) {
  return MedianRatio(Each(rounds, a), Each(rounds, b));
}

absl::Status SizePoint(RemoteSetup& s, int64_t bytes, bool json) {
  s.zmq->set_payload_bytes(bytes);
  BenchLine line("scale_size");
  line.Add("bytes", bytes);
  // A short warm-up of both sides at this size, then the rounds.
  absl::Status warm = s.zmq->RoundTrips(3).status();
  if (warm.ok()) warm = PolisRoundTrips(*s.node, 3, false, bytes).status();
  absl::StatusOr<std::vector<SizeRound>> rounds =
      warm.ok() ? Rounds([&] { return MeasureSize(s, bytes); })
                : absl::StatusOr<std::vector<SizeRound>>(warm);
  if (!rounds.ok()) {
    line.Add("error", rounds.status().ToString()).Print(json);
    return rounds.status();
  }
  const double mb = bytes / 1e6;
  const double polis_casts = MedianOf(*rounds, &SizeRound::polis_casts);
  const double zmq_casts = MedianOf(*rounds, &SizeRound::zmq_casts);
  line.Add("polis_call_p50_us", MedianOf(*rounds, &SizeRound::polis_p50))
      .Add("polis_call_p99_us", MedianOf(*rounds, &SizeRound::polis_p99))
      .Add("zmq_rtt_p50_us", MedianOf(*rounds, &SizeRound::zmq_p50))
      .Add("zmq_rtt_p99_us", MedianOf(*rounds, &SizeRound::zmq_p99))
      .Add("ratio_p50", RatioOf(*rounds, &SizeRound::polis_p50, &SizeRound::zmq_p50))
      .Add("polis_casts_per_s", polis_casts)
      .Add("polis_cast_mb_per_s", polis_casts * mb)
      .Add("zmq_msgs_per_s", zmq_casts)
      .Add("zmq_mb_per_s", zmq_casts * mb)
      .Add("cast_ratio", RatioOf(*rounds, &SizeRound::polis_casts, &SizeRound::zmq_casts))
      .Add("calls", CallsPerRound(bytes))
      .Add("casts", CastsPerRound(bytes))
      .Add("rounds", kRounds)
      .Print(json);
  return absl::OkStatus();
}

struct CallersRound {
  double polis_rate, zmq_rate, p50, p99;
};

absl::StatusOr<CallersRound> MeasureCallers(RemoteSetup& s, int callers) {
  const int64_t per_caller = CallerCalls(callers) / callers;
  const int64_t total = per_caller * callers;
  CallersRound r;
  absl::StatusOr<double> zmq = s.zmq->PipelinedPerSecond(total, callers);
  if (!zmq.ok()) return zmq.status();
  r.zmq_rate = *zmq;
  LoopResult result(callers);
  result.latencies_us.resize(callers);
  absl::StatusOr<double> seconds = RunLoops(*s.node, result, callers, per_caller, [&](int i) {
    return std::make_unique<CallLoop>("pong", &result, i);
  });
  if (!seconds.ok()) return seconds.status();
  r.polis_rate = total / *seconds;
  std::vector<double> all;
  all.reserve(total);
  for (const std::vector<double>& v : result.latencies_us)
    all.insert(all.end(), v.begin(), v.end());
  r.p50 = Percentile(all, 0.50);
  r.p99 = Percentile(all, 0.99);
  return r;
}

}  // namespace

absl::Status ScaleSizeCurve(bool json) {
  absl::StatusOr<RemoteSetup> setup = ConnectPeer("tcp");
  if (!setup.ok()) return setup.status();
  absl::Status status;
  if (auto w = setup->zmq->RoundTrips(kWarmup); !w.ok()) status = w.status();
  if (auto w = PolisRoundTrips(*setup->node, kWarmup); status.ok() && !w.ok()) status = w.status();
  // A size that fails is reported on its line (its error instead of
  // figures); the larger ones still run, and so do the other curves.
  for (int64_t bytes : kSizes) {
    if (!status.ok()) break;
    (void)SizePoint(*setup, bytes, json);
  }
  setup->node->Shutdown();
  return status;
}

absl::Status ScaleCallersCurve(bool json) {
  absl::StatusOr<RemoteSetup> setup = ConnectPeer("tcp");
  if (!setup.ok()) return setup.status();
  absl::Status status;
  if (auto w = PolisRoundTrips(*setup->node, kWarmup); !w.ok()) status = w.status();
  for (int callers : kCallers) {
    if (!status.ok()) break;
    BenchLine line("scale_callers");
    line.Add("callers", callers);
    absl::StatusOr<std::vector<CallersRound>> rounds =
        Rounds([&] { return MeasureCallers(*setup, callers); });
    if (!rounds.ok()) {
      status = rounds.status();
      line.Add("error", status.ToString()).Print(json);
      break;
    }
    line.Add("polis_calls_per_s", MedianOf(*rounds, &CallersRound::polis_rate))
        .Add("p50_us", MedianOf(*rounds, &CallersRound::p50))
        .Add("p99_us", MedianOf(*rounds, &CallersRound::p99))
        .Add("zmq_req_per_s", MedianOf(*rounds, &CallersRound::zmq_rate))
        .Add("ratio", RatioOf(*rounds, &CallersRound::polis_rate, &CallersRound::zmq_rate))
        .Add("calls", CallerCalls(callers) / callers * callers)
        .Add("rounds", kRounds)
        .Print(json);
  }
  setup->node->Shutdown();
  return status;
}

}  // namespace polis::tools
