// node/internal/directory.h — this node's view of the cluster: which nodes
// exist, where they listen, and which names each hosts.
//
// Filled from Hello (full snapshots) and NamesChanged (deltas) messages;
// entries go when a node says Goodbye or its connection is lost. The view
// is eventually consistent: a name registered on another node a moment ago
// may not be known here yet (Resolve then says NOT_FOUND).
//
// Thread-safety: all methods are thread-safe.
#ifndef POLIS_NODE_INTERNAL_DIRECTORY_H_
#define POLIS_NODE_INTERNAL_DIRECTORY_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "polis/envelope.pb.h"

namespace polis::internal {

class Directory {
 public:
  struct Peer {
    std::string endpoint;
    uint64_t incarnation = 0;
    absl::flat_hash_set<std::string> names;
  };

  // Records `entry` (replacing names). Returns the previous incarnation if
  // the node was known under another one (it restarted), else nullopt.
  std::optional<uint64_t> Upsert(const wire::NodeEntry& entry);
  bool Known(const std::string& node) const;
  void AddNames(const std::string& node, const std::vector<std::string>& names);
  void RemoveNames(const std::string& node, const std::vector<std::string>& names);
  // Forgets `node`; returns whether it was known.
  bool Remove(const std::string& node);

  // Node hosting `name`, if known.
  std::optional<std::string> NodeOfName(const std::string& name) const;
  // Node hosting `name` and its endpoint ("" if it has none: a client), in
  // one lock; false if the name is unknown.
  bool Lookup(const std::string& name, std::string* node, std::string* endpoint) const;
  // Bumped by every change (see RouteCache); starts at 1.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  std::optional<std::string> EndpointOf(const std::string& node) const;
  std::optional<std::string> NodeAt(const std::string& endpoint) const;
  std::vector<std::string> ConnectedNodes() const;
  // Every known node as NodeEntry (for Hello).
  std::vector<wire::NodeEntry> Snapshot() const;

 private:
  // Called with mu_ held by every mutator.
  void Changed() { version_.fetch_add(1, std::memory_order_acq_rel); }

  mutable absl::Mutex mu_;
  std::atomic<uint64_t> version_{1};
  absl::flat_hash_map<std::string, Peer> nodes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> name_to_node_ ABSL_GUARDED_BY(mu_);
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_DIRECTORY_H_
