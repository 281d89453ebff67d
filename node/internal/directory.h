// node/internal/directory.h — this node's view of the cluster: the members
// it has reached, where they listen, and the names each holds.
//
// A node is a member here only once it greeted this node itself (its own
// Hello, see membership.h); entries go when it says Goodbye or is declared
// down. Names arrive with the member's Hello (all of them) and its
// NamesChanged deltas, which are numbered: a delta that does not follow the
// last one applied is refused (kGap) and membership asks for the full entry
// again.
//
// One name may be claimed by two members for a moment (both registered it
// at once, or two halves of a partition each kept it). Resolve and Lookup
// always answer with the winner by the rule every node computes alike
// (ClaimWins): the earlier registration, then the smaller node name, then
// the smaller incarnation. The losing node takes its claim back when it
// learns of the winner (Membership → Registry::Revoke), so the extra claim
// is short-lived; until then every node already routes to the winner.
//
// Thread-safety: all methods are thread-safe.
//
// Example:
//   Directory d;
//   d.Upsert(hello.self());                     // a member, with its names
//   if (d.ApplyNamesChanged(nc) == Directory::Delta::kGap) { /* resync */ }
//   std::optional<NameClaim> c = d.Resolve("counter");  // node + pid
#ifndef POLIS_NODE_INTERNAL_DIRECTORY_H_
#define POLIS_NODE_INTERNAL_DIRECTORY_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "polis/envelope.pb.h"

namespace polis::internal {

// One node's claim to a name.
struct NameClaim {
  std::string node;
  uint64_t incarnation = 0;
  uint64_t pid = 0;
  int64_t registered_unix_ns = 0;
};

// Whether claim `a` beats claim `b` to the same name (see the header).
bool ClaimWins(const NameClaim& a, const NameClaim& b);

class Directory {
 public:
  struct Member {
    std::string node;
    std::string endpoint;
    uint64_t incarnation = 0;
    uint64_t names_version = 0;
    int64_t started_unix_ns = 0;
    absl::Time since;  // When it (last) became a member.
    size_t names = 0;
    // The CURVE key its own Hello proved: only this key speaks for it
    // (membership_gate.h). "" without CURVE, and in a client's view.
    std::string public_key;
  };

  // Records member `entry` with its names (replacing the names it had) and
  // the key its Hello proved. Returns the previous incarnation if the node
  // was a member under another one (it restarted), else nullopt.
  std::optional<uint64_t> Upsert(const wire::NodeEntry& entry, std::string public_key = {});

  enum class Delta {
    kApplied,   // Applied; the member's names_version is now nc's.
    kStale,     // Already applied (or older): ignored.
    kGap,       // One or more deltas are missing: ask for the full entry.
    kUnknown,   // Not a member, or another incarnation: ignored.
  };
  Delta ApplyNamesChanged(const wire::NamesChanged& nc);

  // Forgets `node` and its names; returns whether it was a member.
  bool Remove(const std::string& node);
  // For a client: the view becomes exactly `view`.
  void ReplaceAll(const std::vector<wire::NodeEntry>& view);

  bool Known(const std::string& node) const;
  std::optional<Member> Find(const std::string& node) const;
  std::vector<Member> Members() const;

  // The winning claim to `name` among the members, if any.
  std::optional<NameClaim> Resolve(const std::string& name) const;
  // Node hosting `name`, if known.
  std::optional<std::string> NodeOfName(const std::string& name) const;
  // Node hosting `name` and its endpoint ("" if it has none), in one lock;
  // false if the name is unknown.
  bool Lookup(const std::string& name, std::string* node, std::string* endpoint) const;
  std::optional<std::string> EndpointOf(const std::string& node) const;
  std::optional<std::string> NodeAt(const std::string& endpoint) const;
  // The member whose Hello proved CURVE key `public_key` (a scan: for the
  // bad path, TrustGate::PeerLabel). nullopt for "".
  std::optional<std::string> NodeWithKey(std::string_view public_key) const;
  // Names of the members, sorted.
  std::vector<std::string> ConnectedNodes() const;
  // Every member as NodeEntry, with or without its names.
  std::vector<wire::NodeEntry> Snapshot(bool with_names) const;

  // Bumped by every change (see RouteCache); starts at 1.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  // Waits until version() differs from `seen` or `deadline` passes.
  void AwaitChange(uint64_t seen, absl::Time deadline) const;
  // Bumps the version for a change to the names registered on this node
  // (the Registry's), so that AwaitChange sees local names come too.
  void NoteLocalChange() {
    absl::MutexLock lock(&mu_);
    Changed();
  }

 private:
  struct Entry {
    Member m;
    absl::flat_hash_map<std::string, wire::NameEntry> names;
  };
  // Every mutator calls these with mu_ held.
  void Changed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    version_.fetch_add(1, std::memory_order_acq_rel);
  }
  void AddClaim(const Entry& e, const wire::NameEntry& n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropClaim(const std::string& node, const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropAllClaims(const Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool LookupLocked(const std::string& name, std::string* node, std::string* endpoint) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::atomic<uint64_t> version_{1};
  absl::flat_hash_map<std::string, Entry> nodes_ ABSL_GUARDED_BY(mu_);
  // Claims per name, the winner first (almost always exactly one).
  absl::flat_hash_map<std::string, absl::InlinedVector<NameClaim, 1>> claims_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_DIRECTORY_H_
