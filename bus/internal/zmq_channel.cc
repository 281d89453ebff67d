// bus/internal/zmq_channel.cc — see zmq_channel.h.
#include "bus/internal/zmq_channel.h"

#include "absl/strings/str_cat.h"
#include "bus/frame_codec.h"
#include "bus/status_macros.h"

namespace polis::bus::internal {

absl::StatusOr<std::unique_ptr<ZmqChannel>> ZmqChannel::Open(
    std::shared_ptr<zmq::context_t> context, const ZmqTransportOptions& options,
    const std::string& endpoint) {
  std::unique_ptr<ZmqChannel> ch(
      new ZmqChannel(std::move(context), options.max_message_bytes, endpoint));
  POLIS_ASSIGN_OR_RETURN(ch->wake_, WakeFd::Create());
  try {
    ch->dealer_ = zmq::socket_t(*ch->context_, zmq::socket_type::dealer);
    ApplyDealerOptions(ch->dealer_, options);
    POLIS_ASSIGN_OR_RETURN(ch->monitor_,
                           ConnectionMonitor::Attach(*ch->context_, ch->dealer_, endpoint,
                                                     absl::Now() + options.connect_timeout));
    ch->dealer_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return ZmqErrorToStatus(e.num(), absl::StrCat("channel to ", endpoint));
  }
  return ch;
}

ZmqChannel::ZmqChannel(std::shared_ptr<zmq::context_t> context, int64_t max_bytes,
                       std::string endpoint)
    : context_(std::move(context)), max_bytes_(max_bytes), endpoint_(std::move(endpoint)) {}

ZmqChannel::~ZmqChannel() {
  monitor_.reset();  // stops the monitor while dealer_ is still open
}

absl::Status ZmqChannel::Send(const wire::Envelope& envelope) {
  if (monitor_->down()) return monitor_->ReadEvents(absl::Now());
  POLIS_ASSIGN_OR_RETURN(zmq::message_t msg, EncodeMessage(envelope, max_bytes_));
  return SendNoWait(dealer_, msg, zmq::send_flags::none, endpoint_);
}

absl::StatusOr<bool> ZmqChannel::TryRead(wire::Envelope* out) {
  zmq::message_t msg;
  try {
    while (dealer_.recv(msg, zmq::recv_flags::dontwait)) {
      bool good = !msg.more() && DecodeFrame(msg.data(), msg.size(), max_bytes_, out).ok();
      while (msg.more() && dealer_.recv(msg, zmq::recv_flags::dontwait)) {
      }  // drop the rest of a multipart message: polis frames are single
      if (good) return true;
    }
  } catch (const zmq::error_t& e) {
    return ZmqErrorToStatus(e.num(), absl::StrCat("channel to ", endpoint_));
  }
  return false;
}

absl::StatusOr<std::optional<wire::Envelope>> ZmqChannel::Recv(absl::Time deadline) {
  wire::Envelope envelope;
  for (;;) {
    POLIS_ASSIGN_OR_RETURN(bool got, TryRead(&envelope));
    if (got) return envelope;
    const absl::Time now = absl::Now();
    POLIS_RETURN_IF_ERROR(monitor_->ReadEvents(now));
    if (now >= deadline) return std::nullopt;
    zmq::pollitem_t items[] = {
        {dealer_.handle(), 0, ZMQ_POLLIN, 0},
        {nullptr, wake_->fd(), ZMQ_POLLIN, 0},
        {monitor_->events_socket().handle(), 0, ZMQ_POLLIN, 0},
    };
    const absl::Time until = std::min(deadline, monitor_->deadline());
    if (zmq_poll(items, 3, PollMillis(until - now)) < 0) {
      if (zmq_errno() == EINTR) continue;
      return ZmqErrorToStatus(zmq_errno(), "zmq_poll");
    }
    if (items[1].revents & ZMQ_POLLIN) {
      wake_->Consume();
      POLIS_ASSIGN_OR_RETURN(got, TryRead(&envelope));
      if (got) return envelope;
      return std::nullopt;
    }
  }
}

}  // namespace polis::bus::internal
