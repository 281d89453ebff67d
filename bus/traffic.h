// bus/traffic.h — what a transport counts per peer node: envelopes and
// bytes sent and received, envelopes dropped, frames refused (the per-peer
// series of a node's /metrics, telemetry/prometheus_metrics.h).
//
// Counts are kept by node name, the names envelopes carry: the recipient's
// on the way out, the sender's on the way in. A name gets counters of its
// own when the node says it is a member (Transport::TrackPeer, from
// membership), or once the transport has sent an envelope addressed to it
// on a connection the transport opened itself (Send, or a Channel: a node
// listening at an endpoint). Everything else is counted under the name ""
// (kOther): clients such as `polis call`, which have no endpoint and come
// and go under fresh names; a member's messages before it was known as
// one; system messages to an endpoint before the first addressed send;
// frames too broken to name their sender; and names past kMaxPeers. So the
// table is as small as the cluster, however many clients come by.
//
// What the counts mean:
//   sent      envelopes (and their frames' bytes) queued for the peer;
//   received  envelopes decoded from the peer (bytes: their frames);
//   dropped   envelopes refused at once because the connection's queue was
//             full, or queued and then discarded (connection lost or
//             closed, a send error);
//   refused   frames or messages that arrived and did not decode (bad
//             framing, unknown version, a multipart message).
//
// Thread-safety: TrafficCounters is thread-safe. A PeerCounters has two
// tallies: `solo` is written by one thread at a time (the transport's I/O
// thread: a relaxed load and store per count, no read-modify-write on the
// hot path); `shared` by any thread (Channels, one per calling thread:
// relaxed fetch_add). Readers (Snapshot) take relaxed loads of both.
// Entries live as long as the table: a PeerCounters& stays valid.
//
// Example:
//   auto table = std::make_shared<TrafficCounters>();
//   TrafficMemo memo;                                   // one per thread
//   memo.For(*table, "b", /*track=*/true).solo.CountOut(120);
//   for (const PeerTraffic& p : table->Snapshot()) ...  // {"b", out 1, 120 B}
#ifndef POLIS_BUS_TRAFFIC_H_
#define POLIS_BUS_TRAFFIC_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace polis::bus {

// One peer's totals, as read by Snapshot.
struct PeerTraffic {
  std::string node;  // "" = kOther
  uint64_t messages_in = 0;
  uint64_t bytes_in = 0;
  uint64_t messages_out = 0;
  uint64_t bytes_out = 0;
  uint64_t dropped = 0;
  uint64_t refused = 0;
};

// Counts of one writer at a time (kSolo) or of any thread (kShared).
enum class Writers { kSolo, kShared };

template <Writers kWriters>
class Tally {
 public:
  void CountIn(size_t bytes) {
    Add(messages_in_, 1);
    Add(bytes_in_, bytes);
  }
  void CountOut(size_t bytes) {
    Add(messages_out_, 1);
    Add(bytes_out_, bytes);
  }
  void CountDropped(size_t envelopes) { Add(dropped_, envelopes); }
  void CountRefused() { Add(refused_, 1); }
  // Adds these counts to `t` (relaxed loads: each value is one the writer
  // stored, the set of them not one instant).
  void AddTo(PeerTraffic* t) const {
    t->messages_in += messages_in_.load(std::memory_order_relaxed);
    t->bytes_in += bytes_in_.load(std::memory_order_relaxed);
    t->messages_out += messages_out_.load(std::memory_order_relaxed);
    t->bytes_out += bytes_out_.load(std::memory_order_relaxed);
    t->dropped += dropped_.load(std::memory_order_relaxed);
    t->refused += refused_.load(std::memory_order_relaxed);
  }

 private:
  static void Add(std::atomic<uint64_t>& c, uint64_t n) {
    if constexpr (kWriters == Writers::kSolo) {
      c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    } else {
      c.fetch_add(n, std::memory_order_relaxed);
    }
  }
  std::atomic<uint64_t> messages_in_{0};
  std::atomic<uint64_t> bytes_in_{0};
  std::atomic<uint64_t> messages_out_{0};
  std::atomic<uint64_t> bytes_out_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> refused_{0};
};

struct PeerCounters {
  Tally<Writers::kSolo> solo;      // the I/O thread's
  Tally<Writers::kShared> shared;  // Channels'
};

class TrafficCounters {
 public:
  // The name everything without counters of its own is counted under.
  static constexpr std::string_view kOther = "";
  // Names with counters of their own, at most.
  static constexpr size_t kMaxPeers = 1024;

  TrafficCounters() = default;
  TrafficCounters(const TrafficCounters&) = delete;
  TrafficCounters& operator=(const TrafficCounters&) = delete;

  // The counters of `node`: its own if it has them; with `track` (an
  // envelope addressed to `node` leaves on a connection the transport
  // opened) they are made if missing. Otherwise kOther's. Takes a lock:
  // threads call it through a TrafficMemo.
  PeerCounters& For(std::string_view node, bool track);
  // Bumped whenever a name gets counters: a memo made before is stale.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  // Every name's totals (kOther first), solo and shared summed.
  std::vector<PeerTraffic> Snapshot() const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<PeerCounters>> peers_ ABSL_GUARDED_BY(mu_);
  PeerCounters other_;
  std::atomic<uint64_t> version_{1};
};

// One thread's memo of the last name it counted for: one string compare per
// envelope instead of a locked lookup (a stream mostly goes to one peer).
// Not thread-safe: one per thread (or per single-threaded owner).
class TrafficMemo {
 public:
  PeerCounters& For(TrafficCounters& table, std::string_view node, bool track) {
    if (counters_ != nullptr && version_ == table.version() && node == node_ &&
        (tracked_ || !track)) {
      return *counters_;
    }
    return Refresh(table, node, track);
  }

 private:
  PeerCounters& Refresh(TrafficCounters& table, std::string_view node, bool track);
  std::string node_;
  PeerCounters* counters_ = nullptr;
  uint64_t version_ = 0;
  bool tracked_ = false;  // node_ was looked up with track (it has its own, or never will)
};

}  // namespace polis::bus

#endif  // POLIS_BUS_TRAFFIC_H_
