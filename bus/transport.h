// bus/transport.h — how envelopes leave and enter a node.
//
// A Transport moves envelopes (polis.wire.Envelope, as bus::EnvelopeView —
// see bus/envelope.h) between nodes. The node
// runtime (node/) uses only this interface; two implementations exist:
//   * ZmqTransport (bus/zmq_transport.h): ZeroMQ ROUTER/DEALER over tcp://
//     and ipc:// — the real bus between processes and machines.
//   * InProcTransport (bus/inproc_transport.h): several nodes in one process,
//     no sockets, for fast deterministic tests of node/ and genserver/.
//
// Threads and ownership (the contract both implementations keep):
//   * The node's I/O thread is the one thread that calls Listen, Send, Reply
//     and Poll. It owns every socket those use: the listening socket and one
//     outgoing connection per peer. No other thread ever touches them.
//   * Wake() may be called from any thread; it makes the I/O thread's current
//     or next Poll return promptly.
//   * OpenChannel() may be called from any thread. The Channel it returns
//     belongs to the calling thread alone (its own socket): a plain thread
//     that makes calls sends on it and receives the replies on it directly,
//     with no hand-off through the I/O thread. Channel::Wake is thread-safe.
//
// Errors: Send/Reply never block on a slow peer beyond the transport's send
// high-water mark; an oversized envelope is refused with RESOURCE_EXHAUSTED
// before anything is written; an unreachable peer is reported through
// InboundHandler::OnPeerDown, not by Send (sends are asynchronous).
//
// Example (the node's I/O loop, simplified):
//   auto t = polis::bus::ZmqTransport::Create(opts);
//   auto endpoint = (*t)->Listen("tcp://127.0.0.1:*");   // "tcp://127.0.0.1:40123"
//   while (running) (*t)->Poll(absl::Milliseconds(100), handler);
//   ... (*t)->Send(peer_endpoint, view);   // an EnvelopeView, or a wire::Envelope
#ifndef POLIS_BUS_TRANSPORT_H_
#define POLIS_BUS_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bus/envelope.h"
#include "bus/peer.h"
#include "bus/traffic.h"

namespace polis::bus {

// Default limit on one serialized envelope (64 MiB).
inline constexpr int64_t kDefaultMaxMessageBytes = int64_t{64} << 20;

// Names the connection an envelope arrived on, so that a reply can be sent
// back on that same connection (to a Channel, which has no listening
// endpoint of its own). Opaque outside the transport that made it; valid
// while that transport lives. An empty ReturnPath means "no connection":
// the reply must be routed by address instead.
struct ReturnPath {
  std::string token;
  bool empty() const { return token.empty(); }
};

// What a transport holds for callers that are slow to read their replies.
struct SlowReaderStats {
  int64_t unread_reply_bytes = 0;  // handed to connections, not yet written out
  uint64_t dropped_replies = 0;    // refused because their caller had too much unread
};

// Receives what a transport reads. Called only on the I/O thread, from
// inside Transport::Poll.
class InboundHandler {
 public:
  virtual ~InboundHandler() = default;

  // A well-formed envelope arrived. `from` names its connection;
  // `received` is when the transport took it in (one clock read per message
  // read, shared by the envelopes batched in it): the time a relative
  // timeout counts from. `envelope` and the bytes it points into are valid
  // only during the call (they are the transport's receive buffer): copy
  // what you keep. `sender` says who is at the other end of that connection
  // (bus/peer.h); its pointers are valid during the call.
  virtual void OnEnvelope(const EnvelopeView& envelope, const ReturnPath& from,
                          absl::Time received, const Sender& sender) = 0;

  // The connection to the peer at `endpoint` is lost (peer process died,
  // host unreachable, handshake refused); `why` says which. Calls waiting on
  // that peer should fail with UNAVAILABLE now rather than at their deadline.
  virtual void OnPeerDown(const std::string& endpoint, const absl::Status& why) = 0;

  // Something unusable arrived (bad framing, unknown version, oversized):
  // it was dropped, nothing else was lost. For logging and counters.
  // `from`: who sent it, as far as the transport knows (the connection's
  // key, origin or dialed endpoint; all empty for a transport's own
  // errors); its pointers are valid during the call.
  virtual void OnBadInput(const absl::Status& why, const Sender& from) {}
};

// A caller-owned connection to one peer, for a plain (non-scheduler) thread.
// Not thread-safe except Wake(): only the thread that opened it may call
// Send and Recv. Destroying it closes its socket (same thread).
class Channel {
 public:
  virtual ~Channel() = default;

  // Queues `envelope` for the peer. RESOURCE_EXHAUSTED if it is over the
  // size limit; UNAVAILABLE if the channel is closed.
  // Encodes it at once: `envelope` need not outlive the call.
  virtual absl::Status Send(const EnvelopeView& envelope) = 0;

  // Waits until an envelope arrives on this channel, Wake() is called, or
  // `deadline` passes. Returns the envelope, or std::nullopt on wake-up or
  // deadline (not an error). Malformed input is dropped, not returned. The
  // view points into the channel's receive buffer: it is valid until the
  // next Recv on this channel or the channel's destruction.
  virtual absl::StatusOr<std::optional<EnvelopeView>> Recv(absl::Time deadline) = 0;

  // Thread-safe: makes a concurrent or the next Recv return std::nullopt
  // (ZmqChannel: within 10 ms — it blocks in zmq_recv on its one socket, the
  // fast path for replies, and checks for wake-ups between slices).
  virtual void Wake() = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // I/O thread. Binds `endpoint` ("tcp://HOST:PORT", "tcp://HOST:*",
  // "ipc://PATH", or for InProcTransport "inproc://NAME") and returns the
  // concrete endpoint peers should use (the port resolved).
  // INVALID_ARGUMENT for a malformed endpoint, UNAVAILABLE if it cannot be
  // bound (address in use, no permission). At most one Listen per transport.
  virtual absl::StatusOr<std::string> Listen(const std::string& endpoint) = 0;

  // I/O thread. Sends `envelope` to the node listening at `peer_endpoint`,
  // connecting first if needed (the connection then stays open). Envelopes
  // sent to one peer arrive in the order sent. RESOURCE_EXHAUSTED if over
  // the size limit or the peer's queue is full; INVALID_ARGUMENT for a
  // malformed endpoint. The transport may hold the envelope back to batch
  // it with the next ones: it leaves at the latest on the next Poll or
  // Flush. `envelope` is encoded at once: it need not outlive the call.
  virtual absl::Status Send(const std::string& peer_endpoint,
                            const EnvelopeView& envelope) = 0;

  // I/O thread. Sends `envelope` back on the connection `path` names.
  // NOT_FOUND if that connection is known to be gone. Batched like Send.
  virtual absl::Status Reply(const ReturnPath& path, const EnvelopeView& envelope) = 0;

  // I/O thread. Hands everything Send and Reply held back to the network
  // now (Poll does this itself before it waits and before it returns).
  virtual void Flush() = 0;

  // I/O thread. Closes the connection to `peer_endpoint` if open (used when
  // a peer said Goodbye or was declared dead). Not an error if none is open.
  virtual void Disconnect(const std::string& peer_endpoint) = 0;

  // I/O thread. Waits up to `timeout` for input or a Wake(), then delivers
  // every envelope that is ready to `handler` (in arrival order per
  // connection) and returns. Returns at once if a Wake() came since the last
  // Poll.
  virtual void Poll(absl::Duration timeout, InboundHandler& handler) = 0;

  // Any thread. Makes the current or next Poll return promptly.
  virtual void Wake() = 0;

  // Any thread. Opens a Channel owned by the calling thread to the node at
  // `peer_endpoint`. INVALID_ARGUMENT for a malformed endpoint.
  virtual absl::StatusOr<std::unique_ptr<Channel>> OpenChannel(
      const std::string& peer_endpoint) = 0;

  // Any thread. What this transport and its Channels counted per peer node
  // (bus/traffic.h), kOther first; empty if it counts nothing (the default;
  // InProcTransport).
  virtual std::vector<PeerTraffic> Traffic() const { return {}; }
  // Replies held for callers that do not read them, and replies dropped at
  // the limit (ZmqTransportOptions::max_unread_reply_bytes). Thread-safe.
  virtual SlowReaderStats SlowReaders() const { return {}; }
  // Any thread. `node` is a member: its traffic is counted under its own
  // name from now on (bus/traffic.h). No-op for a transport that does not
  // count.
  virtual void TrackPeer(const std::string& node) {}

  // Pins the server key (Z85) a secure transport expects at `endpoint`
  // (bus/curve_security.h). Any thread. Transports without authentication
  // ignore it.
  virtual absl::Status SetPeerKey(const std::string& endpoint, const std::string& z85) {
    return absl::OkStatus();
  }
};

}  // namespace polis::bus

#endif  // POLIS_BUS_TRANSPORT_H_
