// bus/zmq_transport.cc — see zmq_transport.h and bus/WIRE.md.
#include "bus/zmq_transport.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <vector>

#include <zmq.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log_limiter.h"
#include "bus/frame_codec.h"
#include "bus/internal/connection_monitor.h"
#include "bus/internal/endpoint.h"
#include "bus/internal/send_buffers.h"
#include "bus/internal/zap_handler.h"
#include "bus/internal/zmq_channel.h"
#include "bus/internal/zmq_util.h"
#include "bus/traffic.h"
#include "base/log.h"
#include "base/status_macros.h"

namespace polis::bus {

using internal::ConnectionMonitor;
using internal::EndpointUse;
using internal::ValidateEndpoint;
using internal::WakeFd;
using internal::ZmqErrorToStatus;

namespace {

// A socket the I/O thread polls through its ZMQ_FD with plain poll(2)
// (Poll). That fd signals a command (such as "a pipe has messages again")
// only when it reaches the socket's idle mailbox, and any call into the
// socket may process pending commands and take the signal, leaving a
// message the fd never shows. A receive that finds nothing is the one call
// that ends with every command processed and the fd re-armed. So the fd is
// trusted only while `armed`: set by such a receive, cleared by every send
// and every read that stops early. An unarmed socket is read before a poll
// that could sleep on it.
struct PolledSocket {
  zmq::socket_t socket;
  bool armed = false;
};

// One outgoing connection (I/O thread only). Member order = destruction
// order in reverse: the monitor is stopped before the DEALER closes.
struct Peer {
  std::string endpoint;
  PolledSocket dealer;
  std::unique_ptr<ConnectionMonitor> monitor;
  FrameBatch out;        // envelopes sent but not yet handed to the DEALER
  // The node this connection's last addressed envelope went to (its system
  // messages, drops and refused frames count there too); null until one.
  PeerCounters* counters = nullptr;
  int delivered = 0;     // envelopes read in this Poll (kMaxEnvelopesPerPoll)
  bool blocked = false;  // `out` met a full send queue: poll for POLLOUT
  bool closed = false;   // Disconnected/down while a Poll still points at it
};

// One connection to the listening socket, as replies see it (I/O thread
// only): replies not yet handed to the ROUTER, and the bytes libzmq still
// holds for it (lent batches not yet written out).
struct ReplyConnection {
  FrameBatch batch;
  std::shared_ptr<internal::Unread> unread;
};
using ReplyEntry = std::pair<const std::string, ReplyConnection>;

// The size of `envelope`'s frame, computed (FrameRoom's bound is enough,
// except near a limit).
size_t ExactFrameSize(const EnvelopeView& envelope) {
  return kFrameHeaderBytes + EncodedSize(envelope);
}

// Where what the ROUTER read into `msg` came from: its Peer-Address,
// looked up only when asked (a refusal; bus/peer.h Origin).
class MessageOrigin final : public Origin {
 public:
  explicit MessageOrigin(const zmq::message_t* msg) : msg_(msg) {}
  std::string Address() const override {
    const char* address = zmq_msg_gets(msg_->handle(), "Peer-Address");
    return address != nullptr ? address : "";
  }

 private:
  const zmq::message_t* msg_;
};

}  // namespace

class ZmqTransport::Impl {
 public:
  Impl(const ZmqTransportOptions& options, std::unique_ptr<WakeFd> wake)
      : options_(options),
        context_(std::make_shared<zmq::context_t>(options.io_threads, options.max_sockets)),
        wake_(std::move(wake)) {}

  ~Impl() {
    Flush();  // e.g. a Goodbye queued just before shutdown; linger sends it
    peers_.clear();
    graveyard_.clear();
    // Close the listening socket now and remove an ipc socket file, so a
    // clean shutdown leaves nothing behind in the file system.
    if (router_.socket.handle() != nullptr) router_.socket.close();
    zap_.reset();
    if (absl::StartsWith(bound_, "ipc://")) ::unlink(bound_.c_str() + 6);
  }

  absl::StatusOr<std::string> Listen(const std::string& endpoint);
  absl::Status Send(const std::string& peer_endpoint, const EnvelopeView& envelope);
  absl::Status Reply(const ReturnPath& path, const EnvelopeView& envelope);
  void Disconnect(const std::string& peer_endpoint);
  void Poll(absl::Duration timeout, InboundHandler& handler);
  void Flush();
  void Wake() { wake_->Signal(); }
  absl::StatusOr<std::unique_ptr<Channel>> OpenChannel(const std::string& peer_endpoint);
  std::vector<PeerTraffic> Traffic() const { return traffic_->Snapshot(); }
  SlowReaderStats SlowReaders() const {
    return {unread_total_->load(std::memory_order_relaxed),
            slow_reader_drops_.load(std::memory_order_relaxed)};
  }
  void TrackPeer(const std::string& node) { traffic_->For(node, /*track=*/true); }
  absl::Status SetPeerKey(const std::string& endpoint, const std::string& z85) {
    if (options_.curve == nullptr) return absl::OkStatus();
    return options_.curve->SetServerKey(endpoint, z85);
  }

 private:
  absl::StatusOr<Peer*> Connect(const std::string& endpoint);
  // Moves `peer` out of peers_; destroyed at the end of the current Poll.
  void Retire(Peer* peer);
  void RebuildPollItems();
  // The index of the first peer's DEALER in items_ and fds_.
  size_t FirstPeerItem() const { return router_.socket.handle() != nullptr ? 2 : 1; }
  // Waits up to `timeout` with poll(2) on fds_ (reading unarmed sockets
  // first) and reads what is ready. Returns true if a monitor has events.
  bool WaitOnFds(absl::Duration timeout, InboundHandler& handler);
  // The same with zmq_poll on items_ until `until`, asking for POLLOUT on
  // DEALERs whose queue is full (`blocked`: some is).
  bool WaitOnZmqPoll(bool blocked, absl::Time now, absl::Time until, InboundHandler& handler);
  // Reads the items that `ready(index)` says are ready; true if a monitor is.
  template <typename Ready>
  bool ReadReady(Ready ready, InboundHandler& handler);
  // Read what the socket holds, up to kMaxEnvelopesPerPoll envelopes in
  // this Poll; true if anything came. The socket is armed if the read ended
  // finding nothing.
  bool ReadRouter(InboundHandler& handler);
  bool ReadDealer(Peer& peer, InboundHandler& handler);
  // Reads one message from `socket` into msg_; false if nothing was ready.
  // `*whole` is false if it was multipart (drained: a polis message is a
  // single frame; the caller refuses it with RefuseMultipart).
  bool ReadFrame(zmq::socket_t& socket, bool* whole);
  // Reports a multipart message from `sender`, counted in `conn`.
  void RefuseMultipart(InboundHandler& handler, const Sender& sender, PeerCounters& conn);
  // Hands every good frame of msg_ to `handler`; returns how many.
  int Deliver(InboundHandler& handler, ReturnPath from, const Sender& sender, PeerCounters& conn);
  void CheckPeers(absl::Time now, InboundHandler& handler);
  // Where what happens on `peer`'s connection counts.
  PeerCounters& Counters(Peer& peer) {
    return peer.counters != nullptr ? *peer.counters
                                    : traffic_->For(TrafficCounters::kOther, false);
  }
  // Queues the frame for `envelope` (at most `room` bytes: FrameRoom's) in
  // `batch`, bound for `socket` (after routing id `id` if non-null). Hands
  // the batch to the socket first if the frame does not fit; a frame over
  // kMaxBatchBytes goes alone, right after the batch (near that size the
  // frame's exact size decides). RESOURCE_EXHAUSTED if the socket's
  // queue is full (this envelope is refused; the batch stays queued).
  // What is lost counts as dropped in `counters`. With an `account`, what
  // is handed to libzmq is charged to it until written out.
  absl::Status Enqueue(PolledSocket& socket, const std::string* id, FrameBatch& batch,
                       const EnvelopeView& envelope, size_t room, absl::string_view what,
                       PeerCounters& counters,
                       const std::shared_ptr<internal::Unread>& account = nullptr);
  // Hands `batch` to `socket` as one message and clears it. On
  // RESOURCE_EXHAUSTED (queue full) the batch stays; on any other error it
  // is dropped (counted in `counters`).
  absl::Status SendBatch(PolledSocket& socket, const std::string* id, FrameBatch& batch,
                         absl::string_view what, PeerCounters& counters,
                         const std::shared_ptr<internal::Unread>& account = nullptr);
  // The reply connection `token` (made if new).
  ReplyEntry& ReplyConnectionOf(const std::string& token);
  // Refuses the reply `envelope` (at most `room` bytes: FrameRoom's; its
  // exact size decides near the limit) to `c` if its caller has the limit's
  // worth of replies unread (and something unread at all: a reply to a
  // connection with nothing pending always goes).
  absl::Status CheckUnread(const ReplyConnection& c, const EnvelopeView& envelope, size_t room);
  // Forgets reply connections with nothing queued and nothing unread
  // (gone or idle callers), once there are many.
  void PruneReplyConnections();
  // Hands every queued batch to its socket. Returns true if some batch met
  // a full queue and is still waiting.
  bool FlushAll();

  const ZmqTransportOptions options_;
  std::shared_ptr<zmq::context_t> context_;
  std::unique_ptr<WakeFd> wake_;
  std::unique_ptr<internal::ZapHandler> zap_;  // with CURVE, from Listen on
  // With CURVE: the I/O thread's view of the authorized table, for the
  // per-message key lookup (refreshed once per ReadRouter).
  std::optional<AuthorizedSnapshot> authorized_;
  PolledSocket router_;
  absl::flat_hash_map<std::string, std::unique_ptr<Peer>> peers_;
  std::vector<std::unique_ptr<Peer>> graveyard_;
  Peer* last_peer_ = nullptr;  // The peer the last Send went to (in peers_).
  // Peers whose `out` batch is not empty (each listed once).
  std::vector<Peer*> unflushed_peers_;
  // Reply connections by routing id (node_hash_map: entries stay put, so
  // the lists below may point at them until pruned).
  absl::node_hash_map<std::string, ReplyConnection> replies_;
  // Those whose batch is not empty (each listed once).
  std::vector<ReplyEntry*> unflushed_replies_;
  // The entry the last Reply went to; reset when entries are pruned.
  ReplyEntry* last_reply_ = nullptr;
  size_t prune_replies_at_ = kMinPruneAt;
  static constexpr size_t kMinPruneAt = 256;
  // The buffers of flushed reply batches, for the next ones.
  std::vector<FrameBatch> spare_batches_;
  // Bytes of replies lent to libzmq over all connections, and replies
  // dropped because their caller had too many unread (SlowReaders).
  std::shared_ptr<internal::Unread::Total> unread_total_ =
      std::make_shared<internal::Unread::Total>(0);
  std::atomic<uint64_t> slow_reader_drops_{0};
  base::LogLimiter slow_reader_log_{/*lines=*/5, absl::Seconds(10)};
  bool replies_blocked_ = false;  // a reply batch met a full queue
  bool pollout_set_ = false;      // some poll item asks for ZMQ_POLLOUT
  // Poll set: [wake fd, ROUTER?, then per peer: DEALER, monitor], for
  // zmq_poll and (sockets by their ZMQ_FD) for poll(2).
  std::vector<zmq::pollitem_t> items_;
  std::vector<pollfd> fds_;
  std::vector<Peer*> item_peers_;  // parallel to the per-peer pairs
  bool items_dirty_ = true;
  bool in_poll_ = false;
  int router_delivered_ = 0;  // envelopes read from the ROUTER in this Poll
  zmq::message_t msg_;  // reused receive buffer
  std::string bound_;   // The endpoint Listen bound ("" if none).
  // Per-peer counts (bus/traffic.h), shared with the Channels; the I/O
  // thread's memos of the last name counted each way.
  std::shared_ptr<TrafficCounters> traffic_ = std::make_shared<TrafficCounters>();
  TrafficMemo send_memo_;
  TrafficMemo reply_memo_;
  TrafficMemo receive_memo_;
};

absl::StatusOr<std::string> ZmqTransport::Impl::Listen(const std::string& endpoint) {
  if (router_.socket.handle() != nullptr) {
    return absl::FailedPreconditionError("ZmqTransport::Listen called twice");
  }
  POLIS_RETURN_IF_ERROR(ValidateEndpoint(endpoint, EndpointUse::kBind));
  try {
    if (options_.curve != nullptr && zap_ == nullptr) {
      // Before the bind: no handshake may find the ZAP endpoint empty.
      POLIS_ASSIGN_OR_RETURN(zap_, internal::ZapHandler::Start(*context_, options_.curve));
      authorized_.emplace(*options_.curve);
    }
    zmq::socket_t router(*context_, zmq::socket_type::router);
    internal::ApplyCommonOptions(router, options_);
    if (options_.curve != nullptr) internal::ApplyCurveServer(router, *options_.curve);
    router.set(zmq::sockopt::router_mandatory, true);
    router.bind(endpoint);
    std::string bound = router.get(zmq::sockopt::last_endpoint);
    bound_ = bound;
    router_.socket = std::move(router);
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
    zmq::socket_t& dealer = peer->dealer.socket;
    dealer = zmq::socket_t(*context_, zmq::socket_type::dealer);
    internal::ApplyDealerOptions(dealer, options_);
    if (options_.curve != nullptr) {
      POLIS_RETURN_IF_ERROR(internal::ApplyCurveClient(dealer, *options_.curve, endpoint));
    }
    POLIS_ASSIGN_OR_RETURN(peer->monitor,
                           ConnectionMonitor::Attach(*context_, dealer, endpoint,
                                                     base::Now() + options_.connect_timeout,
                                                     options_.curve != nullptr));
    dealer.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return ZmqErrorToStatus(e.num(), absl::StrCat("cannot connect to ", endpoint));
  }
  Peer* raw = peer.get();
  peers_.emplace(endpoint, std::move(peer));
  items_dirty_ = true;
  return raw;
}

absl::Status ZmqTransport::Impl::SendBatch(PolledSocket& to, const std::string* id,
                                           FrameBatch& batch, absl::string_view what,
                                           PeerCounters& counters,
                                           const std::shared_ptr<internal::Unread>& account) {
  if (batch.empty()) return absl::OkStatus();
  to.armed = false;  // libzmq may process the socket's commands in the send
  zmq::socket_t& socket = to.socket;
  absl::Status s;
  if (id != nullptr) {
    zmq::message_t head(id->data(), id->size());
    s = internal::SendNoWait(socket, head, zmq::send_flags::sndmore, what);
    if (s.code() == absl::StatusCode::kNotFound) s = absl::NotFoundError("connection is gone");
  }
  if (s.ok()) {
    std::string* lent = nullptr;
    zmq::message_t msg = internal::MessageOf(batch, &lent, account);
    s = internal::SendNoWait(socket, msg, zmq::send_flags::none, what);
    if (s.code() == absl::StatusCode::kResourceExhausted && lent != nullptr) {
      internal::Restore(*lent, batch);
    }
  }
  if (s.code() != absl::StatusCode::kResourceExhausted) {
    if (!s.ok()) counters.solo.CountDropped(batch.frames());
    batch.Clear();
  }
  return s;
}

absl::Status ZmqTransport::Impl::Enqueue(PolledSocket& socket, const std::string* id,
                                         FrameBatch& batch, const EnvelopeView& envelope,
                                         size_t room, absl::string_view what,
                                         PeerCounters& counters,
                                         const std::shared_ptr<internal::Unread>& account) {
  if (batch.bytes() + room > kMaxBatchBytes) {
    room = ExactFrameSize(envelope);  // whether it fits: as if sized first
    if (batch.bytes() + room > kMaxBatchBytes) {
      if (absl::Status s = SendBatch(socket, id, batch, what, counters, account); !s.ok()) {
        counters.solo.CountDropped(1);  // This envelope is refused.
        return s;
      }
    }
  }
  if (room <= kMaxBatchBytes) {
    counters.solo.CountOut(batch.Append(envelope, room));
    return absl::OkStatus();
  }
  FrameBatch alone;
  const size_t frame_size = alone.Append(envelope, room);
  // Counts another failure.
  absl::Status s = SendBatch(socket, id, alone, what, counters, account);
  if (s.ok()) {
    counters.solo.CountOut(frame_size);
  } else if (s.code() == absl::StatusCode::kResourceExhausted) {
    counters.solo.CountDropped(1);  // Refused: `alone` goes.
  }
  return s;
}

absl::Status ZmqTransport::Impl::Send(const std::string& peer_endpoint,
                                      const EnvelopeView& envelope) {
  // Size first: an oversized envelope opens no connection.
  POLIS_ASSIGN_OR_RETURN(size_t room, FrameRoom(envelope, options_.max_message_bytes));
  // Most sends go where the last one went: a string compare instead of a
  // hash lookup.
  Peer* peer = last_peer_;
  if (peer == nullptr || peer->endpoint != peer_endpoint) {
    if (auto it = peers_.find(peer_endpoint); it != peers_.end()) {
      peer = it->second.get();
    } else {
      POLIS_ASSIGN_OR_RETURN(peer, Connect(peer_endpoint));
    }
    last_peer_ = peer;
  }
  if (!envelope.recipient.node.empty()) {
    peer->counters = &send_memo_.For(*traffic_, envelope.recipient.node, /*track=*/true);
  }
  PeerCounters& counters =
      peer->counters != nullptr ? *peer->counters : traffic_->For(TrafficCounters::kOther, false);
  const bool was_empty = peer->out.empty();
  POLIS_RETURN_IF_ERROR(
      Enqueue(peer->dealer, nullptr, peer->out, envelope, room, peer_endpoint, counters));
  if (was_empty && !peer->out.empty()) unflushed_peers_.push_back(peer);
  return absl::OkStatus();
}

absl::Status ZmqTransport::Impl::Reply(const ReturnPath& path, const EnvelopeView& envelope) {
  if (router_.socket.handle() == nullptr) {
    return absl::FailedPreconditionError("Reply before Listen: no connection to reply on");
  }
  if (path.empty()) return absl::NotFoundError("Reply on an empty ReturnPath");
  POLIS_ASSIGN_OR_RETURN(size_t room, FrameRoom(envelope, options_.max_message_bytes));
  // Replies come in runs to one connection: a string compare instead of a
  // hash lookup.
  if (last_reply_ == nullptr || last_reply_->first != path.token) {
    last_reply_ = &ReplyConnectionOf(path.token);
  }
  ReplyConnection& c = last_reply_->second;
  PeerCounters& counters = reply_memo_.For(*traffic_, envelope.recipient.node, /*track=*/false);
  if (absl::Status s = CheckUnread(c, envelope, room); !s.ok()) {
    counters.solo.CountDropped(1);
    return s;
  }
  if (c.batch.empty() && !spare_batches_.empty()) {
    c.batch = std::move(spare_batches_.back());
    spare_batches_.pop_back();
  }
  const bool was_empty = c.batch.empty();
  absl::Status s =
      Enqueue(router_, &last_reply_->first, c.batch, envelope, room, "reply", counters, c.unread);
  if (was_empty && !c.batch.empty()) unflushed_replies_.push_back(last_reply_);
  return s;
}

ReplyEntry& ZmqTransport::Impl::ReplyConnectionOf(const std::string& token) {
  auto [it, added] = replies_.try_emplace(token);
  if (added) it->second.unread = std::make_shared<internal::Unread>(unread_total_);
  return *it;
}

absl::Status ZmqTransport::Impl::CheckUnread(const ReplyConnection& c,
                                             const EnvelopeView& envelope, size_t room) {
  const int64_t pending = c.unread->bytes() + static_cast<int64_t>(c.batch.bytes());
  if (pending == 0) return absl::OkStatus();
  bool over_own, over_all;
  auto judge = [&](size_t frame_size) {
    const int64_t size = static_cast<int64_t>(frame_size);
    over_own = pending + size > options_.max_unread_reply_bytes;
    over_all = c.unread->total() + static_cast<int64_t>(c.batch.bytes()) + size >
               options_.max_unread_reply_bytes_total;
  };
  judge(room);
  if (over_own || over_all) judge(ExactFrameSize(envelope));  // near the limit: exactly
  if (!over_own && !over_all) return absl::OkStatus();
  slow_reader_drops_.fetch_add(1, std::memory_order_relaxed);
  absl::Status why = absl::ResourceExhaustedError(
      over_own ? absl::StrCat("reply dropped: its caller has ", pending,
                              " bytes of replies it has not read (limit ",
                              options_.max_unread_reply_bytes, " per connection)")
               : absl::StrCat("reply dropped: callers have ", c.unread->total(),
                              " bytes of replies they have not read (limit ",
                              options_.max_unread_reply_bytes_total, " for all connections)"));
  uint64_t suppressed = 0;
  if (slow_reader_log_.Admit(over_own ? "own" : "all", base::Now(), &suppressed)) {
    POLIS_LOG(WARNING) << "polis: " << why.message() << base::Suppressed(suppressed);
  }
  return why;
}

void ZmqTransport::Impl::PruneReplyConnections() {
  last_reply_ = nullptr;
  for (auto it = replies_.begin(); it != replies_.end();) {
    // An empty batch is not listed in unflushed_replies_; nothing unread
    // means libzmq holds no message charged to it.
    if (it->second.batch.empty() && it->second.unread->bytes() == 0) {
      replies_.erase(it++);
    } else {
      ++it;
    }
  }
  prune_replies_at_ = std::max(kMinPruneAt, 2 * replies_.size());
}

bool ZmqTransport::Impl::FlushAll() {
  bool blocked = false;
  size_t kept = 0;
  for (Peer* peer : unflushed_peers_) {
    absl::Status s = SendBatch(peer->dealer, nullptr, peer->out, peer->endpoint, Counters(*peer));
    peer->blocked = !peer->out.empty();
    if (peer->blocked) {
      unflushed_peers_[kept++] = peer;
      blocked = true;
    }
  }
  unflushed_peers_.resize(kept);
  replies_blocked_ = false;
  kept = 0;
  for (ReplyEntry* entry : unflushed_replies_) {
    ReplyConnection& c = entry->second;
    // A reply batch is not tied to a node: what it loses counts as kOther's.
    absl::Status s = SendBatch(router_, &entry->first, c.batch, "reply",
                               traffic_->For(TrafficCounters::kOther, false), c.unread);
    if (!s.ok() && s.code() != absl::StatusCode::kResourceExhausted) {
      // The caller's connection is gone, and the caller with it.
      POLIS_LOG(DEBUG) << "polis: replies dropped: " << s;
    }
    if (!c.batch.empty()) {
      replies_blocked_ = true;
      unflushed_replies_[kept++] = entry;
      continue;
    }
    if (spare_batches_.size() < 8) {
      spare_batches_.push_back(std::move(c.batch));
      c.batch = FrameBatch();
    }
  }
  unflushed_replies_.resize(kept);
  if (replies_.size() >= prune_replies_at_) PruneReplyConnections();
  return blocked || replies_blocked_;
}

void ZmqTransport::Impl::Flush() {
  try {
    FlushAll();
  } catch (const zmq::error_t&) {
    // SendNoWait turns zmq errors into statuses; nothing else throws here.
  }
}

void ZmqTransport::Impl::Retire(Peer* peer) {
  auto it = peers_.find(peer->endpoint);
  if (it == peers_.end() || it->second.get() != peer) return;
  peer->closed = true;
  if (last_peer_ == peer) last_peer_ = nullptr;
  // Whatever it still had queued is dropped with the connection.
  Counters(*peer).solo.CountDropped(peer->out.frames());
  unflushed_peers_.erase(std::remove(unflushed_peers_.begin(), unflushed_peers_.end(), peer),
                         unflushed_peers_.end());
  if (in_poll_) graveyard_.push_back(std::move(it->second));
  peers_.erase(it);
  items_dirty_ = true;
}

void ZmqTransport::Impl::Disconnect(const std::string& peer_endpoint) {
  if (auto it = peers_.find(peer_endpoint); it != peers_.end()) Retire(it->second.get());
}

void ZmqTransport::Impl::RebuildPollItems() {
  items_.clear();
  fds_.clear();
  item_peers_.clear();
  auto add = [this](zmq::socket_t* socket, int fd) {
    items_.push_back({socket != nullptr ? socket->handle() : nullptr, fd, ZMQ_POLLIN, 0});
    // poll(2) sees a socket by its ZMQ_FD (PolledSocket).
    fds_.push_back({socket != nullptr ? socket->get(zmq::sockopt::fd) : fd, POLLIN, 0});
  };
  add(nullptr, wake_->fd());
  if (router_.socket.handle() != nullptr) add(&router_.socket, 0);
  for (auto& [endpoint, peer] : peers_) {
    add(&peer->dealer.socket, 0);
    add(nullptr, peer->monitor->events_fd());
    item_peers_.push_back(peer.get());
  }
  items_dirty_ = false;
  pollout_set_ = false;
}

bool ZmqTransport::Impl::ReadFrame(zmq::socket_t& socket, bool* whole) {
  if (!socket.recv(msg_, zmq::recv_flags::dontwait)) return false;
  *whole = !msg_.more();
  while (msg_.more() && socket.recv(msg_, zmq::recv_flags::dontwait)) {
  }
  return true;
}

void ZmqTransport::Impl::RefuseMultipart(InboundHandler& handler, const Sender& sender,
                                         PeerCounters& conn) {
  conn.solo.CountRefused();
  handler.OnBadInput(
      absl::InvalidArgumentError("multipart message dropped: a polis message is one frame"),
      sender);
}

int ZmqTransport::Impl::Deliver(InboundHandler& handler, ReturnPath from, const Sender& sender,
                                PeerCounters& conn) {
  int delivered = 0;
  const absl::Time received = base::Now();
  FrameSplitter split(msg_.data(), msg_.size());
  const uint8_t* frame;
  size_t size;
  // Decoded in place: the view points into msg_, no copy, no malloc (and
  // one view for the whole batch: DecodeFrame resets it).
  EnvelopeView envelope;
  while (split.Next(&frame, &size)) {
    absl::Status s = DecodeFrame(frame, size, options_.max_message_bytes, &envelope);
    if (s.ok()) {
      receive_memo_.For(*traffic_, envelope.sender.node, /*track=*/false).solo.CountIn(size);
      handler.OnEnvelope(envelope, from, received, sender);
      ++delivered;
    } else {
      conn.solo.CountRefused();
      handler.OnBadInput(s, sender);
    }
  }
  if (!split.status().ok()) {
    conn.solo.CountRefused();
    handler.OnBadInput(split.status(), sender);
  }
  return delivered;
}

bool ZmqTransport::Impl::ReadRouter(InboundHandler& handler) {
  router_.armed = false;
  zmq::message_t id;
  bool whole;
  // A ROUTER connection is not tied to a node: what it refuses is kOther's.
  PeerCounters& conn = traffic_->For(TrafficCounters::kOther, false);
  // The table as of this batch: its entries outlive the deliveries below.
  const AuthorizedKeys* keys = authorized_ ? &authorized_->Current() : nullptr;
  const MessageOrigin origin(&msg_);
  int& n = router_delivered_;  // this Poll's, over all its reads
  const int before = n;
  while (n < kMaxEnvelopesPerPoll) {
    if (!router_.socket.recv(id, zmq::recv_flags::dontwait)) {
      router_.armed = true;  // found nothing
      return n > before;
    }
    if (!id.more()) continue;  // a ROUTER always prefixes the routing id
    if (!ReadFrame(router_.socket, &whole)) {
      router_.armed = true;
      return n > before;
    }
    Sender sender;
    sender.origin = &origin;
    if (keys != nullptr) {
      // The ZAP handler set the User-Id to the connection's Z85 key.
      const char* user = zmq_msg_gets(msg_.handle(), "User-Id");
      if (user == nullptr || *user == '\0') {  // cannot happen with the ZAP handler up
        conn.solo.CountRefused();
        handler.OnBadInput(absl::UnauthenticatedError("message without an authorized User-Id"),
                           sender);
        ++n;
        continue;
      }
      // Looked up per message: a key removed from the table since its
      // handshake is kRevoked (the node refuses what it sends), a key whose
      // line changed has its new role and names.
      sender.key = keys->FindZ85(user);
      sender.role = sender.key != nullptr ? sender.key->role : PeerRole::kRevoked;
    }
    if (!whole) RefuseMultipart(handler, sender, conn);
    // A message counts at least one, good frames or not.
    n += std::max(1, whole ? Deliver(handler, ReturnPath{id.to_string()}, sender, conn) : 0);
  }
  return n > before;
}

bool ZmqTransport::Impl::ReadDealer(Peer& peer, InboundHandler& handler) {
  peer.dealer.armed = false;
  bool whole;
  int& n = peer.delivered;  // this Poll's, over all its reads
  const int before = n;
  while (n < kMaxEnvelopesPerPoll && !peer.closed) {
    if (!ReadFrame(peer.dealer.socket, &whole)) {
      peer.dealer.armed = true;  // found nothing
      return n > before;
    }
    // With CURVE the peer proved the server key pinned for this endpoint.
    const Sender sender{options_.curve != nullptr ? PeerRole::kNode : PeerRole::kAnonymous,
                        nullptr, peer.endpoint};
    if (!whole) RefuseMultipart(handler, sender, Counters(peer));
    n += std::max(1, whole ? Deliver(handler, ReturnPath{}, sender, Counters(peer)) : 0);
  }
  return n > before;
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
    peer->dealer.socket.set(zmq::sockopt::linger, 0);
    Retire(peer);
    handler.OnPeerDown(endpoint, why);
  }
}

template <typename Ready>
bool ZmqTransport::Impl::ReadReady(Ready ready, InboundHandler& handler) {
  if (ready(0)) wake_->Consume();
  const size_t first_peer = FirstPeerItem();
  if (first_peer == 2 && ready(1)) ReadRouter(handler);
  bool monitor_event = false;
  for (size_t i = 0; i < item_peers_.size(); ++i) {
    Peer* peer = item_peers_[i];
    if (peer->closed) continue;
    if (ready(first_peer + 2 * i)) ReadDealer(*peer, handler);
    monitor_event |= ready(first_peer + 2 * i + 1);
  }
  return monitor_event;
}

bool ZmqTransport::Impl::WaitOnFds(absl::Duration timeout, InboundHandler& handler) {
  // An unarmed socket may hold messages its fd never shows: read it first.
  // If anything came, the node has work to run: the poll only looks.
  bool came = false;
  if (router_.socket.handle() != nullptr && !router_.armed) came |= ReadRouter(handler);
  for (Peer* peer : item_peers_) {
    if (!peer->closed && !peer->dealer.armed) came |= ReadDealer(*peer, handler);
  }
  const int ready = ::poll(fds_.data(), fds_.size(),
                           came ? 0 : static_cast<int>(internal::PollMillis(timeout)));
  if (ready <= 0) return false;  // nothing, or EINTR
  return ReadReady([this](size_t i) { return fds_[i].revents != 0; }, handler);
}

bool ZmqTransport::Impl::WaitOnZmqPoll(bool blocked, absl::Time now, absl::Time until,
                                       InboundHandler& handler) {
  // A full DEALER queue is waited for with POLLOUT; a ROUTER cannot say
  // which connection has room, so blocked replies are retried each 1 ms.
  const size_t first_peer = FirstPeerItem();
  for (size_t i = 0; i < item_peers_.size(); ++i) {
    items_[first_peer + 2 * i].events = ZMQ_POLLIN | (item_peers_[i]->blocked ? ZMQ_POLLOUT : 0);
  }
  pollout_set_ = blocked;
  if (replies_blocked_) until = std::min(until, now + absl::Milliseconds(1));
  const int ready = zmq_poll(items_.data(), static_cast<int>(items_.size()),
                             internal::PollMillis(until - now));
  if (ready <= 0) return false;
  return ReadReady([this](size_t i) { return (items_[i].revents & ZMQ_POLLIN) != 0; }, handler);
}

void ZmqTransport::Impl::Poll(absl::Duration timeout, InboundHandler& handler) {
  // Not re-entrant: the handler may Send/Reply/Disconnect but not Poll. So
  // items_ only changes here; peers retired meanwhile wait in graveyard_.
  in_poll_ = true;
  // What was sent since the last Poll leaves now, before any wait.
  bool blocked = false;
  try {
    blocked = FlushAll();
  } catch (const zmq::error_t& e) {
    handler.OnBadInput(ZmqErrorToStatus(e.num(), "send"), Sender());
  }
  if (items_dirty_) RebuildPollItems();
  absl::Time now = base::Now();
  absl::Time until = now + timeout;
  // A socket may be read twice in one Poll (unarmed, then its fd fired):
  // kMaxEnvelopesPerPoll bounds both reads together.
  router_delivered_ = 0;
  for (Peer* peer : item_peers_) {
    until = std::min(until, peer->monitor->deadline());
    peer->delivered = 0;
  }
  try {
    // zmq_poll asks each socket for ZMQ_EVENTS, two system calls a socket
    // with nothing pending; poll(2) on the sockets' fds is one system call
    // in all. zmq_poll stays for the rare wait for room in a full queue.
    const bool monitor_event = blocked || pollout_set_
                                   ? WaitOnZmqPoll(blocked, now, until, handler)
                                   : WaitOnFds(until - now, handler);
    now = base::Now();
    bool deadline_due = false;
    for (Peer* peer : item_peers_) deadline_due |= !peer->closed && peer->monitor->deadline() <= now;
    if (monitor_event || deadline_due) CheckPeers(now, handler);
    // What the handler sent (replies, Hello answers) leaves now too.
    FlushAll();
  } catch (const zmq::error_t& e) {
    handler.OnBadInput(ZmqErrorToStatus(e.num(), "receive"), Sender());
  }
  in_poll_ = false;
  graveyard_.clear();
}

absl::StatusOr<std::unique_ptr<Channel>> ZmqTransport::Impl::OpenChannel(
    const std::string& peer_endpoint) {
  POLIS_RETURN_IF_ERROR(ValidateEndpoint(peer_endpoint, EndpointUse::kConnect));
  POLIS_ASSIGN_OR_RETURN(auto channel,
                         internal::ZmqChannel::Open(context_, options_, peer_endpoint, traffic_));
  return std::unique_ptr<Channel>(std::move(channel));
}

// --- ZmqTransport: forwards to Impl ---

absl::StatusOr<std::unique_ptr<ZmqTransport>> ZmqTransport::Create(
    const ZmqTransportOptions& options) {
  if (options.max_message_bytes <= 0 ||
      options.max_message_bytes >= (int64_t{1} << 31) - static_cast<int64_t>(kFrameHeaderBytes)) {
    return absl::InvalidArgumentError("max_message_bytes must be in (0, 2 GiB)");
  }
  if (options.max_unread_reply_bytes <= 0 || options.max_unread_reply_bytes_total <= 0) {
    return absl::InvalidArgumentError(
        "max_unread_reply_bytes and max_unread_reply_bytes_total must be > 0");
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
                                const EnvelopeView& envelope) {
  return impl_->Send(peer_endpoint, envelope);
}
absl::Status ZmqTransport::Reply(const ReturnPath& path, const EnvelopeView& envelope) {
  return impl_->Reply(path, envelope);
}
void ZmqTransport::Disconnect(const std::string& peer_endpoint) {
  impl_->Disconnect(peer_endpoint);
}
void ZmqTransport::Flush() { impl_->Flush(); }
void ZmqTransport::Poll(absl::Duration timeout, InboundHandler& handler) {
  impl_->Poll(timeout, handler);
}
void ZmqTransport::Wake() { impl_->Wake(); }
absl::StatusOr<std::unique_ptr<Channel>> ZmqTransport::OpenChannel(
    const std::string& peer_endpoint) {
  return impl_->OpenChannel(peer_endpoint);
}
std::vector<PeerTraffic> ZmqTransport::Traffic() const { return impl_->Traffic(); }
SlowReaderStats ZmqTransport::SlowReaders() const { return impl_->SlowReaders(); }
void ZmqTransport::TrackPeer(const std::string& node) { impl_->TrackPeer(node); }
absl::Status ZmqTransport::SetPeerKey(const std::string& endpoint, const std::string& z85) {
  return impl_->SetPeerKey(endpoint, z85);
}

}  // namespace polis::bus
