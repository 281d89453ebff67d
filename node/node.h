// node/node.h — a polis node: hosts processes, routes messages by name.
//
// A Node owns a small scheduler (NodeOptions::scheduler_threads, default one
// per core) that runs its processes, a local registry of names, timers, and
// a transport to other nodes. Messages to a name registered on this node
// never touch a socket; messages to a name on another node go over the bus.
//
// Threads (see WORKSPACE.md for the full map):
//   * worker 0 is also the I/O thread: it alone owns the transport's
//     listening socket and peer connections, and runs processes between
//     polls. Workers 1..N-1 only run processes.
//   * A plain thread calling a remote server uses its own connection
//     (bus::Channel) and receives the reply on it directly.
//
// Thread-safety: every public method is thread-safe unless it says
// otherwise. Call() blocks the calling thread; calling it from inside a
// handler is refused with FAILED_PRECONDITION — handlers use
// `co_await ctx.CallRaw(...)` / GenServer::Call instead.
//
// Example:
//   auto node = polis::Node::Create({.name = "a"});
//   (*node)->Spawn(std::make_unique<Counter>(), {.name = "counter"});
//   absl::StatusOr<CounterReply> r =
//       (*node)->Call<CounterReply>("counter", AddRequest(5));
//   (*node)->Shutdown();
#ifndef POLIS_NODE_NODE_H_
#define POLIS_NODE_NODE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bus/curve_security.h"
#include "bus/transport.h"
#include "google/protobuf/message.h"
#include "node/behaviour.h"
#include "node/message.h"
#include "node/metrics.h"
#include "node/trace.h"
#include "polis/trace.pb.h"

namespace polis {

namespace internal {
class NodeCore;
}

struct NodeOptions {
  // Unique name of this node in the cluster. Default: "node-<random>".
  std::string name;
  // Scheduler threads; 0 = one per core (std::thread::hardware_concurrency).
  int scheduler_threads = 0;
  // Endpoint to bind ("tcp://HOST:PORT", "tcp://HOST:*", "ipc://PATH",
  // "inproc://NAME"); empty = do not listen (a client, or a local-only node).
  std::string listen;
  // Endpoint to tell peers, when it differs from `listen` (a node bound to
  // "tcp://0.0.0.0:7101" advertises "tcp://10.0.0.5:7101"). Default: the
  // bound endpoint. A wildcard bind without it is refused (INVALID_ARGUMENT):
  // no peer could reach "0.0.0.0".
  std::string advertise;
  // Endpoints of nodes to join on start: tcp://, ipc://, or dns:HOST:PORT
  // (every address HOST resolves to, again every 5 s;
  // node/internal/seed_spec.h). With `curve`, a dns: seed's server key is
  // the one pinned under the seed itself (curve->SetServerKey("dns:h:7000",
  // KEY), as `polis node --seed=dns:h:7000@KEY` does): it is pinned for
  // every address the name resolves to, each time.
  std::vector<std::string> seeds;
  // True for a short-lived client (polis call): hosts no names, is not
  // announced to the cluster.
  bool client = false;
  // Failure detection (nodes listening on tcp:// or ipc://): a heartbeat
  // datagram to every member each `heartbeat_interval`, on a socket and
  // thread of its own (bus/heartbeat.h); a member silent for
  // `failure_timeout` is declared down: calls waiting on it fail with
  // UNAVAILABLE, monitors fire, its names leave the view. A member whose
  // connection drops (its process died) is declared down at once. Use the
  // same values on every node of a cluster.
  absl::Duration heartbeat_interval = absl::Milliseconds(100);
  absl::Duration failure_timeout = absl::Milliseconds(800);
  // Largest serialized envelope accepted or sent.
  int64_t max_message_bytes = bus::kDefaultMaxMessageBytes;
  // Sampling and the span store (node/trace.h).
  TraceOptions trace;
  // CurveZMQ (bus/curve_security.h): own keys, authorized keys, the server
  // key of each seed. Null: anonymous and in clear. Only for the default
  // ZmqTransport (tcp:// and ipc:// endpoints).
  std::shared_ptr<bus::CurveSecurity> curve;
  // Transport to use; default: InProcTransport when every endpoint above is
  // inproc:// (or there are none), ZmqTransport otherwise.
  std::unique_ptr<bus::Transport> transport;
};

class Node {
 public:
  // Starts a node: its scheduler, its listening endpoint, and the handshake
  // with `seeds` (asynchronous; see Join). INVALID_ARGUMENT for bad options,
  // UNAVAILABLE if the endpoint cannot be bound.
  // Side effect for the whole program: Abseil's Mutex deadlock detection is
  // turned off (absl::SetMutexDeadlockDetectionMode(kIgnore)); it is on in
  // Debian's Abseil build and costs a graph lookup on every lock.
  static absl::StatusOr<std::unique_ptr<Node>> Create(NodeOptions options);

  // Stops every process (Terminate runs for each), says Goodbye to peers and
  // stops the threads. Idempotent; the destructor calls it.
  ~Node();
  void Shutdown();

  const std::string& name() const;
  // The endpoint peers reach this node at ("" if not listening).
  const std::string& endpoint() const;
  // Random per Create; tells restarts of a node apart.
  uint64_t incarnation() const;

  // Waits until the handshake with at least one seed finished (OK at once if
  // there are no seeds). UNAVAILABLE if none answered within `timeout`.
  absl::Status Join(absl::Duration timeout);
  // Names of the nodes this node is connected to.
  std::vector<std::string> Peers() const;

  // --- Processes ---

  // Starts a process and waits for its Init. Returns its Pid, or Init's
  // error; ALREADY_EXISTS if options.name is taken. From a plain thread
  // only (inside handlers use ctx.Spawn): FAILED_PRECONDITION otherwise.
  absl::StatusOr<Pid> Spawn(std::unique_ptr<Behaviour> behaviour, SpawnOptions options = {});

  // Asks a local process to stop with `reason` and waits for it to end (its
  // Terminate has run). If it does not end within `timeout` it is killed:
  // its name is released at once and it never runs again. NOT_FOUND if no
  // such local process.
  absl::Status Stop(const Target& target, absl::Status reason = absl::OkStatus(),
                    absl::Duration timeout = absl::Seconds(5));

  // --- Registry (local names; the cluster view follows by gossip) ---

  // Registers `name` for a live local process. ALREADY_EXISTS if taken here
  // or on a known peer; NOT_FOUND if no such process; INVALID_ARGUMENT for an
  // empty name.
  absl::Status Register(const std::string& name, const Pid& pid);
  // NOT_FOUND if `name` is not registered on this node.
  absl::Status Unregister(const std::string& name);
  // The process registered as `name`, here or on a member: its real pid
  // (node and number). NOT_FOUND if no node this node knows of holds it.
  absl::StatusOr<Pid> WhereIs(const std::string& name) const;
  // As WhereIs, but waits up to `timeout` for the name to appear (woken by
  // changes to this node's view, no polling). NOT_FOUND after `timeout`.
  absl::StatusOr<Pid> AwaitName(const std::string& name, absl::Duration timeout) const;
  // Names registered on this node.
  std::vector<std::string> RegisteredNames() const;

  // --- Client API (any plain thread; Cast/Send/SendAfter from handlers too) ---

  // Calls `target` and waits for the reply. Errors: NOT_FOUND at once for an
  // unknown name; DEADLINE_EXCEEDED after `timeout` (a later reply is
  // dropped); UNAVAILABLE if the target's node is down; the server's error
  // (with its message and details: node/status_details.h) if the handler
  // failed or replied an error;
  // INVALID_ARGUMENT if the server does not accept the request type.
  absl::StatusOr<Message> CallRaw(const Target& target, const google::protobuf::Message& request,
                                  absl::Duration timeout = kDefaultCallTimeout);

  // Typed call: as CallRaw, plus INVALID_ARGUMENT if the reply is not a Reply.
  template <typename Reply>
  absl::StatusOr<Reply> Call(const Target& target, const google::protobuf::Message& request,
                             absl::Duration timeout = kDefaultCallTimeout) {
    absl::StatusOr<Message> m = CallRaw(target, request, timeout);
    if (!m.ok()) return m.status();
    return m->As<Reply>();
  }

  // Fire-and-forget (HandleCast / HandleInfo). NOT_FOUND for an unknown
  // name; RESOURCE_EXHAUSTED if over the size limit. OK means accepted for
  // delivery (at-most-once), not handled.
  absl::Status Cast(const Target& target, const google::protobuf::Message& message);
  absl::Status Send(const Target& target, const google::protobuf::Message& message);

  // Delivers `message` as info to `target` after `delay`; the timer lives on
  // this node. `target` may be remote: it is resolved when the timer fires.
  absl::StatusOr<TimerRef> SendAfter(absl::Duration delay, const Target& target,
                                     const google::protobuf::Message& message);
  // True if the timer was pending and is now cancelled.
  bool CancelTimer(TimerRef timer);

  // The description (types, .proto files) of the server registered as
  // `name`, local or remote — what tools use to build requests from JSON.
  absl::StatusOr<wire::ServerDescription> Describe(const std::string& name,
                                                   absl::Duration timeout = kDefaultCallTimeout);

  // What node `node` hosts and how it sees the cluster (polis nodes, polis
  // ps): its own entry, its members ("up"; "down" for a former member it
  // still greets), and every live process with its name, kind, approximate
  // mailbox length and restart count. "" (or this node's name) = this node;
  // another node is asked with a system call (bus/WIRE.md, NodeInfoRequest).
  // From a plain thread only: FAILED_PRECONDITION inside a handler.
  // Errors: UNAVAILABLE if `node` is not in this node's view (never joined,
  // down, or not a node name) or goes down meanwhile; DEADLINE_EXCEEDED
  // after `timeout`; RESOURCE_EXHAUSTED if the answer is over the size limit
  // (a node hosting very many processes).
  absl::StatusOr<wire::NodeInfo> Info(const std::string& node = "",
                                      absl::Duration timeout = kDefaultCallTimeout);

  // --- Metrics (node/metrics.h) ---

  // What this node counts: its servers (named ones each, unnamed ones
  // summed per kind), its peers (state, traffic, drops), itself (processes,
  // memory, run queues, the span store). Never fails. Thread-safe, not
  // concurrently with Shutdown (after it: the node's own figures only).
  // From a plain thread it waits up to 1 s for the I/O thread to list the
  // members; from a handler, peers show their traffic without their state.
  NodeMetrics Metrics() const;

  // --- Tracing (node/trace.h) ---

  // A new trace, sampled or not by this node's sampler: its root span's
  // context (the caller's own span, which no node records). Use it with
  // ScopedTrace to make calls from a plain thread part of it.
  TraceContext StartTrace() const;
  // The spans node `node` ("" = this node) holds (wire::SpanQuery): every
  // span of the given traces, or summaries of its most recent traces. Like
  // Info, from a plain thread only; the same errors.
  absl::StatusOr<wire::SpanQueryReply> QuerySpans(const std::string& node,
                                                  const wire::SpanQuery& query,
                                                  absl::Duration timeout = kDefaultCallTimeout);
  // Spans recorded on this node since `cursor` (oldest first, at most
  // `max`), advancing it; spans dropped before they were read add to
  // cursor->missed. For exporters: one cursor per reader.
  std::vector<wire::Span> ReadSpans(SpanCursor* cursor, size_t max);
  // A cursor at the end of the store: ReadSpans gives what comes after.
  SpanCursor NewSpanCursor() const;
  TraceStats trace_stats() const;

 private:
  explicit Node(std::unique_ptr<internal::NodeCore> core);
  std::unique_ptr<internal::NodeCore> core_;
};

}  // namespace polis

#endif  // POLIS_NODE_NODE_H_
