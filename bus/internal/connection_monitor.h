// bus/internal/connection_monitor.h — watches one connecting socket through
// a libzmq socket monitor and says when its connection is lost.
//
// The monitored socket emits events on an inproc PAIR that this class reads.
// "Up" means the ZMTP handshake succeeded. "Down" (reported once) means:
// the connection was lost (ZMQ_EVENT_DISCONNECTED — a killed peer process
// shows up here within milliseconds on loopback, a heartbeat timeout too),
// a handshake failed, or the socket was not up by its connect deadline.
// For a CURVE client a failed handshake is reported as what it is:
// PERMISSION_DENIED "handshake with EP refused: this key is not authorized
// there" (the server's ZAP said 400), UNAUTHENTICATED "handshake with EP
// failed: wrong server key?" (the server closed before the handshake
// ended: it could not read our hello) or "... security mismatch" (the
// server does not speak CURVE). A closed handshake is judged on the
// reconnection libzmq makes ~100 ms later: closed again is UNAUTHENTICATED,
// refused is UNAVAILABLE "lost during the handshake" (the peer died in it).
//
// Thread-safety: none. Owned by the thread that owns the monitored socket,
// which must outlive this object (declare the monitor after the socket).
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(auto mon, ConnectionMonitor::Attach(ctx, dealer, ep, deadline));
//   dealer.connect(ep);
//   ... poll mon->events_fd() for POLLIN, as a plain fd ...
//   absl::Status s = mon->ReadEvents(absl::Now());   // UNAVAILABLE once down
#ifndef POLIS_BUS_INTERNAL_CONNECTION_MONITOR_H_
#define POLIS_BUS_INTERNAL_CONNECTION_MONITOR_H_

#include <memory>
#include <string>

#include <zmq.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace polis::bus::internal {

class ConnectionMonitor {
 public:
  // Starts monitoring `socket` (call before it connects, so no event is
  // missed). `endpoint` is only used in messages. `connect_deadline`: the
  // time by which the handshake must have succeeded.
  static absl::StatusOr<std::unique_ptr<ConnectionMonitor>> Attach(zmq::context_t& context,
                                                                   zmq::socket_t& socket,
                                                                   std::string endpoint,
                                                                   absl::Time connect_deadline,
                                                                   bool curve = false);
  // Stops the monitor; the monitored socket must still be open.
  ~ConnectionMonitor();
  ConnectionMonitor(const ConnectionMonitor&) = delete;
  ConnectionMonitor& operator=(const ConnectionMonitor&) = delete;

  // A file descriptor to poll (as a plain fd, for POLLIN): it becomes
  // readable when events may have arrived since ReadEvents last drained the
  // socket. It is libzmq's ZMQ_FD, edge-triggered: Attach arms it, and
  // ReadEvents, called after every wake-up, arms it again. Polled
  // this way, an idle monitor costs the poller nothing; as a zmq poll item
  // it cost a getpid and a poll(2) of libzmq's own on every pass.
  int events_fd() const { return events_fd_; }

  // Reads every pending event and checks the deadline against `now`.
  // OK while the connection is up or still being made; UNAVAILABLE (with
  // the reason) once it is down, and from then on.
  absl::Status ReadEvents(absl::Time now);

  // When the next deadline check is due (InfiniteFuture once up or down).
  absl::Time deadline() const { return up_ || !down_.ok() ? absl::InfiniteFuture() : deadline_; }

  bool down() const { return !down_.ok(); }

 private:
  ConnectionMonitor(zmq::socket_t& socket, zmq::socket_t events, std::string endpoint,
                    absl::Time deadline, bool curve);
  void OnEvent(uint16_t event, uint32_t value);
  // A CURVE handshake ended with the connection closed (`verdict`: what it
  // means if the peer is up). Decided on the next connection: closed in its
  // handshake again, down_ = verdict; refused, UNAVAILABLE (OnEvent).
  void HandshakeDropped(absl::Status verdict);

  zmq::socket_t& socket_;
  zmq::socket_t events_;
  const int events_fd_;
  const std::string endpoint_;
  const absl::Time deadline_;
  const bool curve_;  // a CURVE client: a refused handshake is a security error
  bool up_ = false;
  absl::Status down_;
  // After a dropped CURVE handshake: its verdict, whether a TCP connection
  // was made again since, and the reconnection timers set since.
  absl::Status dropped_;
  bool reconnected_ = false;
  int retries_after_drop_ = 0;
};

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_CONNECTION_MONITOR_H_
