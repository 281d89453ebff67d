// node/metrics.h — a snapshot of what a node counts: its servers, its
// peers and itself (Node::Metrics). telemetry/prometheus_metrics.h turns
// it into Prometheus's text format for `polis node --metrics=HOST:PORT`.
//
// Servers: a registered (named) server has its own ServerMetrics; unnamed
// processes are summed per kind (server "" and their kind), so that a node
// hosting 100,000 workers has one entry per kind, not per process. The sums
// of a kind include the processes of that kind that have ended while
// unnamed, so that they only ever grow (Prometheus counters). A named
// server's counts start at zero with each process that holds the name (a
// restarted server is a new process: Prometheus sees a counter reset).
//
// What the counts mean:
//   calls, casts, infos  messages whose handler started (not those dropped
//                        unhandled: a call past its deadline, a payload type
//                        the server does not accept, a DOWN for a monitor
//                        that was demonitored);
//   answered[code]       calls answered, by absl::StatusCode: by the handler
//                        (a reply, its error, a deferred ReplyTo) or refused
//                        by the runtime (a type the server does not accept);
//   latency              how long handlers ran, from start to end, time
//                        suspended in a `co_await Call` included — measured
//                        for every message whose trace is sampled (its
//                        span's clock reads are reused: with the default
//                        --trace-sample=always, every message), and for one
//                        in kLatencySampleEvery of the others, a process's
//                        first included (timing every one would cost two
//                        clock reads a message; WORKSPACE.md, Metrics);
//   restarts             how many times the name was registered on this node
//                        before its current holder (a supervisor's restarts,
//                        and any other re-registration).
//
// Thread-safety: plain values. Node::Metrics() is thread-safe; the counts
// are read with relaxed loads while the node runs, so one snapshot is not
// one instant (a call may show as handled and not yet answered).
//
// Example:
//   NodeMetrics m = node->Metrics();
//   for (const ServerMetrics& s : m.servers)
//     std::cout << s.server << " " << s.calls << " calls\n";
#ifndef POLIS_NODE_METRICS_H_
#define POLIS_NODE_METRICS_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "node/trace.h"

namespace polis {

// Handlers of untraced messages whose duration is measured: one in this
// many per process (traced ones are all measured).
inline constexpr int kLatencySampleEvery = 64;

// Handler durations, bucketed.
struct LatencyHistogram {
  // Upper bounds of the buckets (inclusive), in nanoseconds, increasing; one
  // more bucket, "+Inf", holds the rest.
  static constexpr std::array<int64_t, 22> kBoundsNs = {
      1'000,         2'500,         5'000,         10'000,        25'000,      50'000,
      100'000,       250'000,       500'000,       1'000'000,     2'500'000,   5'000'000,
      10'000'000,    25'000'000,    50'000'000,    100'000'000,   250'000'000, 500'000'000,
      1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
  static constexpr size_t kBuckets = kBoundsNs.size() + 1;

  // Observations per bucket (not cumulative); the last is over every bound.
  std::array<uint64_t, kBuckets> counts{};
  uint64_t count = 0;  // Observations (the sum of counts).
  int64_t sum_ns = 0;  // Their total duration.

  // The bucket a duration of `ns` falls in.
  static size_t BucketOf(int64_t ns) {
    size_t i = 0;
    while (i < kBoundsNs.size() && ns > kBoundsNs[i]) ++i;
    return i;
  }
  void Add(const LatencyHistogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) counts[i] += other.counts[i];
    count += other.count;
    sum_ns += other.sum_ns;
  }
};

// Status codes a call can be answered with: absl::StatusCode 0..16.
inline constexpr int kStatusCodes = 17;

struct ServerMetrics {
  std::string server;     // Registered name; "" for the unnamed processes of `kind`.
  std::string kind;       // Server kind (SpawnOptions::kind; "" if none was given).
  int64_t processes = 0;  // Live processes counted here (0 or 1 for a named server).
  uint64_t calls = 0;     // Messages handled, by kind.
  uint64_t casts = 0;
  uint64_t infos = 0;
  int64_t mailbox = 0;                            // Letters waiting now (approximate).
  uint64_t dropped = 0;  // Casts and infos dropped: the mailbox was full.
  std::array<uint64_t, kStatusCodes> answered{};  // Calls answered, by code.
  LatencyHistogram latency;
  int64_t restarts = 0;  // Named servers only.

  // Adds `other`'s counts (not the names; restarts are not summed).
  void Add(const ServerMetrics& other);
};

struct PeerMetrics {
  std::string node;      // "" = traffic with nodes that are not members
                         // (clients such as `polis call`; see bus/traffic.h).
  std::string endpoint;  // "" if not a member.
  bool member = false;   // In this node's view (up) or being greeted again (down).
  bool up = false;
  uint64_t messages_in = 0;
  uint64_t bytes_in = 0;
  uint64_t messages_out = 0;
  uint64_t bytes_out = 0;
  uint64_t dropped = 0;  // Envelopes refused (queue full) or discarded (connection lost).
  uint64_t refused = 0;  // Frames that did not decode.
};

struct NodeMetrics {
  std::string node;  // This node's name.
  int64_t started_unix_ns = 0;
  int64_t processes = 0;            // Live processes.
  int64_t resident_bytes = 0;       // RSS (/proc/self/statm); 0 if unreadable.
  std::vector<int64_t> run_queues;  // Processes queued per scheduler worker.
  TraceStats spans;                 // The span store (node/trace.h).
  // Named servers by name, then the unnamed per kind, by kind.
  std::vector<ServerMetrics> servers;
  // "" first (if anything was counted there), then by node name.
  std::vector<PeerMetrics> peers;
  // Trust rules (WORKSPACE.md): envelopes refused for their sender's role or
  // a runtime notice not from its node; KIND_REPLYs not from the called node.
  uint64_t refused_by_trust = 0;
  uint64_t refused_replies = 0;
  // Callers slow to read their replies (bus/zmq_transport.h
  // max_unread_reply_bytes): bytes held for them now, replies dropped.
  int64_t unread_reply_bytes = 0;
  uint64_t slow_reader_dropped_replies = 0;
  // Frames and messages from peers the node refused, by reason
  // (node/internal/bad_input.h: "framing", "version", "multipart",
  // "oversized", "undecodable", "unknown_kind", "unknown_system", "refused",
  // "other"), every reason listed, in that order.
  std::vector<std::pair<std::string, uint64_t>> bad_input;
  // The failure detector (bus/heartbeat.h; nothing in a node without one,
  // or when asked from a handler): beats sent, beats that kept a member
  // alive, and datagrams that did not, by reason ("unwatched", "malformed",
  // "oversized", "unauthenticated" — no MAC, or not under the sender's key:
  // forged —, "replayed" — an old seq —, "other_incarnation"), in that order.
  uint64_t heartbeats_sent = 0;
  uint64_t heartbeats_accepted = 0;
  std::vector<std::pair<std::string, uint64_t>> heartbeats_ignored;
  // The same per peer (node/internal/peer_refusals.h; labels as in
  // NodeInfo.bad_input_by_peer, envelope.proto): reasons counted so far.
  struct PeerBadInput {
    std::string peer;
    std::vector<std::pair<std::string, uint64_t>> by_reason;  // non-zero only
  };
  std::vector<PeerBadInput> bad_input_by_peer;
};

// This process's resident set size in bytes (/proc/self/statm), or 0.
int64_t ResidentMemoryBytes();

}  // namespace polis

#endif  // POLIS_NODE_METRICS_H_
