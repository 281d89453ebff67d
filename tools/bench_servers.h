// tools/bench_servers.h — the GenServers the benchmarks drive.
//
//   Sink       counts the casts it receives; a call (google.protobuf.Empty)
//              answers the count so far (google.protobuf.Int64Value).
//   CallLoop   on a cast Int64Value{n}: makes n calls to `target`, one after
//              another, timing each; then reports to its LoopResult.
//   CastLoop   on a cast Int64Value{n}: casts n payloads to a Sink `target`,
//              confirms them with a final call, then reports. Several may
//              share one LoopResult (each with a Sink of its own, which acks
//              to the loop's name: `polis bench scale`'s pairs).
//   Idle       does nothing (the spawn benchmark's subject).
//   Spawner    on a cast Int64Value{n}: spawns n named Idle servers.
// The payload of calls and casts is a google.protobuf.BytesValue of
// kPayloadBytes bytes unless a loop is given another size.
//
// Thread-safety: GenServers. A LoopResult is written by its server only
// until it calls `done.DecrementCount()`; read it after `done.Wait()`.
//
// Example:
//   LoopResult result(1);
//   node->Spawn(std::make_unique<CallLoop>("pong", &result));
//   node->Cast(pid, N(20000));  result.done.Wait();
#ifndef POLIS_TOOLS_BENCH_SERVERS_H_
#define POLIS_TOOLS_BENCH_SERVERS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "genserver/genserver.h"
#include "google/protobuf/wrappers.pb.h"
#include "node/node.h"

namespace polis::tools {

inline constexpr int kPayloadBytes = 100;

// A BytesValue of `bytes` bytes.
google::protobuf::BytesValue BenchPayload(int64_t bytes = kPayloadBytes);
// Int64Value{n}, the "go" message of the loops.
google::protobuf::Int64Value Count(int64_t n);

// What one or more loop servers report.
struct LoopResult {
  explicit LoopResult(int servers) : done(servers) {}
  absl::BlockingCounter done;
  // One vector per CallLoop; leave empty to time nothing (throughput runs:
  // the clock reads would be the caller's cost, not polis's).
  std::vector<std::vector<double>> latencies_us;
  // CastLoop: casts the sinks confirmed (summed over the loops), and the
  // longest time from a loop's first cast to its confirmation. Written
  // under `mu`.
  int64_t confirmed = 0;
  double elapsed_us = 0;

  // Thread-safe: records the first failure.
  void Fail(const absl::Status& s) {
    absl::MutexLock lock(&mu);
    if (error.ok()) error = s;
  }
  absl::Mutex mu;
  absl::Status error ABSL_GUARDED_BY(mu);  // First failure, if any.
};

// The name a CastLoop is spawned under unless it has a Sink of its own.
inline constexpr char kCastLoopName[] = "bench-cast-loop";

// Counts casts; answers a call with the count so far. A UInt64Value cast is
// a window mark: it is cast back to the name `ack_to` as the ack (a cast
// carries no sender, so the sink is told its loop's name).
class Sink : public GenServer {
 public:
  explicit Sink(std::string ack_to = kCastLoopName);
  Task<absl::StatusOr<Reply>> HandleCall(const Message& request, const From& from) override;
  Task<absl::Status> HandleCast(const Message& message) override;

 private:
  const std::string ack_to_;
  int64_t count_ = 0;
};

class CallLoop : public GenServer {
 public:
  // `slot` indexes result->latencies_us (sized by the caller, or empty).
  CallLoop(std::string target, LoopResult* result, int slot,
           int64_t payload_bytes = kPayloadBytes);
  Task<absl::Status> HandleCast(const Message& message) override;

 private:
  std::string target_;
  LoopResult* result_;
  int slot_;
  const google::protobuf::BytesValue payload_;
};

// CastLoop's default window: casts per mark.
inline constexpr int64_t kCastWindow = 10000;

// Casts Count(n) payloads to the sink, with flow control like a sliding
// window: casts go out in windows of `window` (default 10,000), each closed by a mark the sink
// acks; a new window opens when the oldest of `windows_in_flight` is acked.
// Two keep a remote sink busy while the sender makes the next window; on one
// node, one (sender and sink then take turns instead of contending for the
// sink's mailbox on both workers). The sink's count is read by a call
// before the first cast and after the last ack (the figure: casts it
// confirmed, and the time between). Must be spawned under the name its
// sink acks to (kCastLoopName by default). Big payloads want smaller
// windows: a window's bytes are in flight at once.
class CastLoop : public GenServer {
 public:
  CastLoop(std::string target, LoopResult* result, uint64_t windows_in_flight,
           int64_t payload_bytes = kPayloadBytes, int64_t window = kCastWindow);
  Task<absl::Status> HandleCast(const Message& message) override;

 private:
  Task<absl::StatusOr<int64_t>> SinkCount();
  // Casts the next window and its mark. False (and the failure recorded)
  // if a cast was refused.
  bool SendWindow();
  // Reads the final count and reports.
  Task<absl::Status> Finish(absl::Status status);

  std::string target_;
  LoopResult* result_;
  const uint64_t windows_in_flight_;
  const int64_t window_;
  google::protobuf::BytesValue payload_;
  int64_t remaining_ = 0;   // casts not sent yet
  uint64_t marks_sent_ = 0;
  uint64_t marks_acked_ = 0;
  int64_t before_ = 0;
  std::chrono::steady_clock::time_point start_;
};

class Idle : public GenServer {};

// On a cast Int64Value{n}: spawns n Idle servers named "idle-<i>", one after
// another (as an Erlang process spawning), then reports.
class Spawner : public GenServer {
 public:
  explicit Spawner(LoopResult* result);
  Task<absl::Status> HandleCast(const Message& message) override;

 private:
  LoopResult* result_;
};

// What spawning idle servers cost: the Spawner's seconds, and the growth of
// this process's RSS per server.
struct SpawnFigures {
  double seconds = 0;
  double bytes_per_server = 0;
};
// Spawns `n` Idle servers on `node` through a Spawner and waits (from a
// plain thread). The node should be fresh, for the RSS growth to be theirs;
// memory malloc holds free is returned to the system first (malloc_trim).
absl::StatusOr<SpawnFigures> SpawnIdleServers(Node& node, int64_t n);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_BENCH_SERVERS_H_
