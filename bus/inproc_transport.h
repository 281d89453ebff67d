// bus/inproc_transport.h — a Transport for several nodes in one process.
//
// No sockets: a process-wide registry maps an endpoint string ("inproc://a";
// any non-empty string works) to the transport that Listened on it. Send
// encodes the envelope with the real frame codec (bus/frame_codec.h: same
// size limit, same bytes) and queues the frame in the target's mailbox; the
// target's Poll decodes and delivers it. So node/ and genserver/ tests run
// the production data path minus ZeroMQ, deterministically and fast.
//
// Semantics match ZmqTransport (bus/zmq_transport.h):
//   * An envelope from Send arrives with a ReturnPath naming the sender (its
//     transport or Channel); Reply to it arrives with an empty ReturnPath.
//   * Sending to an endpoint nobody listens on reports OnPeerDown(endpoint,
//     UNAVAILABLE) at the sender's next Poll (at once, not after a timeout).
//   * Destroying (or Kill()ing) a transport unregisters it, and every
//     transport that had sent to it gets OnPeerDown(its endpoint,
//     UNAVAILABLE) at its next Poll; Channels to it fail Recv/Send with
//     UNAVAILABLE. Disconnect forgets a peer: no OnPeerDown for it after.
//
// Thread-safety: as for every Transport (bus/transport.h): Listen, Send,
// Reply, Disconnect and Poll from the I/O thread only; Wake, OpenChannel,
// Kill and SetPartitioned from any thread. A Channel belongs to the thread
// that opened it (Wake: any thread).
//
// Example:
//   auto a = InProcTransport::Create({}).value();
//   auto b = InProcTransport::Create({}).value();
//   std::string ep = b->Listen("inproc://b-*").value();   // "inproc://b-17"
//   a->Send(ep, envelope);
//   b->Poll(absl::Seconds(1), handler);                   // handler.OnEnvelope
#ifndef POLIS_BUS_INPROC_TRANSPORT_H_
#define POLIS_BUS_INPROC_TRANSPORT_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bus/peer.h"
#include "bus/transport.h"

namespace polis::bus {

namespace internal {
class Mailbox;
struct InProcItem;
}  // namespace internal

struct InProcTransportOptions {
  // Largest serialized envelope; larger Send/Reply fail RESOURCE_EXHAUSTED.
  int64_t max_message_bytes = kDefaultMaxMessageBytes;
  // Test seam for the trust rules (no CURVE in process): the role and
  // authorized key the *receiving* transport reports (bus::Sender) for
  // envelopes this transport or its channels send. `sender_key` must
  // outlive the transports. Replies always arrive with the replier's
  // endpoint as Sender::dialed.
  PeerRole sender_role = PeerRole::kAnonymous;
  const AuthorizedKey* sender_key = nullptr;
};

class InProcTransport final : public Transport {
 public:
  // INVALID_ARGUMENT for a non-positive max_message_bytes.
  static absl::StatusOr<std::unique_ptr<InProcTransport>> Create(
      const InProcTransportOptions& options);

  // As Kill(), then frees everything.
  ~InProcTransport() override;

  InProcTransport(const InProcTransport&) = delete;
  InProcTransport& operator=(const InProcTransport&) = delete;

  // Registers `endpoint` (any non-empty string; a trailing '*' is replaced by
  // a process-unique number). INVALID_ARGUMENT if empty; UNAVAILABLE if
  // another live transport holds it; FAILED_PRECONDITION on a second Listen.
  absl::StatusOr<std::string> Listen(const std::string& endpoint) override;
  // See Transport. OK (and later OnPeerDown) if nobody listens there;
  // RESOURCE_EXHAUSTED if oversized; INVALID_ARGUMENT for "".
  absl::Status Send(const std::string& peer_endpoint, const EnvelopeView& envelope) override;
  // See Transport. NOT_FOUND if the sender named by `path` is gone.
  absl::Status Reply(const ReturnPath& path, const EnvelopeView& envelope) override;
  void Disconnect(const std::string& peer_endpoint) override;
  void Poll(absl::Duration timeout, InboundHandler& handler) override;
  void Wake() override;
  // Nothing to do: Send and Reply deliver at once.
  void Flush() override {}
  // See Transport. A Channel to an endpoint nobody listens on opens fine;
  // its first Send fails with UNAVAILABLE.
  absl::StatusOr<std::unique_ptr<Channel>> OpenChannel(const std::string& peer_endpoint) override;

  // Test hook, any thread: behave as if this node's process died now. It is
  // unregistered, peers that sent to it get OnPeerDown, queued input is
  // lost, and from now on its sends are dropped and nothing reaches it.
  void Kill();

  // Test hook, any thread: while true, envelopes to and from this transport
  // are dropped silently (no OnPeerDown), like a network partition before
  // heartbeats notice.
  void SetPartitioned(bool partitioned);

 private:
  InProcTransport(const InProcTransportOptions& options);
  void Deliver(internal::InProcItem& item, InboundHandler& handler);

  const InProcTransportOptions options_;
  const std::shared_ptr<internal::Mailbox> box_;
  std::string endpoint_;  // set by Listen
  std::atomic<bool> killed_{false};
  // I/O thread only. Peers this transport sends to: endpoint -> id of the
  // mailbox it reached (0: nobody there, a peer-down notice is queued).
  absl::flat_hash_map<std::string, uint64_t> connected_;
  std::unique_ptr<std::deque<internal::InProcItem>> batch_;  // reused by Poll
};

}  // namespace polis::bus

#endif  // POLIS_BUS_INPROC_TRANSPORT_H_
