// bus/zmq_transport.cc — see zmq_transport.h and bus/WIRE.md.
#include "bus/zmq_transport.h"

#include <unistd.h>

#include "google/protobuf/arena.h"

#include <algorithm>
#include <vector>

#include <zmq.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bus/frame_codec.h"
#include "bus/internal/connection_monitor.h"
#include "bus/internal/endpoint.h"
#include "bus/internal/zmq_channel.h"
#include "bus/internal/zmq_util.h"
#include "bus/status_macros.h"

namespace polis::bus {

using internal::ConnectionMonitor;
using internal::EndpointUse;
using internal::ValidateEndpoint;
using internal::WakeFd;
using internal::ZmqErrorToStatus;

namespace {

// Envelopes read from one socket per Poll before moving on (fairness).
constexpr int kMaxReadsPerSocket = 4096;

// One outgoing connection (I/O thread only). Member order = destruction
// order in reverse: the monitor is stopped before the DEALER closes.
struct Peer {
  std::string endpoint;
  zmq::socket_t dealer;
  std::unique_ptr<ConnectionMonitor> monitor;
  bool closed = false;  // Disconnected/down while a Poll still points at it
};

}  // namespace

class ZmqTransport::Impl {
 public:
  Impl(const ZmqTransportOptions& options, std::unique_ptr<WakeFd> wake)
      : options_(options),
        context_(std::make_shared<zmq::context_t>(options.io_threads, options.max_sockets)),
        wake_(std::move(wake)) {}

  ~Impl() {
    peers_.clear();
    graveyard_.clear();
    // Close the listening socket now and remove an ipc socket file, so a
    // clean shutdown leaves nothing behind in the file system.
    if (router_.handle() != nullptr) router_.close();
    if (absl::StartsWith(bound_, "ipc://")) ::unlink(bound_.c_str() + 6);
  }

  absl::StatusOr<std::string> Listen(const std::string& endpoint);
  absl::Status Send(const std::string& peer_endpoint, const wire::Envelope& envelope);
  absl::Status Reply(const ReturnPath& path, const wire::Envelope& envelope);
  void Disconnect(const std::string& peer_endpoint);
  void Poll(absl::Duration timeout, InboundHandler& handler);
  void Wake() { wake_->Signal(); }
  absl::StatusOr<std::unique_ptr<Channel>> OpenChannel(const std::string& peer_endpoint);

 private:
  absl::StatusOr<Peer*> Connect(const std::string& endpoint);
  // Moves `peer` out of peers_; destroyed at the end of the current Poll.
  void Retire(Peer* peer);
  void RebuildPollItems();
  void ReadRouter(InboundHandler& handler);
  void ReadDealer(Peer& peer, InboundHandler& handler);
  // Reads one message from `socket` into msg_; false if nothing was ready.
  // `*deliver` is false if it was multipart (drained, reported as bad input:
  // a polis message is a single frame).
  bool ReadFrame(zmq::socket_t& socket, InboundHandler& handler, bool* deliver);
  void Deliver(InboundHandler& handler, ReturnPath from);
  void CheckPeers(absl::Time now, InboundHandler& handler);

  const ZmqTransportOptions options_;
  std::shared_ptr<zmq::context_t> context_;
  std::unique_ptr<WakeFd> wake_;
  zmq::socket_t router_;
  absl::flat_hash_map<std::string, std::unique_ptr<Peer>> peers_;
  std::vector<std::unique_ptr<Peer>> graveyard_;
  // Poll set: [wake fd, ROUTER?, then per peer: DEALER, monitor].
  std::vector<zmq::pollitem_t> items_;
  std::vector<Peer*> item_peers_;  // parallel to the per-peer pairs
  bool items_dirty_ = true;
  bool in_poll_ = false;
  zmq::message_t msg_;  // reused receive buffer
  std::string bound_;   // The endpoint Listen bound ("" if none).
  google::protobuf::Arena arena_;  // Envelopes parsed in the current Poll.
};

absl::StatusOr<std::string> ZmqTransport::Impl::Listen(const std::string& endpoint) {
  if (router_.handle() != nullptr) {
    return absl::FailedPreconditionError("ZmqTransport::Listen called twice");
  }
  POLIS_RETURN_IF_ERROR(ValidateEndpoint(endpoint, EndpointUse::kBind));
  try {
    zmq::socket_t router(*context_, zmq::socket_type::router);
    internal::ApplyCommonOptions(router, options_);
    router.set(zmq::sockopt::router_mandatory, true);
    router.bind(endpoint);
    std::string bound = router.get(zmq::sockopt::last_endpoint);
    bound_ = bound;
    router_ = std::move(router);
    items_dirty_ = true;
    return bound;
  } catch (const zmq::error_t& e) {
    absl::Status s = ZmqErrorToStatus(e.num(), absl::StrCat("cannot bind ", endpoint));
    // A syntactically valid endpoint that fails to bind (host not local,
    // address in use, no permission) is UNAVAILABLE, not a caller bug.
    if (e.num() == EINVAL || e.num() == ENODEV) return absl::UnavailableError(s.message());
    return s;
  }
}

absl::StatusOr<Peer*> ZmqTransport::Impl::Connect(const std::string& endpoint) {
  POLIS_RETURN_IF_ERROR(ValidateEndpoint(endpoint, EndpointUse::kConnect));
  auto peer = std::make_unique<Peer>();
  peer->endpoint = endpoint;
  try {
    peer->dealer = zmq::socket_t(*context_, zmq::socket_type::dealer);
    internal::ApplyDealerOptions(peer->dealer, options_);
    POLIS_ASSIGN_OR_RETURN(peer->monitor,
                           ConnectionMonitor::Attach(*context_, peer->dealer, endpoint,
                                                     absl::Now() + options_.connect_timeout));
    peer->dealer.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return ZmqErrorToStatus(e.num(), absl::StrCat("cannot connect to ", endpoint));
  }
  Peer* raw = peer.get();
  peers_.emplace(endpoint, std::move(peer));
  items_dirty_ = true;
  return raw;
}

absl::Status ZmqTransport::Impl::Send(const std::string& peer_endpoint,
                                      const wire::Envelope& envelope) {
  // Encode first: an oversized envelope opens no connection.
  POLIS_ASSIGN_OR_RETURN(zmq::message_t msg,
                         internal::EncodeMessage(envelope, options_.max_message_bytes));
  Peer* peer;
  if (auto it = peers_.find(peer_endpoint); it != peers_.end()) {
    peer = it->second.get();
  } else {
    POLIS_ASSIGN_OR_RETURN(peer, Connect(peer_endpoint));
  }
  return internal::SendNoWait(peer->dealer, msg, zmq::send_flags::none, peer_endpoint);
}

absl::Status ZmqTransport::Impl::Reply(const ReturnPath& path, const wire::Envelope& envelope) {
  if (router_.handle() == nullptr) {
    return absl::FailedPreconditionError("Reply before Listen: no connection to reply on");
  }
  if (path.empty()) return absl::NotFoundError("Reply on an empty ReturnPath");
  POLIS_ASSIGN_OR_RETURN(zmq::message_t msg,
                         internal::EncodeMessage(envelope, options_.max_message_bytes));
  zmq::message_t id(path.token.data(), path.token.size());
  absl::Status s = internal::SendNoWait(router_, id, zmq::send_flags::sndmore, "reply");
  if (s.code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("reply connection is gone");
  }
  POLIS_RETURN_IF_ERROR(s);
  return internal::SendNoWait(router_, msg, zmq::send_flags::none, "reply");
}

void ZmqTransport::Impl::Retire(Peer* peer) {
  auto it = peers_.find(peer->endpoint);
  if (it == peers_.end() || it->second.get() != peer) return;
  peer->closed = true;
  if (in_poll_) graveyard_.push_back(std::move(it->second));
  peers_.erase(it);
  items_dirty_ = true;
}

void ZmqTransport::Impl::Disconnect(const std::string& peer_endpoint) {
  if (auto it = peers_.find(peer_endpoint); it != peers_.end()) Retire(it->second.get());
}

void ZmqTransport::Impl::RebuildPollItems() {
  items_.clear();
  item_peers_.clear();
  items_.push_back({nullptr, wake_->fd(), ZMQ_POLLIN, 0});
  if (router_.handle() != nullptr) items_.push_back({router_.handle(), 0, ZMQ_POLLIN, 0});
  for (auto& [endpoint, peer] : peers_) {
    items_.push_back({peer->dealer.handle(), 0, ZMQ_POLLIN, 0});
    items_.push_back({peer->monitor->events_socket().handle(), 0, ZMQ_POLLIN, 0});
    item_peers_.push_back(peer.get());
  }
  items_dirty_ = false;
}

bool ZmqTransport::Impl::ReadFrame(zmq::socket_t& socket, InboundHandler& handler,
                                   bool* deliver) {
  if (!socket.recv(msg_, zmq::recv_flags::dontwait)) return false;
  *deliver = !msg_.more();
  if (!*deliver) {
    while (msg_.more() && socket.recv(msg_, zmq::recv_flags::dontwait)) {
    }
    handler.OnBadInput(
        absl::InvalidArgumentError("multipart message dropped: a polis message is one frame"));
  }
  return true;
}

void ZmqTransport::Impl::Deliver(InboundHandler& handler, ReturnPath from) {
  // Parsed on the poll's arena (freed at the end of Poll): no malloc per
  // field object on this hot path.
  auto* envelope = google::protobuf::Arena::CreateMessage<wire::Envelope>(&arena_);
  absl::Status s = DecodeFrame(msg_.data(), msg_.size(), options_.max_message_bytes, envelope);
  if (!s.ok()) {
    handler.OnBadInput(s);
    return;
  }
  handler.OnEnvelope(*envelope, from);
}

void ZmqTransport::Impl::ReadRouter(InboundHandler& handler) {
  zmq::message_t id;
  bool deliver;
  for (int i = 0; i < kMaxReadsPerSocket; ++i) {
    if (!router_.recv(id, zmq::recv_flags::dontwait)) return;
    if (!id.more()) continue;  // a ROUTER always prefixes the routing id
    if (!ReadFrame(router_, handler, &deliver)) return;
    if (deliver) Deliver(handler, ReturnPath{id.to_string()});
  }
}

void ZmqTransport::Impl::ReadDealer(Peer& peer, InboundHandler& handler) {
  bool deliver;
  for (int i = 0; i < kMaxReadsPerSocket && !peer.closed; ++i) {
    if (!ReadFrame(peer.dealer, handler, &deliver)) return;
    if (deliver) Deliver(handler, ReturnPath{});
  }
}

void ZmqTransport::Impl::CheckPeers(absl::Time now, InboundHandler& handler) {
  // Collect first: OnPeerDown may Send (opening a new connection) or Disconnect.
  std::vector<std::pair<Peer*, absl::Status>> down;
  for (auto& [endpoint, peer] : peers_) {
    if (peer->closed) continue;
    absl::Status s = peer->monitor->ReadEvents(now);
    if (!s.ok()) down.emplace_back(peer.get(), std::move(s));
  }
  for (auto& [peer, why] : down) {
    std::string endpoint = peer->endpoint;
    // A dead peer gets no linger: nothing will take the queued messages.
    peer->dealer.set(zmq::sockopt::linger, 0);
    Retire(peer);
    handler.OnPeerDown(endpoint, why);
  }
}

void ZmqTransport::Impl::Poll(absl::Duration timeout, InboundHandler& handler) {
  // Not re-entrant: the handler may Send/Reply/Disconnect but not Poll. So
  // items_ only changes here; peers retired meanwhile wait in graveyard_.
  in_poll_ = true;
  if (items_dirty_) RebuildPollItems();
  absl::Time now = absl::Now();
  absl::Time until = now + timeout;
  for (Peer* peer : item_peers_) until = std::min(until, peer->monitor->deadline());
  const int ready = zmq_poll(items_.data(), static_cast<int>(items_.size()),
                             internal::PollMillis(until - now));
  try {
    bool monitor_event = false;
    if (ready > 0) {
      if (items_[0].revents & ZMQ_POLLIN) wake_->Consume();
      const size_t first_peer = router_.handle() != nullptr ? 2 : 1;
      if (first_peer == 2 && (items_[1].revents & ZMQ_POLLIN)) ReadRouter(handler);
      for (size_t i = 0; i < item_peers_.size(); ++i) {
        Peer* peer = item_peers_[i];
        if (peer->closed) continue;
        if (items_[first_peer + 2 * i].revents & ZMQ_POLLIN) ReadDealer(*peer, handler);
        monitor_event |= (items_[first_peer + 2 * i + 1].revents & ZMQ_POLLIN) != 0;
      }
    }
    now = absl::Now();
    bool deadline_due = false;
    for (Peer* peer : item_peers_) deadline_due |= !peer->closed && peer->monitor->deadline() <= now;
    if (monitor_event || deadline_due) CheckPeers(now, handler);
  } catch (const zmq::error_t& e) {
    handler.OnBadInput(ZmqErrorToStatus(e.num(), "receive"));
  }
  in_poll_ = false;
  graveyard_.clear();
  arena_.Reset();
}

absl::StatusOr<std::unique_ptr<Channel>> ZmqTransport::Impl::OpenChannel(
    const std::string& peer_endpoint) {
  POLIS_RETURN_IF_ERROR(ValidateEndpoint(peer_endpoint, EndpointUse::kConnect));
  POLIS_ASSIGN_OR_RETURN(auto channel,
                         internal::ZmqChannel::Open(context_, options_, peer_endpoint));
  return std::unique_ptr<Channel>(std::move(channel));
}

// --- ZmqTransport: forwards to Impl ---

absl::StatusOr<std::unique_ptr<ZmqTransport>> ZmqTransport::Create(
    const ZmqTransportOptions& options) {
  if (options.max_message_bytes <= 0 ||
      options.max_message_bytes >= (int64_t{1} << 31) - static_cast<int64_t>(kFrameHeaderBytes)) {
    return absl::InvalidArgumentError("max_message_bytes must be in (0, 2 GiB)");
  }
  if (options.send_high_water_mark < 0 || options.receive_high_water_mark < 0 ||
      options.io_threads <= 0 || options.max_sockets <= 0) {
    return absl::InvalidArgumentError(
        "high-water marks must be >= 0, io_threads and max_sockets > 0");
  }
  POLIS_ASSIGN_OR_RETURN(auto wake, WakeFd::Create());
  try {
    return std::unique_ptr<ZmqTransport>(
        new ZmqTransport(std::make_unique<Impl>(options, std::move(wake))));
  } catch (const zmq::error_t& e) {
    return ZmqErrorToStatus(e.num(), "zmq context");
  }
}

ZmqTransport::ZmqTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ZmqTransport::~ZmqTransport() = default;

absl::StatusOr<std::string> ZmqTransport::Listen(const std::string& endpoint) {
  return impl_->Listen(endpoint);
}
absl::Status ZmqTransport::Send(const std::string& peer_endpoint,
                                const wire::Envelope& envelope) {
  return impl_->Send(peer_endpoint, envelope);
}
absl::Status ZmqTransport::Reply(const ReturnPath& path, const wire::Envelope& envelope) {
  return impl_->Reply(path, envelope);
}
void ZmqTransport::Disconnect(const std::string& peer_endpoint) {
  impl_->Disconnect(peer_endpoint);
}
void ZmqTransport::Poll(absl::Duration timeout, InboundHandler& handler) {
  impl_->Poll(timeout, handler);
}
void ZmqTransport::Wake() { impl_->Wake(); }
absl::StatusOr<std::unique_ptr<Channel>> ZmqTransport::OpenChannel(
    const std::string& peer_endpoint) {
  return impl_->OpenChannel(peer_endpoint);
}

}  // namespace polis::bus
