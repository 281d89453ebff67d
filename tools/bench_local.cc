// tools/bench_local.cc — `polis bench local`: the runtime on one node.
//
//   local_call     a GenServer calling another on the same node, one call in
//                  flight: p50/p99 of each call (untraced: the bench nodes
//                  sample no traces, so nothing is recorded).
//   local_call_traced  the same on a node sampling every trace (every call
//                  records the server's call span and the caller's reply
//                  span), alternating rounds with an untraced node:
//                  ratio_vs_untraced of the p50s (median of paired rounds).
//   external_call  a plain thread calling a GenServer.
//   local_cast     one GenServer casting to another, confirmed by a final call.
//   spawn          100,000 idle named GenServers, spawned one after another by
//                  a GenServer: time, and RSS growth per server.
#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "examples/echo.h"
#include "node/node.h"
#include "tools/bench.h"
#include "tools/bench_servers.h"
#include "tools/bench_stats.h"

namespace polis::tools {
namespace {

constexpr int kWarmupCalls = 2000;
constexpr int kCalls = 50000;
constexpr int kCasts = 1000000;
constexpr int kSpawns = 100000;

constexpr int kTracedRounds = 5;
constexpr int kTracedCallsPerRound = 20000;

absl::StatusOr<std::unique_ptr<Node>> BenchNode(const std::string& name,
                                                Sampler sampler = Sampler::Never()) {
  NodeOptions options;
  options.name = name;
  options.trace.sampler = sampler;
  return Node::Create(std::move(options));
}

absl::Status SpawnServers(Node& node) {
  if (auto s = node.Spawn(std::make_unique<examples::Echo>(), {.name = "pong", .kind = "echo"});
      !s.ok()) {
    return s.status();
  }
  if (auto s = node.Spawn(std::make_unique<Sink>(), {.name = "sink", .kind = "sink"}); !s.ok()) {
    return s.status();
  }
  return absl::OkStatus();
}

// Runs `calls` calls from a CallLoop on `node` to `target`; the latencies.
absl::StatusOr<std::vector<double>> RunCallLoop(Node& node, const std::string& target,
                                                int calls) {
  LoopResult result(1);
  result.latencies_us.resize(1);
  absl::StatusOr<Pid> loop = node.Spawn(std::make_unique<CallLoop>(target, &result, 0));
  if (!loop.ok()) return loop.status();
  if (absl::Status s = node.Cast(*loop, Count(calls)); !s.ok()) return s;
  result.done.Wait();
  (void)node.Stop(*loop);
  absl::MutexLock lock(&result.mu);
  if (!result.error.ok()) return result.error;
  return std::move(result.latencies_us[0]);
}

absl::Status LocalCall(Node& node, bool json) {
  if (auto warm = RunCallLoop(node, "pong", kWarmupCalls); !warm.ok()) return warm.status();
  absl::StatusOr<std::vector<double>> lat = RunCallLoop(node, "pong", kCalls);
  if (!lat.ok()) return lat.status();
  BenchLine("local_call")
      .Add("p50_us", Percentile(*lat, 0.50))
      .Add("p99_us", Percentile(*lat, 0.99))
      .Add("calls", kCalls)
      .Print(json);
  return absl::OkStatus();
}

// local_call on `untraced` against a node that records every span,
// alternating rounds.
absl::Status LocalCallTraced(Node& untraced, bool json) {
  absl::StatusOr<std::unique_ptr<Node>> traced = BenchNode("bench-traced", Sampler::Always());
  if (!traced.ok()) return traced.status();
  if (absl::Status s = SpawnServers(**traced); !s.ok()) return s;
  if (auto warm = RunCallLoop(**traced, "pong", kWarmupCalls); !warm.ok()) return warm.status();
  std::vector<double> traced_p50, untraced_p50, traced_p99, untraced_p99;
  for (int round = 0; round < kTracedRounds; ++round) {
    absl::StatusOr<std::vector<double>> u = RunCallLoop(untraced, "pong", kTracedCallsPerRound);
    if (!u.ok()) return u.status();
    absl::StatusOr<std::vector<double>> t = RunCallLoop(**traced, "pong", kTracedCallsPerRound);
    if (!t.ok()) return t.status();
    untraced_p50.push_back(Percentile(*u, 0.50));
    untraced_p99.push_back(Percentile(*u, 0.99));
    traced_p50.push_back(Percentile(*t, 0.50));
    traced_p99.push_back(Percentile(*t, 0.99));
  }
  const TraceStats stats = (*traced)->trace_stats();
  BenchLine("local_call_traced")
      .Add("traced_p50_us", Median(traced_p50))
      .Add("traced_p99_us", Median(traced_p99))
      .Add("untraced_p50_us", Median(untraced_p50))
      .Add("untraced_p99_us", Median(untraced_p99))
      .Add("ratio_vs_untraced", MedianRatio(traced_p50, untraced_p50))
      .Add("spans_recorded", static_cast<double>(stats.recorded))
      .Print(json);
  (*traced)->Shutdown();
  return absl::OkStatus();
}

absl::Status ExternalCall(Node& node, bool json) {
  const google::protobuf::BytesValue payload = BenchPayload();
  std::vector<double> lat;
  lat.reserve(kCalls);
  for (int i = 0; i < kWarmupCalls + kCalls; ++i) {
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<Message> reply = node.CallRaw("pong", payload);
    if (!reply.ok()) return reply.status();
    if (i >= kWarmupCalls) lat.push_back(MicrosSince(start));
  }
  BenchLine("external_call")
      .Add("p50_us", Percentile(lat, 0.50))
      .Add("p99_us", Percentile(lat, 0.99))
      .Add("calls", kCalls)
      .Print(json);
  return absl::OkStatus();
}

absl::Status LocalCast(Node& node, bool json) {
  LoopResult result(1);
  absl::StatusOr<Pid> loop =
      node.Spawn(std::make_unique<CastLoop>("sink", &result, /*windows_in_flight=*/1),
                 {.name = kCastLoopName});
  if (!loop.ok()) return loop.status();
  if (absl::Status s = node.Cast(*loop, Count(kCasts)); !s.ok()) return s;
  result.done.Wait();
  (void)node.Stop(*loop);
  {
    absl::MutexLock lock(&result.mu);
    if (!result.error.ok()) return result.error;
  }
  if (result.confirmed != kCasts) {
    return absl::InternalError(
        absl::StrCat("local_cast: sink confirmed ", result.confirmed, " of ", kCasts, " casts"));
  }
  BenchLine("local_cast")
      .Add("msgs_per_s", kCasts / (result.elapsed_us / 1e6))
      .Add("casts", kCasts)
      .Print(json);
  return absl::OkStatus();
}

absl::Status Spawn(bool json) {
  absl::StatusOr<std::unique_ptr<Node>> node = BenchNode("bench-spawn");
  if (!node.ok()) return node.status();
  absl::StatusOr<SpawnFigures> spawned = SpawnIdleServers(**node, kSpawns);
  if (!spawned.ok()) return spawned.status();
  BenchLine("spawn")
      .Add("count", kSpawns)
      .Add("seconds", spawned->seconds)
      .Add("bytes_per_server", spawned->bytes_per_server)
      .Print(json);
  (*node)->Shutdown();
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckLocalBenchName(const std::string& only) {
  return CheckOnlyName(only, kLocalBenches);
}

absl::Status RunLocalBench(bool json, const std::string& only) {
  if (absl::Status s = CheckLocalBenchName(only); !s.ok()) return s;
  auto wanted = [&only](const char* name) { return only.empty() || only == name; };
  {
    absl::StatusOr<std::unique_ptr<Node>> node = BenchNode("bench-local");
    if (!node.ok()) return node.status();
    if (absl::Status s = SpawnServers(**node); !s.ok()) return s;
    if (wanted("local_call")) {
      if (absl::Status s = LocalCall(**node, json); !s.ok()) return s;
    }
    if (wanted("external_call")) {
      if (absl::Status s = ExternalCall(**node, json); !s.ok()) return s;
    }
    if (wanted("local_cast")) {
      if (absl::Status s = LocalCast(**node, json); !s.ok()) return s;
    }
    // After the others: its second node's threads must not disturb them.
    if (wanted("local_call_traced")) {
      if (absl::Status s = LocalCallTraced(**node, json); !s.ok()) return s;
    }
  }
  // Last, on a fresh node, so the RSS growth is the servers' alone.
  return wanted("spawn") ? Spawn(json) : absl::OkStatus();
}

}  // namespace polis::tools
