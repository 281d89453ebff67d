// bus/internal/heartbeat_peers.cc — see heartbeat_peers.h.
#include "bus/internal/heartbeat_peers.h"

#include <algorithm>

namespace polis::bus::internal {

void HeartbeatPeers::Watch(const std::string& endpoint, uint64_t incarnation,
                           const DatagramAddress& address, const HeartbeatKey& key,
                           absl::Time now) {
  Peer& peer = peers_[endpoint];
  peer = Peer();
  peer.incarnation = incarnation;
  peer.address = address;
  peer.key = key;
  peer.watched_at = now;
  peer.grace_from = now;
}

HeartbeatPeers::BeatOutcome HeartbeatPeers::OnBeat(const wire::Heartbeat& beat,
                                                   std::string_view datagram, absl::Time now,
                                                   absl::Time now_unix,
                                                   std::vector<HeartbeatEvent>* events) {
  auto it = peers_.find(beat.endpoint());
  if (it == peers_.end()) return BeatOutcome::kUnwatched;
  Peer& peer = it->second;
  if (!HeartbeatMacValid(peer.key, datagram)) return BeatOutcome::kUnauthenticated;
  if (beat.seq() <= peer.last_seq) return BeatOutcome::kReplayed;
  peer.last_seq = beat.seq();
  const bool report = peer.report_next || beat.incarnation() != peer.last_incarnation ||
                      beat.state_version() != peer.last_state_version;
  peer.report_next = false;
  peer.last_incarnation = beat.incarnation();
  peer.last_state_version = beat.state_version();
  if (report) {
    HeartbeatEvent& event = events->emplace_back();
    event.kind = HeartbeatEvent::Kind::kHeard;
    event.endpoint = beat.endpoint();
    event.incarnation = beat.incarnation();
    event.beat = beat;
  }
  if (peer.incarnation != 0 && beat.incarnation() != peer.incarnation) {
    return BeatOutcome::kOtherIncarnation;
  }
  peer.grace_from = now;
  peer.last_heard = now;
  peer.heard_ever = true;
  peer.silent = false;
  ++peer.beats_received;
  // Saturating: a hostile sent_unix_ns gives an infinite sample, not UB.
  peer.offsets[peer.offset_count % kOffsetSamples] =
      absl::FromUnixNanos(beat.sent_unix_ns()) - now_unix;
  ++peer.offset_count;
  return BeatOutcome::kAccepted;
}

HeartbeatPeers::TickResult HeartbeatPeers::Tick(absl::Time now,
                                                std::vector<HeartbeatEvent>* events) {
  TickResult result;
  result.paused = last_tick_.has_value() && now - *last_tick_ > timeout_ / 2;
  last_tick_ = now;
  for (auto& [endpoint, peer] : peers_) {
    if (result.paused) peer.grace_from = std::max(peer.grace_from, now);
    if (peer.silent) continue;
    const absl::Duration silent_for = now - peer.grace_from;
    if (silent_for < timeout_) {
      result.next_deadline = std::min(result.next_deadline, peer.grace_from + timeout_);
      continue;
    }
    peer.silent = true;
    peer.report_next = true;
    HeartbeatEvent& event = events->emplace_back();
    event.kind = HeartbeatEvent::Kind::kSilent;
    event.endpoint = endpoint;
    event.incarnation = peer.incarnation;
    event.silent_for = silent_for;
  }
  return result;
}

const HeartbeatPeers::Peer* HeartbeatPeers::Find(const std::string& endpoint) const {
  auto it = peers_.find(endpoint);
  return it == peers_.end() ? nullptr : &it->second;
}

absl::Duration HeartbeatPeers::ClockOffset(const Peer& peer) {
  const int n = std::min(peer.offset_count, kOffsetSamples);
  if (n == 0) return absl::ZeroDuration();
  std::array<absl::Duration, kOffsetSamples> samples = peer.offsets;
  std::nth_element(samples.begin(), samples.begin() + n / 2, samples.begin() + n);
  return samples[n / 2];
}

void HeartbeatPeers::AppendAddresses(std::vector<DatagramAddress>* out) const {
  for (const auto& [endpoint, peer] : peers_) out->push_back(peer.address);
}

}  // namespace polis::bus::internal
