// bus/internal/zmq_channel.cc — see zmq_channel.h.
#include "bus/internal/zmq_channel.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/status_macros.h"

namespace polis::bus::internal {

absl::StatusOr<std::unique_ptr<ZmqChannel>> ZmqChannel::Open(
    std::shared_ptr<zmq::context_t> context, const ZmqTransportOptions& options,
    const std::string& endpoint, std::shared_ptr<TrafficCounters> traffic) {
  std::unique_ptr<ZmqChannel> ch(
      new ZmqChannel(std::move(context), options.max_message_bytes, endpoint, std::move(traffic)));
  POLIS_ASSIGN_OR_RETURN(ch->wake_, WakeFd::Create());
  try {
    ch->dealer_ = zmq::socket_t(*ch->context_, zmq::socket_type::dealer);
    ApplyDealerOptions(ch->dealer_, options);
    if (options.curve != nullptr) {
      POLIS_RETURN_IF_ERROR(ApplyCurveClient(ch->dealer_, *options.curve, endpoint));
    }
    POLIS_ASSIGN_OR_RETURN(ch->monitor_,
                           ConnectionMonitor::Attach(*ch->context_, ch->dealer_, endpoint,
                                                     base::Now() + options.connect_timeout,
                                                     options.curve != nullptr));
    ch->dealer_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return ZmqErrorToStatus(e.num(), absl::StrCat("channel to ", endpoint));
  }
  return ch;
}

ZmqChannel::ZmqChannel(std::shared_ptr<zmq::context_t> context, int64_t max_bytes,
                       std::string endpoint, std::shared_ptr<TrafficCounters> traffic)
    : context_(std::move(context)),
      max_bytes_(max_bytes),
      endpoint_(std::move(endpoint)),
      traffic_(std::move(traffic)) {}

ZmqChannel::~ZmqChannel() {
  monitor_.reset();  // stops the monitor while dealer_ is still open
}

absl::Status ZmqChannel::Send(const EnvelopeView& envelope) {
  if (monitor_->down()) return monitor_->ReadEvents(base::Now());
  POLIS_ASSIGN_OR_RETURN(zmq::message_t msg, EncodeMessage(envelope, max_bytes_));
  if (!envelope.recipient.node.empty()) {
    counters_ = &send_memo_.For(*traffic_, envelope.recipient.node, /*track=*/true);
  }
  const size_t bytes = msg.size();
  absl::Status s = SendNoWait(dealer_, msg, zmq::send_flags::none, endpoint_);
  if (s.ok()) {
    Connection().shared.CountOut(bytes);
  } else {
    Connection().shared.CountDropped(1);
  }
  return s;
}

bool ZmqChannel::ReceiveMessage(zmq::recv_flags flags) {
  if (!dealer_.recv(current_, flags)) return false;
  if (current_.more()) {
    while (current_.more() && dealer_.recv(current_, zmq::recv_flags::dontwait)) {
    }  // Drop the rest of a multipart message: polis messages are single.
    Connection().shared.CountRefused();
    split_ = FrameSplitter(nullptr, 0);
    walking_ = false;
    return true;
  }
  split_ = FrameSplitter(current_.data(), current_.size());
  walking_ = true;
  return true;
}

bool ZmqChannel::NextInMessage(EnvelopeView* out) {
  const uint8_t* frame;
  size_t size;
  while (split_.Next(&frame, &size)) {
    if (DecodeFrame(frame, size, max_bytes_, out).ok()) {
      receive_memo_.For(*traffic_, out->sender.node, /*track=*/false).shared.CountIn(size);
      return true;
    }
    Connection().shared.CountRefused();
  }
  if (walking_) {  // current_ is used up: was it whole?
    walking_ = false;
    if (!split_.status().ok()) Connection().shared.CountRefused();
  }
  return false;
}

absl::StatusOr<bool> ZmqChannel::TryRead(EnvelopeView* out) {
  if (NextInMessage(out)) return true;
  try {
    while (ReceiveMessage(zmq::recv_flags::dontwait)) {
      if (NextInMessage(out)) return true;
    }
  } catch (const zmq::error_t& e) {
    return ZmqErrorToStatus(e.num(), absl::StrCat("channel to ", endpoint_));
  }
  return false;
}

absl::StatusOr<std::optional<EnvelopeView>> ZmqChannel::Recv(absl::Time deadline) {
  // The reply normally arrives on dealer_, so block in zmq_recv on it alone,
  // as a raw ZeroMQ client would: one wait per reply, no zmq_poll over
  // several sockets (which costs ~10 syscalls per round trip here). The
  // rare events — Wake() (another thread settled the call: peer down,
  // shutdown) and connection-monitor events — are checked between slices of
  // at most kWakeSlice, so they are seen within that time.
  constexpr absl::Duration kWakeSlice = absl::Milliseconds(10);
  EnvelopeView envelope;
  if (NextInMessage(&envelope)) return envelope;
  for (bool first = true;; first = false) {
    if (woken_.exchange(false)) return std::nullopt;
    const absl::Time now = base::Now();
    // Monitor events matter only when no reply came: skip them on the first
    // pass (the common case is a reply within the first slice).
    if (!first || now >= monitor_->deadline()) {
      absl::Status lost = monitor_->ReadEvents(now);
      if (!lost.ok()) {
        // Hand over what already arrived (a reply sent just before the peer
        // went away) before reporting the loss.
        POLIS_ASSIGN_OR_RETURN(bool got, TryRead(&envelope));
        if (got) return envelope;
        return lost;
      }
    }
    if (now >= deadline) return std::nullopt;
    const absl::Time until = std::min({deadline, monitor_->deadline(), now + kWakeSlice});
    const int timeout_ms =
        std::max(1, static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(until - now, absl::Milliseconds(1)))));
    try {
      if (timeout_ms != rcvtimeo_ms_) {
        dealer_.set(zmq::sockopt::rcvtimeo, timeout_ms);
        rcvtimeo_ms_ = timeout_ms;
      }
      if (!ReceiveMessage(zmq::recv_flags::none)) continue;  // Slice over.
      if (NextInMessage(&envelope)) return envelope;
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      return ZmqErrorToStatus(e.num(), absl::StrCat("channel to ", endpoint_));
    }
  }
}

}  // namespace polis::bus::internal
