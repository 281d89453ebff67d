// bus/zmq_transport.h — the Transport over ZeroMQ (tcp:// and ipc://).
//
// The real bus between processes and machines. Wire contract: bus/WIRE.md.
//   * Listen binds one ROUTER; every node and every Channel that talks to
//     this node connects to it. An envelope arriving on the ROUTER carries a
//     ReturnPath naming that connection (its ROUTER routing id), so Reply
//     reaches a Channel, which has no endpoint of its own.
//   * Send uses one DEALER per peer endpoint, connected on first use and kept
//     open (messages queue while it connects; order per peer is kept).
//   * Batching: Send and Reply append the envelope's frame to a batch per
//     connection; a batch goes to its socket as one ZeroMQ message at the
//     start and end of every Poll, on Flush, or when the next frame would
//     take it over kMaxBatchBytes (32 KiB). So a burst costs libzmq one
//     message per ~32 KiB, not one per envelope, and a lone envelope waits
//     only until the I/O thread's next Poll. A batch that meets a full send
//     queue stays queued (retried on POLLOUT); the envelope that found it
//     full is refused with RESOURCE_EXHAUSTED.
//     Replies the peer sends back on that connection arrive on the DEALER and
//     carry an empty ReturnPath.
//   * Counting: what Send, Reply, Poll and the Channels move is counted per
//     peer node (bus/traffic.h; Traffic()).
//   * Peer-down: every DEALER is watched by a ZeroMQ socket monitor. A lost
//     connection (peer process died: reported within milliseconds on
//     loopback), a ZMTP heartbeat timeout, a failed handshake, or no
//     connection within `connect_timeout` is reported once through
//     InboundHandler::OnPeerDown(endpoint, UNAVAILABLE). The transport has
//     then closed that connection (queued envelopes are dropped); the next
//     Send to the endpoint opens a fresh one (node/ sends Hello first).
//
// Thread ownership (ZeroMQ sockets are not thread-safe; the context is):
//   * The I/O thread (the one calling Listen/Send/Reply/Disconnect/Poll)
//     owns the ROUTER, every peer DEALER and every DEALER's monitor socket.
//   * Each Channel's DEALER (and its monitor socket) belongs to the thread
//     that called OpenChannel; only that thread may use or destroy it.
//   * Wake() and Channel::Wake() only write an eventfd: any thread.
//   * All sockets share one zmq context (one libzmq I/O thread by default);
//     the context lives until the transport and all its Channels are gone.
//   Create and the destructor run on the I/O thread (or before it starts /
//   after it stops). No threads are started besides libzmq's own.
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(auto t, ZmqTransport::Create({}));
//   POLIS_ASSIGN_OR_RETURN(std::string ep, t->Listen("tcp://127.0.0.1:*"));
//   POLIS_RETURN_IF_ERROR(t->Send("tcp://10.0.0.2:7000", envelope));
//   t->Poll(absl::Milliseconds(100), handler);   // delivers what arrived
#ifndef POLIS_BUS_ZMQ_TRANSPORT_H_
#define POLIS_BUS_ZMQ_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bus/curve_security.h"
#include "bus/transport.h"

namespace polis::bus {

struct ZmqTransportOptions {
  // Largest serialized envelope sent or accepted. Larger sends fail with
  // RESOURCE_EXHAUSTED; larger incoming frames make libzmq drop that
  // connection (ZMQ_MAXMSGSIZE), so they never reach memory whole.
  int64_t max_message_bytes = kDefaultMaxMessageBytes;
  // Messages queued per connection (ZMQ_SNDHWM / ZMQ_RCVHWM). A Send or
  // Reply that finds the queue full fails with RESOURCE_EXHAUSTED at once.
  int send_high_water_mark = 100000;
  int receive_high_water_mark = 100000;
  // Bytes of replies one connection to the listening socket may have
  // unread (queued in libzmq, not yet written to the kernel), and all of
  // them together. A caller that sends calls and does not read the replies
  // meets the limit: further replies to it are dropped (the caller never
  // gets them; SlowReaders counts them, the log says so at a rate limit)
  // until it reads. libzmq 4.3's ROUTER cannot close one connection, so the
  // connection stays. A reply to a connection with nothing unread always
  // goes, so the bound is the limit plus one message.
  int64_t max_unread_reply_bytes = int64_t{16} << 20;
  int64_t max_unread_reply_bytes_total = int64_t{256} << 20;
  // ZMTP heartbeats on every connection (ZMQ_HEARTBEAT_IVL / _TIMEOUT /
  // _TTL). A peer that stops answering for `heartbeat_timeout` is down.
  // Zero interval disables heartbeats.
  absl::Duration heartbeat_interval = absl::Milliseconds(500);
  absl::Duration heartbeat_timeout = absl::Seconds(3);
  // A peer DEALER that has not completed a handshake this long after it
  // was opened is reported down (peer never started, host unreachable).
  absl::Duration connect_timeout = absl::Seconds(2);
  // How long closing a socket may keep trying to deliver queued messages
  // (ZMQ_LINGER), e.g. a Goodbye sent just before shutdown.
  absl::Duration linger = absl::Milliseconds(200);
  // libzmq I/O threads in this transport's context.
  int io_threads = 1;
  // Socket limit of the context (ZMQ_MAX_SOCKETS; libzmq's default is 1023).
  // Each peer and each Channel uses three (DEALER, monitor, monitor reader).
  int max_sockets = 8192;
  // CurveZMQ (bus/curve_security.h). Null: no authentication, no
  // encryption, every Sender anonymous. Set: the ROUTER is a CURVE server
  // admitting only authorized keys (ZAP thread `polis-zap`), each envelope
  // it delivers carries its connection's AuthorizedKey and role; every
  // DEALER and Channel is a CURVE client pinning its endpoint's server key;
  // what comes back on a dialed connection is from a kNode sender.
  std::shared_ptr<CurveSecurity> curve;
};

// The most envelopes one Poll delivers from one socket (it finishes the
// message that crosses the limit, so up to one batch more): the next socket
// gets its turn, and the node runs what arrived before it reads more, so a
// fast sender meets back-pressure from libzmq's queues instead of a backlog
// growing in mailboxes.
inline constexpr int kMaxEnvelopesPerPoll = 1024;

class ZmqTransport final : public Transport {
 public:
  // Makes a transport (its own zmq context; no socket yet). INVALID_ARGUMENT
  // for nonsensical options (non-positive sizes, max_message_bytes >= 2 GiB).
  static absl::StatusOr<std::unique_ptr<ZmqTransport>> Create(
      const ZmqTransportOptions& options);

  // Closes every socket the I/O thread owns. Channels stay usable until
  // their own destruction (the connection to their peer is unaffected).
  ~ZmqTransport() override;

  ZmqTransport(const ZmqTransport&) = delete;
  ZmqTransport& operator=(const ZmqTransport&) = delete;

  // See Transport. Also FAILED_PRECONDITION on a second Listen.
  absl::StatusOr<std::string> Listen(const std::string& endpoint) override;
  // See Transport. INVALID_ARGUMENT for anything but a concrete
  // tcp://HOST:PORT or ipc://PATH; RESOURCE_EXHAUSTED when oversized or the
  // peer's send queue is full; UNAVAILABLE if the socket cannot be made.
  absl::Status Send(const std::string& peer_endpoint, const EnvelopeView& envelope) override;
  // See Transport. NOT_FOUND if the connection is gone (or `path` did not
  // come from this transport); FAILED_PRECONDITION before Listen;
  // RESOURCE_EXHAUSTED when oversized or that connection's queue is full.
  // Reply on a connection that has gone meanwhile is not detected here: the
  // batch is dropped when flushed (the caller went with the connection).
  absl::Status Reply(const ReturnPath& path, const EnvelopeView& envelope) override;
  // See Transport.
  void Flush() override;
  void Disconnect(const std::string& peer_endpoint) override;
  // See Transport. Delivers at most a few thousand envelopes per connection
  // per call; if more are waiting the next Poll returns at once. Frames
  // that fail to decode are dropped and reported through OnBadInput. The
  // handler may call Send/Reply/Disconnect re-entrantly.
  void Poll(absl::Duration timeout, InboundHandler& handler) override;
  void Wake() override;
  // See Transport. The Channel's Recv returns UNAVAILABLE once its
  // connection is lost or not made within connect_timeout (after handing
  // out any envelopes that arrived before); its Send then fails likewise.
  absl::StatusOr<std::unique_ptr<Channel>> OpenChannel(const std::string& peer_endpoint) override;
  // See Transport and bus/traffic.h: Send, Reply, Poll and every Channel
  // count there.
  std::vector<PeerTraffic> Traffic() const override;
  SlowReaderStats SlowReaders() const override;
  void TrackPeer(const std::string& node) override;
  // Pins the CURVE server key of `endpoint` for connections opened from now
  // on (any thread). INVALID_ARGUMENT if not a Z85 key; a no-op (OK)
  // without CURVE.
  absl::Status SetPeerKey(const std::string& endpoint, const std::string& z85) override;

 private:
  class Impl;
  explicit ZmqTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace polis::bus

#endif  // POLIS_BUS_ZMQ_TRANSPORT_H_
