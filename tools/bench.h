// tools/bench.h — `polis bench local|remote|scale`: the benchmarks of
// issues 2, 3 and 18.
//
// Each prints one result per line: a JSON object with --json, else
// "name: key=value ...". Remote figures are ratios against a raw ZeroMQ
// baseline measured in the same run, interleaved (see ../shared/BASELINES.md:
// these machines are too noisy for bare absolute numbers).
//
// Thread-safety: run one benchmark at a time per process.
//
// Example:
//   polis bench local --json
//   {"bench":"local_call","p50_us":1.9,"p99_us":4.2,"calls":20000}
#ifndef POLIS_TOOLS_BENCH_H_
#define POLIS_TOOLS_BENCH_H_

#include <array>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace polis::tools {

// Hidden subcommand: the second process of `bench remote`.
inline constexpr char kBenchPeerCommand[] = "bench-peer";

// local_call, external_call, local_cast, local_call_traced, spawn — on one
// node. A non-empty `only` runs just that one (INVALID_ARGUMENT for a name
// not in kLocalBenches, before anything starts).
inline constexpr std::array<const char*, 5> kLocalBenches = {
    "local_call", "external_call", "local_cast", "local_call_traced", "spawn"};
absl::Status RunLocalBench(bool json, const std::string& only = "");

// remote_call (tcp, ipc), remote_cast, remote_call_pipelined — against a
// second OS process (this binary re-executed as `bench-peer`), which is
// always stopped before this returns. A non-empty `only` runs just the
// benchmark of that name (one of kRemoteBenches); INVALID_ARGUMENT for any
// other name, before anything starts.
inline constexpr std::array<const char*, 4> kRemoteBenches = {
    "remote_call", "remote_cast", "remote_call_pipelined", "remote_call_curve"};
absl::Status RunRemoteBench(bool json, const std::string& only = "");

// OK for "" or one of kRemoteBenches (kLocalBenches); INVALID_ARGUMENT
// naming them else.
absl::Status CheckRemoteBenchName(const std::string& only);
absl::Status CheckLocalBenchName(const std::string& only);

// `polis bench scale`: how cost grows (issue 18), one line per point.
//   size     remote call (p50/p99) and cast (msgs/s, MB/s) as the payload
//            grows 100 B .. 4 MiB, against raw ZeroMQ with the same size;
//   pairs    local casts and calls with 1 .. 10,000 busy server pairs;
//   callers  remote calls from 1 .. 1,000 concurrent callers, against raw
//            ZeroMQ with as many requests in flight;
//   idle     memory per idle server (10 k, 1 M), and the CPU and memory of
//            an idle node (a child process) in a mesh of 32.
// A non-empty `only` runs one curve; INVALID_ARGUMENT naming them for any
// other, before anything starts.
inline constexpr std::array<const char*, 4> kScaleCurves = {"size", "pairs", "callers", "idle"};
absl::Status RunScaleBench(bool json, const std::string& only = "");
// OK for "" or one of kScaleCurves; INVALID_ARGUMENT naming them else.
absl::Status CheckScaleCurveName(const std::string& only);
// The remote curves (bench_scale_remote.cc), for RunScaleBench.
absl::Status ScaleSizeCurve(bool json);
absl::Status ScaleCallersCurve(bool json);

// The peer: `bench-peer --transport=tcp|ipc [--idle]`. Serves a polis node
// and a raw ZeroMQ echo, prints "ready POLIS_ENDPOINT ZMQ_ENDPOINT", and
// runs until its stdin closes or SIGTERM. --idle: no echo; prints
// "ready POLIS_ENDPOINT NODE_NAME".
absl::Status RunBenchPeer(const std::vector<std::string>& args);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_BENCH_H_
