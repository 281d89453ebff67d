#include "node/internal/directory.h"

#include <algorithm>

namespace polis::internal {

std::optional<uint64_t> Directory::Upsert(const wire::NodeEntry& entry) {
  absl::MutexLock lock(&mu_);
  Changed();
  std::optional<uint64_t> previous;
  Peer& p = nodes_[entry.node()];
  if (p.incarnation != 0 && p.incarnation != entry.incarnation()) previous = p.incarnation;
  for (const std::string& n : p.names) {
    auto it = name_to_node_.find(n);
    if (it != name_to_node_.end() && it->second == entry.node()) name_to_node_.erase(it);
  }
  p.names.clear();
  p.endpoint = entry.endpoint();
  p.incarnation = entry.incarnation();
  for (const std::string& n : entry.names()) {
    p.names.insert(n);
    name_to_node_[n] = entry.node();
  }
  return previous;
}

bool Directory::Known(const std::string& node) const {
  absl::MutexLock lock(&mu_);
  return nodes_.contains(node);
}

void Directory::AddNames(const std::string& node, const std::vector<std::string>& names) {
  absl::MutexLock lock(&mu_);
  Changed();
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return;
  for (const std::string& n : names) {
    it->second.names.insert(n);
    name_to_node_[n] = node;
  }
}

void Directory::RemoveNames(const std::string& node, const std::vector<std::string>& names) {
  absl::MutexLock lock(&mu_);
  Changed();
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return;
  for (const std::string& n : names) {
    it->second.names.erase(n);
    auto nt = name_to_node_.find(n);
    if (nt != name_to_node_.end() && nt->second == node) name_to_node_.erase(nt);
  }
}

bool Directory::Remove(const std::string& node) {
  absl::MutexLock lock(&mu_);
  Changed();
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return false;
  for (const std::string& n : it->second.names) {
    auto nt = name_to_node_.find(n);
    if (nt != name_to_node_.end() && nt->second == node) name_to_node_.erase(nt);
  }
  nodes_.erase(it);
  return true;
}

std::optional<std::string> Directory::NodeOfName(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = name_to_node_.find(name);
  if (it == name_to_node_.end()) return std::nullopt;
  return it->second;
}

bool Directory::Lookup(const std::string& name, std::string* node,
                       std::string* endpoint) const {
  absl::MutexLock lock(&mu_);
  auto it = name_to_node_.find(name);
  if (it == name_to_node_.end()) return false;
  auto n = nodes_.find(it->second);
  *node = it->second;
  *endpoint = n == nodes_.end() ? std::string() : n->second.endpoint;
  return true;
}

std::optional<std::string> Directory::EndpointOf(const std::string& node) const {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end() || it->second.endpoint.empty()) return std::nullopt;
  return it->second.endpoint;
}

std::optional<std::string> Directory::NodeAt(const std::string& endpoint) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [node, p] : nodes_) {
    if (p.endpoint == endpoint) return node;
  }
  return std::nullopt;
}

std::vector<std::string> Directory::ConnectedNodes() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [node, p] : nodes_) out.push_back(node);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<wire::NodeEntry> Directory::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::vector<wire::NodeEntry> out;
  for (const auto& [node, p] : nodes_) {
    wire::NodeEntry e;
    e.set_node(node);
    e.set_endpoint(p.endpoint);
    e.set_incarnation(p.incarnation);
    for (const std::string& n : p.names) e.add_names(n);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace polis::internal
