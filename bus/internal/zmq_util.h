// bus/internal/zmq_util.h — small pieces shared by ZmqTransport and ZmqChannel:
// zmq::error_t -> absl::Status, envelope <-> zmq::message_t, socket options,
// and an eventfd used to wake a thread blocked in zmq::poll.
//
// Thread-safety: free functions are stateless; a socket passed in must be
// used only by its owning thread (see bus/zmq_transport.h). WakeFd::Signal is
// thread-safe, the rest of WakeFd belongs to the polling thread.
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(zmq::message_t msg, EncodeMessage(env, max));
//   POLIS_RETURN_IF_ERROR(SendNoWait(socket, msg, 0, "tcp://peer:1"));
#ifndef POLIS_BUS_INTERNAL_ZMQ_UTIL_H_
#define POLIS_BUS_INTERNAL_ZMQ_UTIL_H_

#include <atomic>
#include "absl/strings/string_view.h"

#include <zmq.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bus/zmq_transport.h"
#include "bus/envelope.h"

namespace polis::bus::internal {

// Maps a libzmq errno to a status code by what the caller should do next.
absl::Status ZmqErrorToStatus(int err, absl::string_view what);

// Serializes `envelope` straight into a new message (one allocation).
// RESOURCE_EXHAUSTED if it is over `max_envelope_bytes`.
absl::StatusOr<zmq::message_t> EncodeMessage(const EnvelopeView& envelope,
                                             int64_t max_envelope_bytes);

// Sends `msg` without blocking. RESOURCE_EXHAUSTED if the queue is full,
// NOT_FOUND if a ROUTER_MANDATORY socket has no such peer, other errors
// mapped by ZmqErrorToStatus. `what` names the destination for messages.
absl::Status SendNoWait(zmq::socket_t& socket, zmq::message_t& msg, zmq::send_flags flags,
                        absl::string_view what);

// Options common to every polis socket (HWMs, linger, max size, heartbeats).
void ApplyCommonOptions(zmq::socket_t& socket, const ZmqTransportOptions& options);

// Options for a connecting DEALER (on top of the common ones).
void ApplyDealerOptions(zmq::socket_t& socket, const ZmqTransportOptions& options);

// CURVE server options (own secret, ZAP domain "polis") for a ROUTER.
void ApplyCurveServer(zmq::socket_t& socket, const CurveSecurity& curve);

// CURVE client options for a socket that will connect to `endpoint`:
// own keypair and the server key pinned for it. FAILED_PRECONDITION if
// no server key is known for `endpoint`.
absl::Status ApplyCurveClient(zmq::socket_t& socket, const CurveSecurity& curve,
                              const std::string& endpoint);

// Milliseconds for zmq::poll: rounds up, clamps to [0, INT_MAX], -1 forever.
long PollMillis(absl::Duration timeout);

// An eventfd that makes zmq::poll return. Signal coalesces: while a signal
// is pending, further Signals make no system call.
class WakeFd {
 public:
  // INTERNAL (with errno text) if the eventfd cannot be made.
  static absl::StatusOr<std::unique_ptr<WakeFd>> Create();
  ~WakeFd();
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;

  int fd() const { return fd_; }
  // Any thread.
  void Signal();
  // Polling thread: consumes a pending signal; returns whether there was one.
  bool Consume();

 private:
  explicit WakeFd(int fd) : fd_(fd) {}
  const int fd_;
  std::atomic<bool> pending_{false};
};

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_ZMQ_UTIL_H_
