// node/internal/peer_refusals.cc — see peer_refusals.h.
#include "node/internal/peer_refusals.h"

#include <algorithm>

namespace polis::internal {

uint64_t PeerRefusals::Entry::total() const {
  uint64_t sum = 0;
  for (uint64_t n : by_reason) sum += n;
  return sum;
}

void PeerRefusals::Count(std::string_view peer, BadInputReason reason, absl::Time now) {
  absl::MutexLock lock(&mu_);
  Entry* e = &other_;
  if (!peer.empty() && peer != kOther) {
    const absl::string_view key(peer.data(), peer.size());
    if (auto it = peers_.find(key); it != peers_.end()) {
      e = &it->second;
    } else {
      if (peers_.size() >= kMaxPeers) {
        // Full: the least recently refused label gives way if quiet for kIdle.
        auto oldest = std::min_element(peers_.begin(), peers_.end(), [](const auto& a, const auto& b) {
          return a.second.last < b.second.last;
        });
        if (now - oldest->second.last >= kIdle) {
          for (size_t r = 0; r < kBadInputReasons; ++r) {
            other_.by_reason[r] += oldest->second.by_reason[r];
          }
          peers_.erase(oldest);
        }
      }
      if (peers_.size() < kMaxPeers) {
        e = &peers_[key];
        e->peer = std::string(peer);
      }
    }
  }
  ++e->by_reason[static_cast<size_t>(reason)];
  e->last = now;
}

std::vector<PeerRefusals::Entry> PeerRefusals::Snapshot() const {
  std::vector<Entry> out;
  absl::MutexLock lock(&mu_);
  out.reserve(peers_.size() + 1);
  for (const auto& [peer, e] : peers_) out.push_back(e);
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.peer < b.peer; });
  if (other_.total() != 0) {
    out.push_back(other_);
    out.back().peer = std::string(kOther);
  }
  return out;
}

}  // namespace polis::internal
