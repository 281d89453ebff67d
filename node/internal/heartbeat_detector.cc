#include "node/internal/heartbeat_detector.h"

#include "base/log.h"

namespace polis::internal {

absl::StatusOr<std::unique_ptr<HeartbeatDetector>> HeartbeatDetector::Create(
    const LocalNode& self, const bus::HeartbeatOptions& options, Membership* membership) {
  std::unique_ptr<HeartbeatDetector> d(new HeartbeatDetector(membership));
  absl::StatusOr<std::unique_ptr<bus::Heartbeater>> beats = bus::Heartbeater::Create(
      self.endpoint, self.incarnation, options, d.get(),
      [membership] { return membership->names_version(); });
  if (!beats.ok()) return beats.status();
  d->beats_ = *std::move(beats);
  return d;
}

void HeartbeatDetector::Watch(const std::string& endpoint, uint64_t incarnation,
                              const std::string& address, std::string_view key) {
  if (absl::Status s = beats_->Watch(endpoint, incarnation, address, key); !s.ok()) {
    // E.g. a Hello without a 32-byte heartbeat_key: the member is then
    // watched only through its connection (it drops when the process dies).
    POLIS_LOG(WARNING) << "polis: cannot watch " << endpoint << " (heartbeats at " << address
                       << "): " << s;
  }
}

absl::Duration HeartbeatDetector::SinceHeard(const std::string& endpoint) const {
  std::optional<bus::Heartbeater::PeerStats> s = beats_->Stats(endpoint);
  if (!s || !s->heard_ever) return absl::Milliseconds(-1);
  return s->since_last_heard;
}

absl::Duration HeartbeatDetector::ClockOffset(const std::string& endpoint) const {
  std::optional<bus::Heartbeater::PeerStats> s = beats_->Stats(endpoint);
  return s ? s->clock_offset : absl::ZeroDuration();
}

}  // namespace polis::internal
