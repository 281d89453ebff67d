// bus/internal/zmq_channel.h — the Channel ZmqTransport::OpenChannel returns.
//
// Its own DEALER connected to the peer's ROUTER (the peer answers through the
// ReturnPath of that connection), an eventfd for Wake, and a monitor so that
// a lost peer fails Recv with UNAVAILABLE instead of waiting out the deadline.
//
// Thread-safety: the DEALER and monitor belong to the opening thread: only it
// may call Send, Recv and the destructor. Wake is thread-safe. The shared
// zmq context is thread-safe and kept alive by the shared_ptr.
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(auto ch, ZmqChannel::Open(ctx, options, "tcp://h:1"));
//   POLIS_RETURN_IF_ERROR(ch->Send(call));
//   POLIS_ASSIGN_OR_RETURN(auto reply, ch->Recv(absl::Now() + absl::Seconds(5)));
#ifndef POLIS_BUS_INTERNAL_ZMQ_CHANNEL_H_
#define POLIS_BUS_INTERNAL_ZMQ_CHANNEL_H_

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bus/internal/connection_monitor.h"
#include "bus/internal/zmq_util.h"
#include "bus/transport.h"
#include "bus/zmq_transport.h"

namespace polis::bus::internal {

class ZmqChannel final : public Channel {
 public:
  // Connects a new DEALER to `endpoint` (already validated). UNAVAILABLE or
  // INTERNAL if a socket or eventfd cannot be made.
  static absl::StatusOr<std::unique_ptr<ZmqChannel>> Open(
      std::shared_ptr<zmq::context_t> context, const ZmqTransportOptions& options,
      const std::string& endpoint);
  ~ZmqChannel() override;

  // RESOURCE_EXHAUSTED if oversized or the queue is full; UNAVAILABLE once
  // the connection is known lost.
  absl::Status Send(const wire::Envelope& envelope) override;
  // Envelope, or nullopt on Wake/deadline. UNAVAILABLE once the connection
  // is lost and nothing that arrived before is left.
  absl::StatusOr<std::optional<wire::Envelope>> Recv(absl::Time deadline) override;
  // Sets a flag that a blocked Recv sees within kWakeSlice (see Recv).
  void Wake() override { woken_.store(true); }

 private:
  ZmqChannel(std::shared_ptr<zmq::context_t> context, int64_t max_bytes, std::string endpoint);
  // One non-blocking read; true and `*out` filled if a good envelope came.
  absl::StatusOr<bool> TryRead(wire::Envelope* out);
  // Decodes the frames of `msg` (one, or a batch) into inbox_, dropping
  // bad ones and multipart messages (drained from dealer_).
  void Unpack(zmq::message_t& msg);
  // Moves the oldest envelope of inbox_ to `*out`; false if inbox_ is empty.
  bool TakeFromInbox(wire::Envelope* out);

  // Order matters: the context outlives the socket, the socket the monitor.
  std::shared_ptr<zmq::context_t> context_;
  const int64_t max_bytes_;
  const std::string endpoint_;
  zmq::socket_t dealer_;
  std::unique_ptr<ConnectionMonitor> monitor_;
  std::unique_ptr<WakeFd> wake_;
  std::atomic<bool> woken_{false};
  int rcvtimeo_ms_ = -2;  // ZMQ_RCVTIMEO currently set on dealer_.
  // Envelopes of a batch not yet returned by Recv, oldest first.
  std::deque<wire::Envelope> inbox_;
};

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_ZMQ_CHANNEL_H_
