// bus/internal/heartbeat_peers.h — the failure detector's bookkeeping: the
// watched peers, when each was last heard, and what to report.
//
// No sockets, no threads, no clock of its own: every call is told the time,
// so the rules (silence, restarts, the self-pause guard) are tested by
// stepping time by hand. bus/heartbeat.h wraps it with the socket and the
// thread.
//
// Rules:
//   * A peer is silent once `timeout` has passed since its grace period
//     started: the last accepted beat, its Watch, or the last self-pause.
//     Silence is reported once, again only after an accepted beat.
//   * A beat counts only if it is authentic: its MAC verifies under the key
//     given to Watch for its endpoint (bus/internal/heartbeat_auth.h), and
//     its seq is above that of the last authentic beat since Watch (so a
//     replayed or reordered older beat is refused). Anything else is
//     dropped unreported (kUnauthenticated, kReplayed): a forger who cannot
//     sign keeps no one alive and causes no kHeard.
//   * An accepted beat is an authentic one with the watched incarnation
//     (any, if 0). An authentic beat with another incarnation is reported
//     but does not keep the watched one alive (with a key per incarnation,
//     only a sender that reuses its key across restarts makes one).
//   * A beat is reported (kHeard) if it is the first after Watch or after a
//     silence, or its incarnation or state_version differs from the previous
//     beat's from that endpoint.
//   * Self-pause guard: if two Ticks are more than timeout/2 apart, this
//     node did not run (SIGSTOP, a paused VM); every peer gets a fresh grace
//     period before silences are checked.
//
// Thread-safety: none; the owner locks (Heartbeater holds it under a mutex).
//
// Example:
//   HeartbeatPeers peers(absl::Milliseconds(800));
//   peers.Watch("tcp://10.0.0.2:7000", 3, address, key, now);
//   peers.OnBeat(beat, datagram, now, base::Now(), &events);  // kHeard
//   peers.Tick(now + absl::Seconds(1), &events);      // events: kSilent
#ifndef POLIS_BUS_INTERNAL_HEARTBEAT_PEERS_H_
#define POLIS_BUS_INTERNAL_HEARTBEAT_PEERS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "bus/internal/datagram_socket.h"
#include "bus/internal/heartbeat_auth.h"
#include "polis/envelope.pb.h"

namespace polis::bus::internal {

// Something to tell the HeartbeatListener, decided under the owner's lock
// and delivered after it is released.
struct HeartbeatEvent {
  enum class Kind { kSilent, kHeard };
  Kind kind = Kind::kHeard;
  std::string endpoint;
  uint64_t incarnation = 0;    // kSilent: the watched incarnation (0 = any)
  absl::Duration silent_for;   // kSilent: since the grace period started
  wire::Heartbeat beat;        // kHeard: the beat as received
};

class HeartbeatPeers {
 public:
  // Clock-offset samples kept per peer; the offset is their median.
  static constexpr int kOffsetSamples = 15;

  struct Peer {
    uint64_t incarnation = 0;  // watched; 0 = any
    DatagramAddress address;   // where beats to it go
    HeartbeatKey key = {};     // its beats' MACs verify under this
    uint64_t last_seq = 0;     // of the last authentic beat since Watch
    absl::Time watched_at;
    absl::Time grace_from;     // silence is measured from here
    absl::Time last_heard;     // last accepted beat (if heard_ever)
    bool heard_ever = false;
    bool silent = false;       // reported silent, not heard since
    bool report_next = true;   // report the next beat (after Watch / silence)
    uint64_t last_incarnation = 0;    // of the previous beat, any incarnation
    uint64_t last_state_version = 0;
    uint64_t beats_received = 0;      // accepted beats
    std::array<absl::Duration, kOffsetSamples> offsets = {};
    int offset_count = 0;             // samples written (ring index = count % N)
  };

  enum class BeatOutcome {
    kAccepted,          // counts as heard for the watched incarnation
    kOtherIncarnation,  // watched endpoint, another incarnation
    kUnwatched,         // nobody watches that endpoint
    kUnauthenticated,   // watched endpoint; no MAC, or not under its key
    kReplayed,          // authentic, but seq not above the last accepted
  };

  struct TickResult {
    bool paused = false;  // the self-pause guard fired
    // When the next not-yet-silent peer would go silent (InfiniteFuture if
    // none): the owner should Tick again by then.
    absl::Time next_deadline = absl::InfiniteFuture();
  };

  explicit HeartbeatPeers(absl::Duration timeout) : timeout_(timeout) {}

  // Starts (or restarts, replacing all state) watching `endpoint`, whose
  // beats are signed with `key`.
  void Watch(const std::string& endpoint, uint64_t incarnation, const DatagramAddress& address,
             const HeartbeatKey& key, absl::Time now);
  void Unwatch(const std::string& endpoint) { peers_.erase(endpoint); }

  // A beat received at `now` (the detector's clock) and `now_unix` (the wall
  // clock, for the offset): `beat` parsed from `datagram`, the bytes as
  // received (the MAC is checked over them). Appends a kHeard event if the
  // beat is reported.
  BeatOutcome OnBeat(const wire::Heartbeat& beat, std::string_view datagram, absl::Time now,
                     absl::Time now_unix, std::vector<HeartbeatEvent>* events);

  // Applies the self-pause guard, then appends a kSilent event for each
  // peer that went silent.
  TickResult Tick(absl::Time now, std::vector<HeartbeatEvent>* events);

  // nullptr if `endpoint` is not watched. Valid until the next non-const call.
  const Peer* Find(const std::string& endpoint) const;

  // The median of the peer's recent offset samples (their wall clock at
  // sending minus ours at receiving, so one-way latency is included: a
  // peer with an identical clock shows minus the latency). Zero if none.
  static absl::Duration ClockOffset(const Peer& peer);

  // Appends every watched peer's address.
  void AppendAddresses(std::vector<DatagramAddress>* out) const;

  size_t size() const { return peers_.size(); }

 private:
  const absl::Duration timeout_;
  std::optional<absl::Time> last_tick_;
  absl::flat_hash_map<std::string, Peer> peers_;
};

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_HEARTBEAT_PEERS_H_
