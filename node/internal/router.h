// node/internal/router.h — every path a message takes from a sender to its
// recipient: local delivery, every remote send, calls and their replies,
// timers.
//
// Local (the recipient lives here): a Letter goes straight into the
// recipient's mailbox; no envelope, no socket. Remote: the recipient's node
// comes from the cluster Directory (memoized per thread in the RouteCache)
// and the envelope (OutgoingEnvelope, the one builder) leaves
//   * on the I/O thread: encoded at once into the transport's batch (casts,
//     sends and calls to a memoized remote name skip the Letter entirely);
//   * from a process on another worker: posted to the I/O thread, and the
//     process is pinned to worker 0 so its later remote sends leave in
//     order after this one, without a hand-off;
//   * from a plain thread: over the thread's own Channel, which a blocking
//     call then also receives its reply on.
// A call waits on a CallSlot in the CallTable; whoever settles it first
// (reply, deadline, peer down, callee death) completes it.
//
// Inbound (I/O thread): DeliverInbound hands a received cast, info or call
// to its local recipient, or answers a call for a recipient that is gone;
// DeliverReply completes the waiting call.
//
// Thread-safety: every method is thread-safe unless marked "I/O thread".
// `caller`/`sender` arguments are the process running on the calling thread
// (or null for a plain thread).
//
// Example:
//   absl::Status s = router.Tell(wire::KIND_CAST, nullptr, Target("counter"), request);
//   absl::StatusOr<Message> r = router.CallFromThread(Target("counter"), Message::From(req),
//                                                     absl::Seconds(5), wire::KIND_CALL);
#ifndef POLIS_NODE_INTERNAL_ROUTER_H_
#define POLIS_NODE_INTERNAL_ROUTER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/log_limiter.h"
#include "bus/envelope.h"
#include "bus/transport.h"
#include "google/protobuf/message.h"
#include "node/internal/call_slot.h"
#include "node/internal/channels.h"
#include "node/internal/directory.h"
#include "node/internal/io_thread.h"
#include "node/internal/letter.h"
#include "node/internal/local_node.h"
#include "node/internal/registry.h"
#include "node/internal/route_cache.h"
#include "node/internal/scheduler.h"
#include "node/internal/timer_queue.h"
#include "node/internal/tracer.h"
#include "node/message.h"

namespace polis::internal {

class Process;

// The DEADLINE_EXCEEDED a call to `target` gets when its `timeout` passes,
// from a plain thread or a handler alike.
absl::Status CallTimedOut(const Target& target, absl::Duration timeout);

class Router {
 public:
  // The parts a message passes through; each must outlive the router.
  struct Parts {
    const LocalNode* self;
    int64_t max_message_bytes;
    Registry* registry;
    const Directory* directory;
    CallTable* calls;
    TimerQueue* timers;
    IoThread* io;
    ChannelPool* channels;
    const Scheduler* scheduler;
    Tracer* tracer;
  };
  explicit Router(const Parts& parts);

  // --- Sending ---
  // Cast (KIND_CAST) or Send (KIND_INFO) `message` to `target`, from
  // `sender`. NOT_FOUND for an unknown name or dead local pid; UNAVAILABLE
  // if the target's node is down; RESOURCE_EXHAUSTED over the size limit
  // or when the connection's queue is full. OK: accepted (at-most-once).
  absl::Status Tell(wire::Kind kind, Process* sender, const Target& target,
                    const google::protobuf::Message& message);
  // A blocking call from a plain thread (FAILED_PRECONDITION from a
  // worker). Errors: as Tell, DEADLINE_EXCEEDED, the server's own.
  // A KIND_CALL is a child of the thread's current trace (ScopedTrace), or
  // starts a trace; a sampled one records the caller's reply span.
  absl::StatusOr<Message> CallFromThread(const Target& target, Message request,
                                         absl::Duration timeout, wire::Kind kind);
  // Starts a call from process `caller`: registers `slot` (made with ref 0:
  // the call table gives it its ref), sends. The slot completes with the reply or an error (also on failure to send).
  // `client` is the caller's span for the call (its reply span, recorded by
  // the caller): the request's span is its child.
  void CallFromProcess(Process* caller, const Target& target, Message request,
                       absl::Duration timeout, std::shared_ptr<CallSlot> slot, wire::Kind kind,
                       const TraceContext& client);
  // Answers call `from` with `status` (OK: `reply`), locally or over the
  // wire; `trace` is the trace of the call being answered.
  void SendReply(const From& from, const absl::Status& status, const Message& reply,
                 const TraceContext& trace);
  // Info `message` to `target` after `delay` (resolved when it fires); the
  // timer dies with `owner` if given.
  absl::StatusOr<TimerRef> SendAfter(absl::Duration delay, const Target& target,
                                     Message message, Process* owner);
  // True if the timer was pending (and `owner`'s, if given) and is now
  // cancelled.
  bool CancelTimer(TimerRef timer, Process* owner);
  // Tells `watcher` with a ProcessDown info that `process` ended.
  void NotifyDown(const Pid& watcher, uint64_t ref, const Pid& process, const std::string& name,
                  const absl::Status& reason);
  // Sends `info` (a runtime notice: ProcessDown, NodeDown, NameLost) from
  // `from` to process `to`: here a KIND_INFO letter marked Letter::runtime;
  // to another node a KIND_SYSTEM envelope (bus/WIRE.md, "Runtime
  // notices"). Best effort: `to` may be gone.
  void Inform(const Pid& from, const Pid& to, const google::protobuf::Message& info);
  // NOT_FOUND for a call by name that came to this node for `name`, which
  // no process here holds: "no server named "X" on node A; it is on node B
  // (ENDPOINT): a client connects to the node that hosts a name" when a
  // member B holds it (an inbound call is never forwarded), else "no
  // server named "X" in the cluster".
  absl::Status NotHostedHere(const std::string& name) const;
  // The node hosting `target` ("" = here). NOT_FOUND for an unknown name;
  // UNAVAILABLE for a pid on a node not connected.
  absl::StatusOr<std::string> Resolve(const Target& target) const;

  // --- Inbound (I/O thread) ---
  // A call, cast or info `letter` from the wire, to its local recipient.
  void DeliverInbound(LetterPtr letter);
  // A KIND_REPLY from the wire that came on the connection this node
  // dialed to `dialed` (bus::Sender::dialed; a channel's peer), to the call
  // waiting for it: only if that call went to `dialed`. Dropped if none
  // (late or duplicate); refused, counted and logged (5 lines per 10 s) if
  // the call went elsewhere or the reply came on the listening socket
  // (`dialed` empty): then false (the caller counts it per peer).
  bool DeliverReply(const bus::EnvelopeView& envelope, std::string_view dialed);
  // KIND_REPLYs refused so far (see DeliverReply).
  uint64_t refused_replies() const { return refused_replies_.load(std::memory_order_relaxed); }
  // The I/O thread finished a poll: forget the memo of its last recipient.
  void EndOfPoll() { inbound_.process.reset(); }

 private:
  // CallFromThread once the caller's span `client` is known.
  absl::StatusOr<Message> CallFromThreadUnder(const TraceContext& client, const Target& target,
                                              Message request, absl::Duration timeout,
                                              wire::Kind kind);
  // The trace a message from `sender` (null: a plain thread) continues.
  static const TraceContext* ParentOf(Process* sender);
  // Fills defaults (trace) and delivers `letter` to its recipient on
  // `to_node` ("" = here). Errors as Tell.
  absl::Status Route(LetterPtr letter, const std::string& to_node, Process* caller);
  // Delivers a cast/info `letter` to `target` wherever it is, with one
  // registry lookup on the local fast path; `route`, if given, is the
  // calling thread's memo for the name, found since the last change (no
  // lookup at all). Errors as Route.
  absl::Status RouteTo(const Target& target, LetterPtr letter, Process* caller,
                       const RouteCache::Entry* route = nullptr);
  LetterPtr MakeLetter(wire::Kind kind, const Pid& sender, const Target& target, Message message,
                       const TraceContext* parent) const;
  // As above, `message` serialized into the recycled letter's own buffer.
  LetterPtr MakeLetter(wire::Kind kind, const Pid& sender, const Target& target,
                       const google::protobuf::Message& message, const TraceContext* parent) const;
  // MakeLetter's fields but the message.
  void FillLetter(Letter& l, wire::Kind kind, const Pid& sender, const Target& target,
                  const TraceContext* parent) const;
  // The local process `l` is addressed to; NOT_FOUND if there is none.
  absl::StatusOr<std::shared_ptr<Process>> LocalRecipient(const Letter& l) const;
  // Sends `letter` to `node` (see the file comment for which way). A failed
  // call's slot is completed with the error too; a posted send is OK here.
  absl::Status SendRemote(const std::string& node, LetterPtr letter, Process* caller);
  // Tell's fast path on the I/O thread for a name `route` says is remote.
  absl::Status TellRemote(wire::Kind kind, Process* sender, const std::string& name,
                          const RouteCache::Entry& route,
                          const google::protobuf::Message& message);
  // CallFromProcess's fast path on the I/O thread for a remote name.
  void CallRemote(Process* caller, const RouteCache::Entry& route, const std::string& name,
                  const Message& request, absl::Duration timeout, absl::Time deadline,
                  std::shared_ptr<CallSlot> slot, wire::Kind kind, const TraceContext& client);
  // A plain thread's blocking call to remote `node`, over its own channel.
  absl::StatusOr<Message> CallOverChannel(const Target& target, const std::string& node,
                                          LetterPtr letter, absl::Duration timeout);
  // I/O thread: the reply to `to`, on the connection its call came in on,
  // or else to the caller's node.
  void TransmitReply(const From& to, const absl::Status& status, const Message& reply,
                     const TraceContext& trace);
  // Pins `p` (if any) to the I/O thread, worker 0. From a worker only.
  static void PinToIo(Process* p);
  // RESOURCE_EXHAUSTED if a payload of `bytes` is over the limit.
  absl::Status CheckMessageSize(size_t bytes) const;
  // The calling thread's memo for `target` if it is a name the thread
  // resolved to another node before, unchanged since; else nullptr.
  const RouteCache::Entry* CachedRemote(const Target& target) const;
  void FailCall(const From& from, const absl::Status& status);

  const LocalNode& self_;
  const int64_t max_message_bytes_;
  Registry& registry_;
  const Directory& directory_;
  CallTable& calls_;
  TimerQueue& timers_;
  IoThread& io_;
  ChannelPool& channels_;
  const Scheduler& scheduler_;
  Tracer& tracer_;

  // The local server the last inbound letter went to, by name (I/O thread
  // only; cleared after each poll): the envelopes of a batch mostly go to
  // one server, and this spares each the lookup and its reference counting.
  struct InboundMemo {
    RouteCache::Versions versions;
    std::string name;
    std::shared_ptr<Process> process;
  };
  InboundMemo inbound_;
  std::atomic<uint64_t> refused_replies_{0};
  base::LogLimiter refused_replies_log_{/*lines=*/5, absl::Seconds(10)};
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_ROUTER_H_
