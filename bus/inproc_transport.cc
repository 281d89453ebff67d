// bus/inproc_transport.cc — see inproc_transport.h.
#include "bus/inproc_transport.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "bus/frame_codec.h"
#include "bus/internal/inproc_mailbox.h"
#include "base/status_macros.h"

namespace polis::bus {

using internal::InProcItem;
using internal::Mailbox;

namespace {

absl::Status PeerGone(const std::string& endpoint) {
  return absl::UnavailableError(absl::StrCat("peer ", endpoint, " is gone"));
}

// Tells every transport/channel that sent to a closing mailbox.
void ReportDown(const std::shared_ptr<Mailbox>& box, const std::string& endpoint) {
  for (const std::shared_ptr<Mailbox>& sender : box->Close()) {
    sender->Push(InProcItem::PeerDown(endpoint, box->id(), PeerGone(endpoint)));
    sender->Wake();
  }
}

// The Channel: its own mailbox, named in the ReturnPath of what it sends.
class InProcChannel final : public Channel {
 public:
  InProcChannel(std::string endpoint, const InProcTransportOptions& options)
      : endpoint_(std::move(endpoint)),
        role_(options.sender_role),
        key_(options.sender_key),
        max_bytes_(options.max_message_bytes),
        box_(Mailbox::Make()) {}
  ~InProcChannel() override { box_->Close(); }

  absl::Status Send(const EnvelopeView& envelope) override {
    std::string frame;
    POLIS_RETURN_IF_ERROR(EncodeFrame(envelope, max_bytes_, &frame));
    if (!down_.ok()) return down_;
    std::shared_ptr<Mailbox> peer = internal::FindByEndpoint(endpoint_);
    if (peer == nullptr || (peer->id() != peer_id_ && peer_id_ != 0) ||
        !peer->AddSender(box_)) {
      down_ = PeerGone(endpoint_);
      return down_;
    }
    peer_id_ = peer->id();
    if (peer->partitioned.load(std::memory_order_relaxed)) return absl::OkStatus();
    InProcItem item = InProcItem::Frame(std::move(frame), box_->token());
    item.role = role_;
    item.key = key_;
    peer->Push(std::move(item));
    peer->Wake();
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<EnvelopeView>> Recv(absl::Time deadline) override {
    for (;;) {
      if (pending_.empty()) {
        box_->Wait(deadline, &pending_);
        if (pending_.empty()) return std::nullopt;  // woken or deadline
      }
      // Kept in current_: the view returned points into its frame.
      current_ = std::move(pending_.front());
      pending_.pop_front();
      if (current_.peer_down) {
        if (current_.peer_id == peer_id_) down_ = current_.why;
        if (!down_.ok() && pending_.empty()) return down_;
        continue;
      }
      EnvelopeView envelope;
      if (DecodeFrame(current_.frame.data(), current_.frame.size(), max_bytes_, &envelope).ok()) {
        return envelope;
      }  // malformed: dropped
    }
  }

  void Wake() override { box_->Wake(); }

 private:
  const std::string endpoint_;
  const PeerRole role_;
  const AuthorizedKey* const key_;
  const int64_t max_bytes_;
  const std::shared_ptr<Mailbox> box_;
  uint64_t peer_id_ = 0;  // the mailbox first reached
  absl::Status down_;
  std::deque<InProcItem> pending_;
  InProcItem current_;  // the item the last Recv returned a view into
};

}  // namespace

absl::StatusOr<std::unique_ptr<InProcTransport>> InProcTransport::Create(
    const InProcTransportOptions& options) {
  if (options.max_message_bytes <= 0) {
    return absl::InvalidArgumentError("max_message_bytes must be positive");
  }
  return std::unique_ptr<InProcTransport>(new InProcTransport(options));
}

InProcTransport::InProcTransport(const InProcTransportOptions& options)
    : options_(options),
      box_(Mailbox::Make()),
      batch_(std::make_unique<std::deque<InProcItem>>()) {}

InProcTransport::~InProcTransport() { Kill(); }

void InProcTransport::Kill() {
  killed_.store(true, std::memory_order_relaxed);
  // endpoint_ is written once by Listen on the I/O thread before any peer
  // can know it; Kill from another thread reads it after that.
  if (!endpoint_.empty()) internal::UnregisterEndpoint(endpoint_, box_.get());
  ReportDown(box_, endpoint_);
  box_->Wake();
}

void InProcTransport::SetPartitioned(bool partitioned) {
  box_->partitioned.store(partitioned, std::memory_order_relaxed);
}

absl::StatusOr<std::string> InProcTransport::Listen(const std::string& endpoint) {
  if (!endpoint_.empty()) {
    return absl::FailedPreconditionError("InProcTransport::Listen called twice");
  }
  if (endpoint.empty()) return absl::InvalidArgumentError("empty endpoint");
  std::string concrete = endpoint;
  if (absl::EndsWith(concrete, "*")) {
    concrete.pop_back();
    absl::StrAppend(&concrete, internal::NextUniqueId());
  }
  POLIS_RETURN_IF_ERROR(internal::RegisterEndpoint(concrete, box_));
  endpoint_ = std::move(concrete);
  return endpoint_;
}

absl::Status InProcTransport::Send(const std::string& peer_endpoint,
                                   const EnvelopeView& envelope) {
  if (peer_endpoint.empty()) return absl::InvalidArgumentError("empty endpoint");
  std::string frame;
  POLIS_RETURN_IF_ERROR(EncodeFrame(envelope, options_.max_message_bytes, &frame));
  if (killed_.load(std::memory_order_relaxed) ||
      box_->partitioned.load(std::memory_order_relaxed)) {
    return absl::OkStatus();  // dropped, as by a dead process or a partition
  }
  std::shared_ptr<Mailbox> peer = internal::FindByEndpoint(peer_endpoint);
  auto [it, inserted] = connected_.try_emplace(peer_endpoint, 0);
  if (peer != nullptr && it->second != peer->id()) {
    // New connection (or the endpoint was re-bound by a new transport).
    if (peer->AddSender(box_)) {
      it->second = peer->id();
    } else {
      peer = nullptr;  // closing right now: its peer-down notice may not reach us
    }
  }
  if (peer == nullptr) {
    if (inserted || it->second != 0) {  // one notice per failed connection
      it->second = 0;
      box_->Push(InProcItem::PeerDown(peer_endpoint, 0, PeerGone(peer_endpoint)));
      box_->Wake();
    }
    return absl::OkStatus();
  }
  if (peer->partitioned.load(std::memory_order_relaxed)) return absl::OkStatus();
  InProcItem item = InProcItem::Frame(std::move(frame), box_->token());
  item.role = options_.sender_role;
  item.key = options_.sender_key;
  peer->Push(std::move(item));
  peer->Wake();
  return absl::OkStatus();
}

absl::Status InProcTransport::Reply(const ReturnPath& path, const EnvelopeView& envelope) {
  std::string frame;
  POLIS_RETURN_IF_ERROR(EncodeFrame(envelope, options_.max_message_bytes, &frame));
  std::shared_ptr<Mailbox> peer = internal::FindByToken(path);
  if (peer == nullptr) return absl::NotFoundError("reply connection is gone");
  if (killed_.load(std::memory_order_relaxed) ||
      box_->partitioned.load(std::memory_order_relaxed) || peer->partitioned.load(std::memory_order_relaxed)) {
    return absl::OkStatus();
  }
  InProcItem item = InProcItem::Frame(std::move(frame), ReturnPath{});
  item.endpoint = endpoint_;  // the receiver dialed it: Sender::dialed
  if (!peer->Push(std::move(item))) {
    return absl::NotFoundError("reply connection is gone");
  }
  peer->Wake();
  return absl::OkStatus();
}

void InProcTransport::Disconnect(const std::string& peer_endpoint) {
  connected_.erase(peer_endpoint);
}

void InProcTransport::Poll(absl::Duration timeout, InboundHandler& handler) {
  // batch_ is swapped out so that a handler may Send to ourselves safely.
  std::unique_ptr<std::deque<InProcItem>> batch = std::move(batch_);
  box_->Wait(base::Now() + timeout, batch.get());
  for (InProcItem& item : *batch) Deliver(item, handler);
  batch->clear();
  batch_ = std::move(batch);
}

void InProcTransport::Deliver(InProcItem& item, InboundHandler& handler) {
  if (item.peer_down) {
    auto it = connected_.find(item.endpoint);
    if (it == connected_.end() || it->second != item.peer_id) return;  // stale
    connected_.erase(it);
    handler.OnPeerDown(item.endpoint, item.why);
    return;
  }
  // A frame without a return path is a Reply on a connection this transport
  // opened (Send): it came from the endpoint dialed.
  Sender sender{item.role, item.key, std::string_view()};
  if (item.from.empty()) sender.dialed = item.endpoint;
  EnvelopeView envelope;
  absl::Status s =
      DecodeFrame(item.frame.data(), item.frame.size(), options_.max_message_bytes, &envelope);
  if (!s.ok()) {
    handler.OnBadInput(s, sender);
    return;
  }
  handler.OnEnvelope(envelope, item.from, base::Now(), sender);
}

void InProcTransport::Wake() { box_->Wake(); }

absl::StatusOr<std::unique_ptr<Channel>> InProcTransport::OpenChannel(
    const std::string& peer_endpoint) {
  if (peer_endpoint.empty()) return absl::InvalidArgumentError("empty endpoint");
  return std::make_unique<InProcChannel>(peer_endpoint, options_);
}

}  // namespace polis::bus
