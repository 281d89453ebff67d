// tools/bench_remote.cc — `polis bench remote`: polis between two OS
// processes against a raw ZeroMQ baseline, interleaved in one run.
//
//   remote_call            one call in flight from a plain thread, 100-byte
//                          payload, over tcp and over ipc: p50/p99 of both
//                          and ratio_p50 = polis / zmq.
//   remote_cast            a GenServer casting to a remote one, confirmed by
//                          a final call, vs. one-way DEALER->ROUTER.
//   remote_call_pipelined  100 GenServers calling a remote one at once, vs.
//                          a DEALER keeping 100 requests in flight.
//   remote_call_curve      remote_call over tcp with CurveZMQ on both
//                          nodes (a second peer process) against plain
//                          tcp, in alternating rounds: ratio_vs_plain of
//                          the p50s.
//   remote_call_traced     remote_call's polis calls in traces that are
//                          sampled (both nodes record their spans: the
//                          caller's reply span, the server's call span)
//                          against unsampled ones (nothing recorded), in
//                          alternating rounds: ratio_vs_untraced of the p50s.
// Traces the bench itself starts (the loops' Count casts) are not sampled:
// the bench node samples none, so every figure but remote_call_traced's
// traced side is untraced.
// Each figure is the median over kRounds rounds; within a round the zmq and
// polis runs alternate, and a ratio is the median of the rounds' ratios
// (MedianRatio: paired, so host noise in one round moves both sides). The
// peer process is always stopped (ChildProcess).
#include <unistd.h>

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "node/node.h"
#include "tools/bench.h"
#include "tools/bench_servers.h"
#include "tools/bench_stats.h"
#include "tools/bench_remote_setup.h"

namespace polis::tools {
namespace {

constexpr int kRounds = 7;
constexpr int kWarmup = 1000;
constexpr int kCallsPerRound = 5000;
constexpr int kCastsPerRound = 200000;
constexpr int kInFlight = 100;
constexpr int kPipelinedCallsPerCaller = 300;

// Plain and CURVE nodes over tcp, alternating rounds of remote_call's loop.
absl::Status RemoteCallCurve(RemoteSetup& plain, RemoteSetup& curve, bool json) {
  if (auto w = PolisRoundTrips(*plain.node, kWarmup); !w.ok()) return w.status();
  if (auto w = PolisRoundTrips(*curve.node, kWarmup); !w.ok()) return w.status();
  std::vector<double> plain_p50, plain_p99, curve_p50, curve_p99;
  for (int round = 0; round < kRounds; ++round) {
    absl::StatusOr<std::vector<double>> p = PolisRoundTrips(*plain.node, kCallsPerRound);
    if (!p.ok()) return p.status();
    absl::StatusOr<std::vector<double>> c = PolisRoundTrips(*curve.node, kCallsPerRound);
    if (!c.ok()) return c.status();
    plain_p50.push_back(Percentile(*p, 0.50));
    plain_p99.push_back(Percentile(*p, 0.99));
    curve_p50.push_back(Percentile(*c, 0.50));
    curve_p99.push_back(Percentile(*c, 0.99));
  }
  BenchLine("remote_call_curve")
      .Add("transport", "tcp")
      .Add("curve_p50_us", Median(curve_p50))
      .Add("curve_p99_us", Median(curve_p99))
      .Add("plain_p50_us", Median(plain_p50))
      .Add("plain_p99_us", Median(plain_p99))
      .Add("ratio_vs_plain", MedianRatio(curve_p50, plain_p50))
      .Print(json);
  return absl::OkStatus();
}

absl::Status RemoteCall(RemoteSetup& s, const std::string& transport, bool json) {
  if (auto w = s.zmq->RoundTrips(kWarmup); !w.ok()) return w.status();
  if (auto w = PolisRoundTrips(*s.node, kWarmup); !w.ok()) return w.status();
  if (auto w = PolisRoundTrips(*s.node, kWarmup, /*sampled=*/true); !w.ok()) return w.status();
  std::vector<double> zmq_p50, zmq_p99, polis_p50, polis_p99, traced_p50, traced_p99;
  for (int round = 0; round < kRounds; ++round) {
    absl::StatusOr<std::vector<double>> zmq = s.zmq->RoundTrips(kCallsPerRound);
    if (!zmq.ok()) return zmq.status();
    absl::StatusOr<std::vector<double>> polis = PolisRoundTrips(*s.node, kCallsPerRound);
    if (!polis.ok()) return polis.status();
    absl::StatusOr<std::vector<double>> traced =
        PolisRoundTrips(*s.node, kCallsPerRound, /*sampled=*/true);
    if (!traced.ok()) return traced.status();
    zmq_p50.push_back(Percentile(*zmq, 0.50));
    zmq_p99.push_back(Percentile(*zmq, 0.99));
    polis_p50.push_back(Percentile(*polis, 0.50));
    polis_p99.push_back(Percentile(*polis, 0.99));
    traced_p50.push_back(Percentile(*traced, 0.50));
    traced_p99.push_back(Percentile(*traced, 0.99));
  }
  BenchLine("remote_call")
      .Add("transport", transport)
      .Add("polis_p50_us", Median(polis_p50))
      .Add("polis_p99_us", Median(polis_p99))
      .Add("zmq_p50_us", Median(zmq_p50))
      .Add("zmq_p99_us", Median(zmq_p99))
      .Add("ratio_p50", MedianRatio(polis_p50, zmq_p50))
      .Print(json);
  BenchLine("remote_call_traced")
      .Add("transport", transport)
      .Add("traced_p50_us", Median(traced_p50))
      .Add("traced_p99_us", Median(traced_p99))
      .Add("untraced_p50_us", Median(polis_p50))
      .Add("untraced_p99_us", Median(polis_p99))
      .Add("ratio_vs_untraced", MedianRatio(traced_p50, polis_p50))
      .Print(json);
  return absl::OkStatus();
}

// CPU both processes (this one and the peer) use, in nanoseconds so far.
int64_t BothCpuNanos(const RemoteSetup& s) { return CpuNanos(getpid()) + CpuNanos(s.peer->pid()); }

// Measures the CPU both processes use while `run` runs, per `ops`
// operations, in microseconds, into `*out`.
template <typename Run>
auto CpuPerOp(const RemoteSetup& s, int64_t ops, std::vector<double>* out, Run run) {
  const int64_t before = BothCpuNanos(s);
  auto result = run();
  out->push_back((BothCpuNanos(s) - before) / 1e3 / ops);
  return result;
}

absl::Status RemoteCast(RemoteSetup& s, bool json) {
  std::vector<double> polis_rate, zmq_rate, polis_cpu, zmq_cpu;
  for (int round = 0; round < kRounds; ++round) {
    absl::StatusOr<double> zmq = CpuPerOp(s, kCastsPerRound, &zmq_cpu, [&] {
      return s.zmq->OneWayPerSecond(kCastsPerRound);
    });
    if (!zmq.ok()) return zmq.status();
    LoopResult result(1);
    absl::StatusOr<double> seconds = CpuPerOp(s, kCastsPerRound, &polis_cpu, [&] {
      return RunLoops(
          *s.node, result, 1, kCastsPerRound,
          [&](int) { return std::make_unique<CastLoop>("sink", &result, /*windows_in_flight=*/2); },
          [](int) { return std::string(kCastLoopName); });
    });
    if (!seconds.ok()) return seconds.status();
    if (result.confirmed != kCastsPerRound) {
      return absl::DataLossError(absl::StrCat("remote_cast: sink confirmed ", result.confirmed,
                                              " of ", kCastsPerRound));
    }
    zmq_rate.push_back(*zmq);
    polis_rate.push_back(kCastsPerRound / (result.elapsed_us / 1e6));
  }
  BenchLine("remote_cast")
      .Add("polis_msgs_per_s", Median(polis_rate))
      .Add("zmq_msgs_per_s", Median(zmq_rate))
      .Add("ratio", MedianRatio(polis_rate, zmq_rate))
      .Add("polis_cpu_us_per_msg", Median(polis_cpu))
      .Add("zmq_cpu_us_per_msg", Median(zmq_cpu))
      .Print(json);
  return absl::OkStatus();
}

absl::Status RemoteCallPipelined(RemoteSetup& s, bool json) {
  constexpr int kTotal = kInFlight * kPipelinedCallsPerCaller;
  std::vector<double> polis_rate, zmq_rate, polis_cpu, zmq_cpu;
  for (int round = 0; round < kRounds; ++round) {
    absl::StatusOr<double> zmq = CpuPerOp(s, kTotal, &zmq_cpu, [&] {
      return s.zmq->PipelinedPerSecond(kTotal, kInFlight);
    });
    if (!zmq.ok()) return zmq.status();
    LoopResult result(kInFlight);
    absl::StatusOr<double> seconds = CpuPerOp(s, kTotal, &polis_cpu, [&] {
      return RunLoops(*s.node, result, kInFlight, kPipelinedCallsPerCaller,
                      [&](int i) { return std::make_unique<CallLoop>("pong", &result, i); });
    });
    if (!seconds.ok()) return seconds.status();
    zmq_rate.push_back(*zmq);
    polis_rate.push_back(kTotal / *seconds);
  }
  BenchLine("remote_call_pipelined")
      .Add("in_flight", kInFlight)
      .Add("polis_calls_per_s", Median(polis_rate))
      .Add("zmq_req_per_s", Median(zmq_rate))
      .Add("ratio", MedianRatio(polis_rate, zmq_rate))
      .Add("polis_cpu_us_per_call", Median(polis_cpu))
      .Add("zmq_cpu_us_per_req", Median(zmq_cpu))
      .Print(json);
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRemoteBenchName(const std::string& only) {
  return CheckOnlyName(only, kRemoteBenches);
}

absl::Status RunRemoteBench(bool json, const std::string& only) {
  if (absl::Status s = CheckRemoteBenchName(only); !s.ok()) return s;
  auto wanted = [&only](const char* name) { return only.empty() || only == name; };
  for (const std::string transport : {"tcp", "ipc"}) {
    if (transport == "ipc" && !wanted("remote_call")) continue;
    absl::StatusOr<RemoteSetup> setup = ConnectPeer(transport);
    if (!setup.ok()) return setup.status();
    if (wanted("remote_call")) {
      if (absl::Status s = RemoteCall(*setup, transport, json); !s.ok()) return s;
    }
    if (transport == "tcp" && wanted("remote_cast")) {
      if (absl::Status s = RemoteCast(*setup, json); !s.ok()) return s;
    }
    if (transport == "tcp" && wanted("remote_call_pipelined")) {
      if (absl::Status s = RemoteCallPipelined(*setup, json); !s.ok()) return s;
    }
    if (transport == "tcp" && wanted("remote_call_curve")) {
      absl::StatusOr<RemoteSetup> curve = ConnectPeer(transport, /*curve=*/true);
      if (!curve.ok()) return curve.status();
      absl::Status s = RemoteCallCurve(*setup, *curve, json);
      curve->node->Shutdown();
      if (!s.ok()) return s;
    }
    setup->node->Shutdown();
    if (transport == "ipc") unlink(absl::StrCat("/tmp/polis-bench-", getpid(), "-main").c_str());
  }
  return absl::OkStatus();
}

}  // namespace polis::tools
