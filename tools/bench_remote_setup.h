// tools/bench_remote_setup.h — what `polis bench remote` and `polis bench
// scale` share: the peer process and a node joined to it, a plain thread's
// timed calls, and loop servers started together.
//
// Thread-safety: one benchmark thread owns a RemoteSetup. RunLoops and
// PolisRoundTrips are called from plain threads (not from handlers).
//
// Example:
//   absl::StatusOr<RemoteSetup> s = ConnectPeer("tcp");
//   absl::StatusOr<std::vector<double>> lat = PolisRoundTrips(*s->node, 5000);
//   s->node->Shutdown();   // then the peer process stops with `s`
#ifndef POLIS_TOOLS_BENCH_REMOTE_SETUP_H_
#define POLIS_TOOLS_BENCH_REMOTE_SETUP_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/node.h"
#include "tools/bench_servers.h"
#include "tools/bench_stats.h"
#include "tools/bench_zmq.h"
#include "tools/child_process.h"

namespace polis::tools {

// Both sides of one transport: the peer process (`bench-peer`: "pong" echo,
// "sink"), a local node joined to it, and a raw zmq client connected to it.
struct RemoteSetup {
  std::unique_ptr<ChildProcess> peer;
  std::unique_ptr<Node> node;
  std::unique_ptr<ZmqClient> zmq;
};

// Starts the peer over `transport` ("tcp" or "ipc") and joins it. `curve`:
// both nodes run CurveZMQ (fresh keys, each admitting the other).
absl::StatusOr<RemoteSetup> ConnectPeer(const std::string& transport, bool curve = false);

// `n` calls to "pong" from this (plain) thread, one in flight, each in a
// trace of its own, sampled or not, with a payload of `payload_bytes`;
// each one's microseconds.
absl::StatusOr<std::vector<double>> PolisRoundTrips(Node& node, int n, bool sampled = false,
                                                    int64_t payload_bytes = kPayloadBytes);

// Spawns `loops` loop servers built by `make(i)` (named `name_of(i)` if
// given), starts them all with Count(n), waits; the wall time in seconds,
// or the first failure a loop recorded.
template <typename MakeLoop>
absl::StatusOr<double> RunLoops(Node& node, LoopResult& result, int loops, int64_t n, MakeLoop make,
                                const std::function<std::string(int)>& name_of = nullptr) {
  std::vector<Pid> pids;
  pids.reserve(loops);
  for (int i = 0; i < loops; ++i) {
    absl::StatusOr<Pid> pid = node.Spawn(make(i), {.name = name_of ? name_of(i) : ""});
    if (!pid.ok()) {  // None was started: none touches `result`.
      for (const Pid& p : pids) (void)node.Stop(p);
      return pid.status();
    }
    pids.push_back(*pid);
  }
  auto start = std::chrono::steady_clock::now();
  absl::Status started;
  for (const Pid& pid : pids) {
    // A loop that was not started must still count down, so that no loop
    // outlives `result`.
    if (started.ok()) started = node.Cast(pid, Count(n));
    if (!started.ok()) result.done.DecrementCount();
  }
  result.done.Wait();
  const double seconds = MicrosSince(start) / 1e6;
  for (const Pid& pid : pids) (void)node.Stop(pid);
  if (!started.ok()) return started;
  absl::MutexLock lock(&result.mu);
  if (!result.error.ok()) return result.error;
  return seconds;
}

}  // namespace polis::tools

#endif  // POLIS_TOOLS_BENCH_REMOTE_SETUP_H_
