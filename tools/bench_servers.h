// tools/bench_servers.h — the GenServers the benchmarks drive.
//
//   Sink       counts the casts it receives; a call (google.protobuf.Empty)
//              answers the count so far (google.protobuf.Int64Value).
//   CallLoop   on a cast Int64Value{n}: makes n calls to `target`, one after
//              another, timing each; then reports to its LoopResult.
//   CastLoop   on a cast Int64Value{n}: casts n payloads to a Sink `target`,
//              confirms them with a final call, then reports.
//   Idle       does nothing (the spawn benchmark's subject).
//   Spawner    on a cast Int64Value{n}: spawns n named Idle servers.
// The payload of calls and casts is a google.protobuf.BytesValue of
// kPayloadBytes bytes.
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

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "genserver/genserver.h"
#include "google/protobuf/wrappers.pb.h"

namespace polis::tools {

inline constexpr int kPayloadBytes = 100;

// A BytesValue of kPayloadBytes bytes.
google::protobuf::BytesValue BenchPayload();
// Int64Value{n}, the "go" message of the loops.
google::protobuf::Int64Value Count(int64_t n);

// What one or more loop servers report.
struct LoopResult {
  explicit LoopResult(int servers) : done(servers) {}
  absl::BlockingCounter done;
  std::vector<std::vector<double>> latencies_us;  // One vector per CallLoop.
  int64_t confirmed = 0;  // CastLoop: casts the sink confirmed.
  double elapsed_us = 0;  // CastLoop: from the first cast to the confirmation.

  // Thread-safe: records the first failure.
  void Fail(const absl::Status& s) {
    absl::MutexLock lock(&mu);
    if (error.ok()) error = s;
  }
  absl::Mutex mu;
  absl::Status error ABSL_GUARDED_BY(mu);  // First failure, if any.
};

class Sink : public GenServer {
 public:
  Sink();
  Task<absl::StatusOr<Reply>> HandleCall(const Message& request, const From& from) override;
  Task<absl::Status> HandleCast(const Message& message) override;

 private:
  int64_t count_ = 0;
};

class CallLoop : public GenServer {
 public:
  // `slot` indexes result->latencies_us (sized by the caller).
  CallLoop(std::string target, LoopResult* result, int slot);
  Task<absl::Status> HandleCast(const Message& message) override;

 private:
  std::string target_;
  LoopResult* result_;
  int slot_;
};

class CastLoop : public GenServer {
 public:
  CastLoop(std::string target, LoopResult* result);
  Task<absl::Status> HandleCast(const Message& message) override;

 private:
  Task<absl::StatusOr<int64_t>> SinkCount();

  std::string target_;
  LoopResult* result_;
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

}  // namespace polis::tools

#endif  // POLIS_TOOLS_BENCH_SERVERS_H_
