// bus/internal/zmq_channel.h — the Channel ZmqTransport::OpenChannel returns.
//
// Its own DEALER connected to the peer's ROUTER (the peer answers through the
// ReturnPath of that connection), an eventfd for Wake, and a monitor so that
// a lost peer fails Recv with UNAVAILABLE instead of waiting out the deadline.
//
// What it sends and receives counts in its transport's TrafficCounters
// (bus/traffic.h; the `shared` tallies: several channels' threads count
// there at once).
//
// Thread-safety: the DEALER and monitor belong to the opening thread: only it
// may call Send, Recv and the destructor. Wake is thread-safe. The shared
// zmq context is thread-safe and kept alive by the shared_ptr, and so is
// the traffic table.
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(auto ch, ZmqChannel::Open(ctx, options, "tcp://h:1", traffic));
//   POLIS_RETURN_IF_ERROR(ch->Send(call));
//   POLIS_ASSIGN_OR_RETURN(auto reply, ch->Recv(absl::Now() + absl::Seconds(5)));
#ifndef POLIS_BUS_INTERNAL_ZMQ_CHANNEL_H_
#define POLIS_BUS_INTERNAL_ZMQ_CHANNEL_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bus/internal/connection_monitor.h"
#include "bus/frame_codec.h"
#include "bus/internal/zmq_util.h"
#include "bus/traffic.h"
#include "bus/transport.h"
#include "bus/zmq_transport.h"

namespace polis::bus::internal {

class ZmqChannel final : public Channel {
 public:
  // Connects a new DEALER to `endpoint` (already validated); counts in
  // `traffic` (not null). UNAVAILABLE or INTERNAL if a socket or eventfd
  // cannot be made.
  static absl::StatusOr<std::unique_ptr<ZmqChannel>> Open(std::shared_ptr<zmq::context_t> context,
                                                          const ZmqTransportOptions& options,
                                                          const std::string& endpoint,
                                                          std::shared_ptr<TrafficCounters> traffic);
  ~ZmqChannel() override;

  // RESOURCE_EXHAUSTED if oversized or the queue is full; UNAVAILABLE once
  // the connection is known lost.
  absl::Status Send(const EnvelopeView& envelope) override;
  // Envelope (pointing into the last message received, valid until the next
  // Recv), or nullopt on Wake/deadline. UNAVAILABLE once the connection is
  // lost and nothing that arrived before is left.
  absl::StatusOr<std::optional<EnvelopeView>> Recv(absl::Time deadline) override;
  // Sets a flag that a blocked Recv sees within kWakeSlice (see Recv).
  void Wake() override { woken_.store(true); }

 private:
  ZmqChannel(std::shared_ptr<zmq::context_t> context, int64_t max_bytes, std::string endpoint,
             std::shared_ptr<TrafficCounters> traffic);
  // Where what is refused on this connection counts: the node its last
  // addressed envelope went to.
  PeerCounters& Connection() {
    return counters_ != nullptr ? *counters_ : traffic_->For(TrafficCounters::kOther, false);
  }
  // Non-blocking: the next good envelope of current_, else of messages
  // ready on dealer_; false if there is none.
  absl::StatusOr<bool> TryRead(EnvelopeView* out);
  // Receives the next message into current_ (false if none came) and points
  // split_ at its frames; a multipart message is drained and yields none.
  // Only when split_ is used up: views into current_ die here.
  bool ReceiveMessage(zmq::recv_flags flags);
  // Decodes the next good frame of current_ into `*out` (bad ones are
  // dropped); false when current_ has none left.
  bool NextInMessage(EnvelopeView* out);

  // Order matters: the context outlives the socket, the socket the monitor.
  std::shared_ptr<zmq::context_t> context_;
  const int64_t max_bytes_;
  const std::string endpoint_;
  zmq::socket_t dealer_;
  std::unique_ptr<ConnectionMonitor> monitor_;
  std::unique_ptr<WakeFd> wake_;
  std::atomic<bool> woken_{false};
  int rcvtimeo_ms_ = -2;  // ZMQ_RCVTIMEO currently set on dealer_.
  // The last message received (one frame or a batch) and the walk through
  // its frames; the views Recv returns point into it.
  zmq::message_t current_;
  FrameSplitter split_{nullptr, 0};
  bool walking_ = false;  // split_ walks a message received (not the empty start).
  std::shared_ptr<TrafficCounters> traffic_;
  TrafficMemo send_memo_;
  TrafficMemo receive_memo_;
  PeerCounters* counters_ = nullptr;
};

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_ZMQ_CHANNEL_H_
