// node/internal/peer_refusals.h — what a node refused, counted per peer and
// reason, in a table an outsider cannot grow.
//
// Every refusal (bad frames, the trust rules, membership's, replies not
// from the called node) is counted under a peer label (TrustGate::PeerLabel:
// a member's node name, "key:..." for an authorized key, "addr:..." for an
// anonymous connection's remote address) and one of the nine reasons of
// bad_input.h. Members are bounded by the view and keys by the authorized
// keys file, but addresses by nothing: so at most kMaxPeers labels are
// kept. A new label past that takes the place of the one refused least
// recently if that one has been quiet for kIdle (its counts move to
// kOther), else it is counted under kOther. kOther's counts only grow.
//
// Cost: only refusals touch the table (one mutex, a hash lookup; a scan of
// the table when it is full and a new label comes). Good traffic never.
//
// Thread-safety: thread-safe.
//
// Example:
//   PeerRefusals table;
//   table.Count("addr:10.0.0.7", BadInputReason::kFraming, base::Now());
//   for (const PeerRefusals::Entry& e : table.Snapshot()) ...  // {"addr:10.0.0.7", framing 1}
#ifndef POLIS_NODE_INTERNAL_PEER_REFUSALS_H_
#define POLIS_NODE_INTERNAL_PEER_REFUSALS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/internal/bad_input.h"

namespace polis::internal {

class PeerRefusals {
 public:
  static constexpr size_t kMaxPeers = 256;
  static constexpr std::string_view kOther = "other";
  static constexpr absl::Duration kIdle = absl::Minutes(10);

  struct Entry {
    std::string peer;
    std::array<uint64_t, kBadInputReasons> by_reason{};  // indexed by BadInputReason
    absl::Time last = absl::InfinitePast();              // last refusal counted
    uint64_t total() const;
  };

  // Counts one refusal of `peer` (kOther if empty) for `reason` at `now`.
  void Count(std::string_view peer, BadInputReason reason, absl::Time now);
  // Every label's counts, sorted by label, kOther last (if it counted any).
  std::vector<Entry> Snapshot() const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> peers_ ABSL_GUARDED_BY(mu_);
  Entry other_ ABSL_GUARDED_BY(mu_);
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_PEER_REFUSALS_H_
