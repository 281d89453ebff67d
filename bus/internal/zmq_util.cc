// bus/internal/zmq_util.cc — see zmq_util.h.
#include "bus/internal/zmq_util.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "bus/frame_codec.h"
#include "base/status_macros.h"

namespace polis::bus::internal {

absl::Status ZmqErrorToStatus(int err, absl::string_view what) {
  std::string msg = absl::StrCat(what, ": ", zmq_strerror(err));
  switch (err) {
    case EAGAIN:
      return absl::ResourceExhaustedError(std::move(msg));
    case EHOSTUNREACH:
      return absl::NotFoundError(std::move(msg));
    case EINVAL:
    case EPROTONOSUPPORT:
    case ENAMETOOLONG:
    case ENOCOMPATPROTO:
      return absl::InvalidArgumentError(std::move(msg));
    case ETERM:
    case ENOTSOCK:
      return absl::FailedPreconditionError(std::move(msg));
    case EMSGSIZE:
      return absl::ResourceExhaustedError(std::move(msg));
    default:
      return absl::UnavailableError(std::move(msg));
  }
}

absl::StatusOr<zmq::message_t> EncodeMessage(const EnvelopeView& envelope,
                                             int64_t max_envelope_bytes) {
  POLIS_ASSIGN_OR_RETURN(size_t size, FrameSize(envelope, max_envelope_bytes));
  zmq::message_t msg(size);
  EncodeFrameTo(envelope, size, msg.data());
  return msg;
}

absl::Status SendNoWait(zmq::socket_t& socket, zmq::message_t& msg, zmq::send_flags flags,
                        absl::string_view what) {
  try {
    if (socket.send(msg, flags | zmq::send_flags::dontwait)) return absl::OkStatus();
    return absl::ResourceExhaustedError(absl::StrCat(what, ": send queue full"));
  } catch (const zmq::error_t& e) {
    return ZmqErrorToStatus(e.num(), what);
  }
}

namespace {
int Millis(absl::Duration d) {
  int64_t ms = absl::ToInt64Milliseconds(d);
  return ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}
}  // namespace

void ApplyCommonOptions(zmq::socket_t& socket, const ZmqTransportOptions& options) {
  socket.set(zmq::sockopt::linger, Millis(options.linger));
  socket.set(zmq::sockopt::sndhwm, options.send_high_water_mark);
  socket.set(zmq::sockopt::rcvhwm, options.receive_high_water_mark);
  // A message is one frame up to the envelope limit, or a batch of frames
  // of at most kMaxBatchBytes (each frame in it is checked on decoding).
  socket.set(zmq::sockopt::maxmsgsize,
             std::max(static_cast<int64_t>(options.max_message_bytes + kFrameHeaderBytes),
                      static_cast<int64_t>(kMaxBatchBytes)));
  if (options.heartbeat_interval > absl::ZeroDuration()) {
    socket.set(zmq::sockopt::heartbeat_ivl, Millis(options.heartbeat_interval));
    socket.set(zmq::sockopt::heartbeat_timeout, Millis(options.heartbeat_timeout));
    socket.set(zmq::sockopt::heartbeat_ttl, Millis(options.heartbeat_timeout));
  }
}

void ApplyDealerOptions(zmq::socket_t& socket, const ZmqTransportOptions& options) {
  ApplyCommonOptions(socket, options);
  socket.set(zmq::sockopt::immediate, false);  // queue while connecting
  socket.set(zmq::sockopt::connect_timeout, Millis(options.connect_timeout));
}

void ApplyCurveServer(zmq::socket_t& socket, const CurveSecurity& curve) {
  socket.set(zmq::sockopt::curve_server, true);
  socket.set(zmq::sockopt::curve_secretkey, curve.own().secret_key);
  socket.set(zmq::sockopt::zap_domain, "polis");
  // libzmq 4.3 admits every CURVE client when no ZAP handler is bound
  // (ZMQ_ZAP_ENFORCE_DOMAIN is a draft option): ZmqTransport::Listen binds
  // its handler before the ROUTER, and the handler lives as long as it.
}

absl::Status ApplyCurveClient(zmq::socket_t& socket, const CurveSecurity& curve,
                              const std::string& endpoint) {
  absl::StatusOr<std::string> server = curve.ServerKeyFor(endpoint);
  if (!server.ok()) return server.status();
  socket.set(zmq::sockopt::curve_serverkey, *server);
  socket.set(zmq::sockopt::curve_publickey, curve.own().public_key);
  socket.set(zmq::sockopt::curve_secretkey, curve.own().secret_key);
  return absl::OkStatus();
}

long PollMillis(absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) return -1;
  if (timeout <= absl::ZeroDuration()) return 0;
  int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(timeout, absl::Milliseconds(1)));
  return ms > INT_MAX ? INT_MAX : static_cast<long>(ms);
}

absl::StatusOr<std::unique_ptr<WakeFd>> WakeFd::Create() {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  return std::unique_ptr<WakeFd>(new WakeFd(fd));
}

WakeFd::~WakeFd() { close(fd_); }

void WakeFd::Signal() {
  if (pending_.exchange(true, std::memory_order_acq_rel)) return;
  uint64_t one = 1;
  ssize_t n;
  do {
    n = write(fd_, &one, sizeof(one));
  } while (n < 0 && errno == EINTR);
}

bool WakeFd::Consume() {
  uint64_t value;
  ssize_t n;
  do {
    n = read(fd_, &value, sizeof(value));
  } while (n < 0 && errno == EINTR);
  // Clear after reading: a Signal racing with this read either is consumed
  // by it or finds pending_ still set (this Poll is returning anyway) — and
  // any Signal after the store below writes the fd again.
  pending_.store(false, std::memory_order_release);
  return n == sizeof(value);
}

}  // namespace polis::bus::internal
