// bus/internal/connection_monitor.cc — see connection_monitor.h.
#include "bus/internal/connection_monitor.h"

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "bus/internal/zmq_util.h"

namespace polis::bus::internal {
namespace {

constexpr int kEvents = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                        ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                        ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                        ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                        ZMQ_EVENT_CONNECT_RETRIED;

std::atomic<uint64_t> next_monitor_id{0};

}  // namespace

absl::StatusOr<std::unique_ptr<ConnectionMonitor>> ConnectionMonitor::Attach(
    zmq::context_t& context, zmq::socket_t& socket, std::string endpoint,
    absl::Time connect_deadline, bool curve) {
  const std::string address = absl::StrCat(
      "inproc://polis-monitor-", next_monitor_id.fetch_add(1, std::memory_order_relaxed));
  if (zmq_socket_monitor(socket.handle(), address.c_str(), kEvents) != 0) {
    return ZmqErrorToStatus(zmq_errno(), "zmq_socket_monitor");
  }
  try {
    zmq::socket_t events(context, zmq::socket_type::pair);
    events.set(zmq::sockopt::linger, 0);
    events.connect(address);
    std::unique_ptr<ConnectionMonitor> monitor(new ConnectionMonitor(
        socket, std::move(events), std::move(endpoint), connect_deadline, curve));
    // A read that finds nothing arms events_fd(): libzmq signals the fd
    // only for a reader that found its queue empty.
    (void)monitor->ReadEvents(base::Now());
    return monitor;
  } catch (const zmq::error_t& e) {
    zmq_socket_monitor(socket.handle(), nullptr, 0);
    return ZmqErrorToStatus(e.num(), "monitor socket");
  }
}

ConnectionMonitor::ConnectionMonitor(zmq::socket_t& socket, zmq::socket_t events,
                                     std::string endpoint, absl::Time deadline, bool curve)
    : socket_(socket),
      events_(std::move(events)),
      events_fd_(events_.get(zmq::sockopt::fd)),
      endpoint_(std::move(endpoint)),
      deadline_(deadline),
      curve_(curve) {}

ConnectionMonitor::~ConnectionMonitor() {
  if (socket_.handle() != nullptr) zmq_socket_monitor(socket_.handle(), nullptr, 0);
}

absl::Status ConnectionMonitor::ReadEvents(absl::Time now) {
  zmq::message_t head, where;
  try {
    while (down_.ok() && events_.recv(head, zmq::recv_flags::dontwait)) {
      // Event frames come in pairs: [uint16 event, uint32 value][endpoint].
      if (head.more()) (void)events_.recv(where, zmq::recv_flags::dontwait);
      if (head.size() < 6) continue;
      uint16_t event;
      uint32_t value;
      std::memcpy(&event, head.data(), sizeof(event));
      std::memcpy(&value, static_cast<const char*>(head.data()) + 2, sizeof(value));
      OnEvent(event, value);
    }
  } catch (const zmq::error_t& e) {
    down_ = ZmqErrorToStatus(e.num(), absl::StrCat("monitor of ", endpoint_));
  }
  if (down_.ok() && !up_ && now >= deadline_) {
    down_ = absl::UnavailableError(
        absl::StrCat("no connection to ", endpoint_, " within the connect timeout"));
  }
  return down_;
}

void ConnectionMonitor::OnEvent(uint16_t event, uint32_t value) {
  switch (event) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
      up_ = true;
      dropped_ = absl::OkStatus();
      break;
    case ZMQ_EVENT_CONNECTED:  // a TCP connection, before its handshake
      reconnected_ = !dropped_.ok();
      break;
    case ZMQ_EVENT_DISCONNECTED:
      if (curve_ && !up_) {
        HandshakeDropped(absl::UnauthenticatedError(absl::StrCat(
            "handshake with ", endpoint_,
            " failed: the server closed the connection before the CURVE handshake ended "
            "(wrong server key?)")));
        break;
      }
      down_ = absl::UnavailableError(absl::StrCat("connection to ", endpoint_, " lost"));
      break;
    case ZMQ_EVENT_CONNECT_RETRIED:
      // After a dropped handshake: a second retry with no connection in
      // between means the peer refused the first (it is gone).
      if (!dropped_.ok() && !reconnected_ && ++retries_after_drop_ >= 2) {
        down_ = absl::UnavailableError(
            absl::StrCat("connection to ", endpoint_,
                         " lost during the handshake, and it refuses connections now"));
      }
      break;  // Otherwise the deadline check decides.
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      down_ = absl::PermissionDeniedError(
          absl::StrCat("handshake with ", endpoint_,
                       " refused: this key is not authorized there (ZAP ", value, ")"));
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:  // e.g. the server does not speak CURVE
      down_ = curve_ ? absl::UnauthenticatedError(absl::StrCat(
                           "handshake with ", endpoint_,
                           " failed: security mismatch or wrong server key (protocol error ",
                           value, ")"))
                     : absl::UnavailableError(absl::StrCat("handshake with ", endpoint_,
                                                           " failed (zmq event ", event, ")"));
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:  // the connection closed mid-handshake
      if (curve_) {
        HandshakeDropped(absl::UnauthenticatedError(
            absl::StrCat("handshake with ", endpoint_,
                         " failed: security mismatch or wrong server key (error ", value, ")")));
        break;
      }
      down_ = absl::UnavailableError(
          absl::StrCat("handshake with ", endpoint_, " failed (zmq event ", event, ")"));
      break;
    default:
      break;
  }
}

void ConnectionMonitor::HandshakeDropped(absl::Status verdict) {
  if (dropped_.ok()) {
    // The first drop (libzmq reports it twice: NO_DETAIL, DISCONNECTED).
    // A server that cannot read our hello closes the connection, and so
    // does a peer that dies mid-handshake: the reconnection tells which.
    dropped_ = std::move(verdict);
    reconnected_ = false;
    retries_after_drop_ = 0;
  } else if (reconnected_) {
    down_ = dropped_;  // The peer is up, and closed the handshake again.
  }
}

}  // namespace polis::bus::internal
