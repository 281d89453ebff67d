// tools/bench_scale.cc — `polis bench scale` (bench.h): its dispatch and
// the curves on this process's own nodes (the remote ones are in
// bench_scale_remote.cc):
//
//   scale_pairs        1, 10, 100, 10,000 busy server pairs on one node:
//                      CastLoop -> its own Sink (1 M casts in all, divided
//                      among the pairs; msgs/s from the first start to the
//                      last confirmation), then CallLoop -> its own Echo
//                      (200 k calls in all; calls/s, p50/p99 of every call).
//   scale_idle_memory  10,000 and 1,000,000 idle named servers spawned by a
//                      Spawner on a fresh node: RSS growth per server, the
//                      seconds to spawn them and to shut the node down.
//   scale_idle_cpu     an idle node in a child process (`bench-peer --idle`)
//                      in a mesh with 31 nodes of this process: once it
//                      lists 31 peers up, its CPU over 10 s of wall time
//                      (percent of one core, ms per s) and its RSS; also
//                      what this process's 31 nodes used meanwhile.
#include <unistd.h>

#include <array>
#include <chrono>
#include <memory>
#include <thread>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "examples/echo.h"
#include "node/node.h"
#include "tools/bench.h"
#include "tools/bench_remote_setup.h"

namespace polis::tools {
namespace {

constexpr std::array<int, 4> kPairs = {1, 10, 100, 10000};
constexpr int64_t kPairCasts = 1000000;
constexpr int64_t kPairCalls = 200000;
constexpr std::array<int64_t, 2> kIdleServers = {10000, 1000000};
constexpr int kIdlePeers = 31;
constexpr absl::Duration kIdleWindow = absl::Seconds(10);

absl::StatusOr<std::unique_ptr<Node>> LocalNode(const std::string& name) {
  NodeOptions options;
  options.name = name;
  options.trace.sampler = Sampler::Never();
  return Node::Create(std::move(options));
}

// Spawns `count` servers made by `make(i)` named `name_of(i)`; stops them
// when destroyed.
class Servers {
 public:
  explicit Servers(Node& node) : node_(node) {}
  ~Servers() {
    for (const Pid& pid : pids_) (void)node_.Stop(pid);
  }
  template <typename Make, typename NameOf>
  absl::Status Spawn(int count, Make make, NameOf name_of) {
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<Pid> pid = node_.Spawn(make(i), {.name = name_of(i)});
      if (!pid.ok()) return pid.status();
      pids_.push_back(*pid);
    }
    return absl::OkStatus();
  }

 private:
  Node& node_;
  std::vector<Pid> pids_;
};

std::string SinkName(int i) { return absl::StrCat("sink-", i); }
std::string CastLoopName(int i) { return absl::StrCat("cast-loop-", i); }
std::string EchoName(int i) { return absl::StrCat("echo-", i); }

absl::Status PairsPoint(Node& node, int pairs, bool json) {
  const int64_t casts = kPairCasts / pairs, calls = kPairCalls / pairs;
  double casts_per_s = 0;
  {
    Servers sinks(node);
    if (absl::Status s = sinks.Spawn(
            pairs, [](int i) { return std::make_unique<Sink>(CastLoopName(i)); }, SinkName);
        !s.ok()) {
      return s;
    }
    LoopResult result(pairs);
    absl::StatusOr<double> seconds = RunLoops(
        node, result, pairs, casts,
        [&](int i) { return std::make_unique<CastLoop>(SinkName(i), &result, 1); }, CastLoopName);
    if (!seconds.ok()) return seconds.status();
    absl::MutexLock lock(&result.mu);
    if (result.confirmed != casts * pairs) {
      return absl::DataLossError(absl::StrCat("scale_pairs: the sinks confirmed ", result.confirmed,
                                              " of ", casts * pairs, " casts"));
    }
    casts_per_s = casts * pairs / *seconds;
  }
  Servers echoes(node);
  if (absl::Status s = echoes.Spawn(
          pairs, [](int) { return std::make_unique<examples::Echo>(); }, EchoName);
      !s.ok()) {
    return s;
  }
  LoopResult result(pairs);
  result.latencies_us.resize(pairs);
  absl::StatusOr<double> seconds = RunLoops(node, result, pairs, calls, [&](int i) {
    return std::make_unique<CallLoop>(EchoName(i), &result, i);
  });
  if (!seconds.ok()) return seconds.status();
  std::vector<double> all;
  all.reserve(calls * pairs);
  for (const std::vector<double>& v : result.latencies_us)
    all.insert(all.end(), v.begin(), v.end());
  BenchLine("scale_pairs")
      .Add("pairs", pairs)
      .Add("casts_per_s", casts_per_s)
      .Add("casts", casts * pairs)
      .Add("calls_per_s", calls * pairs / *seconds)
      .Add("call_p50_us", Percentile(all, 0.50))
      .Add("call_p99_us", Percentile(all, 0.99))
      .Add("calls", calls * pairs)
      .Print(json);
  return absl::OkStatus();
}

absl::Status PairsCurve(bool json) {
  absl::StatusOr<std::unique_ptr<Node>> node = LocalNode("bench-scale-pairs");
  if (!node.ok()) return node.status();
  absl::Status status;
  for (int pairs : kPairs) {
    status = PairsPoint(**node, pairs, json);
    if (!status.ok()) break;
  }
  (*node)->Shutdown();
  return status;
}

absl::Status IdleMemoryPoint(int64_t servers, bool json) {
  absl::StatusOr<std::unique_ptr<Node>> node = LocalNode("bench-scale-idle");
  if (!node.ok()) return node.status();
  absl::StatusOr<SpawnFigures> spawned = SpawnIdleServers(**node, servers);
  if (!spawned.ok()) return spawned.status();
  auto stop_start = std::chrono::steady_clock::now();
  (*node)->Shutdown();
  BenchLine("scale_idle_memory")
      .Add("servers", servers)
      .Add("bytes_per_server", spawned->bytes_per_server)
      .Add("spawn_seconds", spawned->seconds)
      .Add("shutdown_seconds", MicrosSince(stop_start) / 1e6)
      .Print(json);
  return absl::OkStatus();
}

// Peers `node` lists as up, as `polis nodes` shows them.
absl::StatusOr<int> UpMembers(Node& asker, const std::string& node) {
  absl::StatusOr<wire::NodeInfo> info = asker.Info(node, absl::Seconds(5));
  if (!info.ok()) return info.status();
  return static_cast<int>(absl::c_count_if(
      info->members(), [](const wire::MemberInfo& m) { return m.state() == "up"; }));
}

absl::Status IdleCpu(bool json) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(
      {"/proc/self/exe", kBenchPeerCommand, "--transport=tcp", "--idle"}, absl::Seconds(10));
  if (!child.ok()) return child.status();
  std::vector<std::string> ready = absl::StrSplit((*child)->first_line(), ' ');
  if (ready.size() != 3 || ready[0] != "ready") {
    return absl::InternalError(absl::StrCat("bench peer said: ", (*child)->first_line()));
  }
  std::vector<std::unique_ptr<Node>> peers;
  auto shutdown = [&peers] {
    for (auto& n : peers) n->Shutdown();
  };
  for (int i = 0; i < kIdlePeers; ++i) {
    NodeOptions options;
    options.name = absl::StrCat("bench-idle-peer-", i);
    options.scheduler_threads = 1;
    options.listen = "tcp://127.0.0.1:*";
    options.seeds = {ready[1]};
    options.trace.sampler = Sampler::Never();
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Create(std::move(options));
    if (!node.ok()) {
      shutdown();
      return node.status();
    }
    peers.push_back(*std::move(node));
  }
  for (auto& n : peers) {
    if (absl::Status s = n->Join(absl::Seconds(10)); !s.ok()) {
      shutdown();
      return s;
    }
  }
  // Until the child lists all 31 as up (a membership poll, not a measurement).
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  absl::StatusOr<int> up = 0;
  while ((up = UpMembers(*peers[0], ready[2])).ok() && *up < kIdlePeers) {
    if (absl::Now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!up.ok() || *up < kIdlePeers) {
    shutdown();
    return absl::DeadlineExceededError(absl::StrCat(
        "scale_idle_cpu: the idle node lists ",
        up.ok() ? absl::StrCat(*up) : up.status().ToString(), " of ", kIdlePeers, " peers up"));
  }
  const pid_t pid = (*child)->pid();
  const int64_t cpu_before = CpuNanos(pid), own_before = CpuNanos(getpid());
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(kIdleWindow));  // The window measured.
  const double wall_ns = MicrosSince(start) * 1e3;
  const double cpu_ns = CpuNanos(pid) - cpu_before, own_ns = CpuNanos(getpid()) - own_before;
  const int64_t rss = ResidentBytes(pid);
  absl::StatusOr<int> up_after = UpMembers(*peers[0], ready[2]);
  shutdown();
  BenchLine("scale_idle_cpu")
      .Add("members", kIdlePeers + 1)
      .Add("members_up_after", up_after.ok() ? *up_after + 1 : -1)
      .Add("seconds", wall_ns / 1e9)
      .Add("cpu_percent", 100 * cpu_ns / wall_ns)
      .Add("cpu_ms_per_s", cpu_ns / 1e6 / (wall_ns / 1e9))
      .Add("rss_mib", rss / 1048576.0)
      .Add("peers_cpu_percent", 100 * own_ns / wall_ns)
      .Print(json);
  return absl::OkStatus();
}

absl::Status IdleCurve(bool json) {
  for (int64_t servers : kIdleServers) {
    if (absl::Status s = IdleMemoryPoint(servers, json); !s.ok()) return s;
  }
  return IdleCpu(json);
}

}  // namespace

absl::Status CheckScaleCurveName(const std::string& only) {
  return CheckOnlyName(only, kScaleCurves);
}

absl::Status RunScaleBench(bool json, const std::string& only) {
  if (absl::Status s = CheckScaleCurveName(only); !s.ok()) return s;
  using Curve = absl::Status (*)(bool json);
  // Idle first: its RSS growth per server must not be heap the other
  // curves' servers freed (with the malloc thresholds of malloc_tuning.h
  // the heap keeps it, and 10,000 idle servers then seemed to cost ~200 B).
  const std::array<std::pair<std::string, Curve>, kScaleCurves.size()> curves = {{
      {"idle", IdleCurve},
      {"size", ScaleSizeCurve},
      {"pairs", PairsCurve},
      {"callers", ScaleCallersCurve},
  }};
  for (const auto& [name, run] : curves) {
    if (!only.empty() && only != name) continue;
    if (absl::Status s = run(json); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace polis::tools
