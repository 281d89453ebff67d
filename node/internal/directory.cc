#include "node/internal/directory.h"

#include <algorithm>
#include <tuple>

namespace polis::internal {

bool ClaimWins(const NameClaim& a, const NameClaim& b) {
  return std::tie(a.registered_unix_ns, a.node, a.incarnation) <
         std::tie(b.registered_unix_ns, b.node, b.incarnation);
}

void Directory::AddClaim(const Entry& e, const wire::NameEntry& n) {
  auto& claims = claims_[n.name()];
  NameClaim c{e.m.node, e.m.incarnation, n.pid(), n.registered_unix_ns()};
  auto same = std::find_if(claims.begin(), claims.end(),
                           [&](const NameClaim& x) { return x.node == c.node; });
  if (same != claims.end()) claims.erase(same);
  claims.insert(std::lower_bound(claims.begin(), claims.end(), c, ClaimWins), std::move(c));
}

void Directory::DropClaim(const std::string& node, const std::string& name) {
  auto it = claims_.find(name);
  if (it == claims_.end()) return;
  auto& claims = it->second;
  claims.erase(std::remove_if(claims.begin(), claims.end(),
                              [&](const NameClaim& x) { return x.node == node; }),
               claims.end());
  if (claims.empty()) claims_.erase(it);
}

void Directory::DropAllClaims(const Entry& e) {
  for (const auto& [name, n] : e.names) DropClaim(e.m.node, name);
}

std::optional<uint64_t> Directory::Upsert(const wire::NodeEntry& entry, std::string public_key) {
  absl::MutexLock lock(&mu_);
  Changed();
  std::optional<uint64_t> previous;
  auto [it, inserted] = nodes_.try_emplace(entry.node());
  Entry& e = it->second;
  if (!inserted) {
    if (e.m.incarnation != entry.incarnation()) {
      previous = e.m.incarnation;
      e.m.since = absl::Now();
    }
    DropAllClaims(e);
    e.names.clear();
  } else {
    e.m.since = absl::Now();
  }
  e.m.node = entry.node();
  e.m.endpoint = entry.endpoint();
  e.m.incarnation = entry.incarnation();
  e.m.names_version = entry.names_version();
  e.m.started_unix_ns = entry.started_unix_ns();
  e.m.public_key = std::move(public_key);
  for (const wire::NameEntry& n : entry.names()) {
    e.names[n.name()] = n;
    AddClaim(e, n);
  }
  e.m.names = e.names.size();
  return previous;
}

Directory::Delta Directory::ApplyNamesChanged(const wire::NamesChanged& nc) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(nc.node());
  if (it == nodes_.end() || it->second.m.incarnation != nc.incarnation()) return Delta::kUnknown;
  Entry& e = it->second;
  if (nc.names_version() <= e.m.names_version) return Delta::kStale;
  if (nc.names_version() != e.m.names_version + 1) return Delta::kGap;
  Changed();
  for (const std::string& n : nc.removed()) {
    e.names.erase(n);
    DropClaim(e.m.node, n);
  }
  for (const wire::NameEntry& n : nc.added()) {
    e.names[n.name()] = n;
    AddClaim(e, n);
  }
  e.m.names_version = nc.names_version();
  e.m.names = e.names.size();
  return Delta::kApplied;
}

bool Directory::Remove(const std::string& node) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return false;
  Changed();
  DropAllClaims(it->second);
  nodes_.erase(it);
  return true;
}

void Directory::ReplaceAll(const std::vector<wire::NodeEntry>& view) {
  absl::MutexLock lock(&mu_);
  Changed();
  nodes_.clear();
  claims_.clear();
  for (const wire::NodeEntry& entry : view) {
    Entry& e = nodes_[entry.node()];
    e.m.node = entry.node();
    e.m.endpoint = entry.endpoint();
    e.m.incarnation = entry.incarnation();
    e.m.names_version = entry.names_version();
    e.m.started_unix_ns = entry.started_unix_ns();
    e.m.since = absl::Now();
    for (const wire::NameEntry& n : entry.names()) {
      e.names[n.name()] = n;
      AddClaim(e, n);
    }
    e.m.names = e.names.size();
  }
}

bool Directory::Known(const std::string& node) const {
  absl::ReaderMutexLock lock(&mu_);
  return nodes_.contains(node);
}

std::optional<Directory::Member> Directory::Find(const std::string& node) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return std::nullopt;
  return it->second.m;
}

std::vector<Directory::Member> Directory::Members() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<Member> out;
  out.reserve(nodes_.size());
  for (const auto& [node, e] : nodes_) out.push_back(e.m);
  std::sort(out.begin(), out.end(),
            [](const Member& a, const Member& b) { return a.node < b.node; });
  return out;
}

std::optional<NameClaim> Directory::Resolve(const std::string& name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = claims_.find(name);
  if (it == claims_.end()) return std::nullopt;
  return it->second.front();
}

std::optional<std::string> Directory::NodeOfName(const std::string& name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = claims_.find(name);
  if (it == claims_.end()) return std::nullopt;
  return it->second.front().node;
}

bool Directory::LookupLocked(const std::string& name, std::string* node,
                             std::string* endpoint) const {
  auto it = claims_.find(name);
  if (it == claims_.end()) return false;
  const NameClaim& c = it->second.front();
  auto n = nodes_.find(c.node);
  *node = c.node;
  *endpoint = n == nodes_.end() ? std::string() : n->second.m.endpoint;
  return true;
}

bool Directory::Lookup(const std::string& name, std::string* node,
                       std::string* endpoint) const {
  absl::ReaderMutexLock lock(&mu_);
  return LookupLocked(name, node, endpoint);
}

std::optional<std::string> Directory::EndpointOf(const std::string& node) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end() || it->second.m.endpoint.empty()) return std::nullopt;
  return it->second.m.endpoint;
}

std::optional<std::string> Directory::NodeAt(const std::string& endpoint) const {
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [node, e] : nodes_) {
    if (e.m.endpoint == endpoint) return node;
  }
  return std::nullopt;
}

std::optional<std::string> Directory::NodeWithKey(std::string_view public_key) const {
  if (public_key.empty()) return std::nullopt;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [node, e] : nodes_) {
    if (e.m.public_key == public_key) return node;
  }
  return std::nullopt;
}

std::vector<std::string> Directory::ConnectedNodes() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [node, e] : nodes_) out.push_back(node);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<wire::NodeEntry> Directory::Snapshot(bool with_names) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<wire::NodeEntry> out;
  out.reserve(nodes_.size());
  for (const auto& [node, e] : nodes_) {
    wire::NodeEntry w;
    w.set_node(node);
    w.set_endpoint(e.m.endpoint);
    w.set_incarnation(e.m.incarnation);
    w.set_started_unix_ns(e.m.started_unix_ns);
    if (with_names) {
      w.set_names_version(e.m.names_version);
      for (const auto& [name, n] : e.names) *w.add_names() = n;
    }
    out.push_back(std::move(w));
  }
  return out;
}

void Directory::AwaitChange(uint64_t seen, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto changed = [this, seen] { return version_.load(std::memory_order_acquire) != seen; };
  mu_.AwaitWithDeadline(absl::Condition(&changed), deadline);
}

}  // namespace polis::internal
