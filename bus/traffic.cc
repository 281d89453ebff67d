// bus/traffic.cc — see traffic.h.
#include "bus/traffic.h"

#include <algorithm>

namespace polis::bus {

PeerCounters& TrafficCounters::For(std::string_view node, bool track) {
  if (node.empty()) return other_;
  // Debian's Abseil has its own string_view (not std::string_view).
  const absl::string_view key(node.data(), node.size());
  {
    absl::ReaderMutexLock lock(&mu_);
    if (auto it = peers_.find(key); it != peers_.end()) return *it->second;
    if (!track || peers_.size() >= kMaxPeers) return other_;
  }
  absl::MutexLock lock(&mu_);
  auto [it, added] = peers_.try_emplace(std::string(node));
  if (added) {
    if (peers_.size() > kMaxPeers) {  // Filled meanwhile.
      peers_.erase(it);
      return other_;
    }
    it->second = std::make_unique<PeerCounters>();
    version_.fetch_add(1, std::memory_order_acq_rel);
  }
  return *it->second;
}

std::vector<PeerTraffic> TrafficCounters::Snapshot() const {
  std::vector<PeerTraffic> out(1);
  out[0].node = std::string(kOther);
  other_.solo.AddTo(&out[0]);
  other_.shared.AddTo(&out[0]);
  absl::ReaderMutexLock lock(&mu_);
  out.reserve(1 + peers_.size());
  for (const auto& [node, counters] : peers_) {
    PeerTraffic& t = out.emplace_back();
    t.node = node;
    counters->solo.AddTo(&t);
    counters->shared.AddTo(&t);
  }
  std::sort(out.begin() + 1, out.end(),
            [](const PeerTraffic& a, const PeerTraffic& b) { return a.node < b.node; });
  return out;
}

PeerCounters& TrafficMemo::Refresh(TrafficCounters& table, std::string_view node, bool track) {
  version_ = table.version();  // Before the lookup: a name added after it makes the memo stale.
  counters_ = &table.For(node, track);
  node_.assign(node.data(), node.size());
  tracked_ = track;
  return *counters_;
}

}  // namespace polis::bus
