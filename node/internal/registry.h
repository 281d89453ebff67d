// node/internal/registry.h — the node's processes and the names registered
// on it.
//
// Every live process is here by pid; a registered one also by name. A name
// is unique in the cluster as far as this node knows: Create and Register
// refuse a name registered here or on a known peer (the Directory). Each
// change of names bumps a version counter, which (with the directory's)
// tells the per-thread RouteCache when its memos are stale, and is reported
// to the NamesListener (membership tells the peers), outside the lock. Each
// name remembers when it was registered (wall clock): the conflict rule
// (directory.h, ClaimWins) prefers the older claim, and YieldTo takes a
// name back when another node's claim wins.
//
// Thread-safety: all methods are thread-safe. The registry's lock is held
// while a new process is made (Create's `make`), so that a monitor can be
// in place before anyone can reach the process; `make` must not call back
// into the registry.
//
// Example:
//   Registry registry(&self, &directory);
//   registry.set_listener(&membership);
//   auto p = registry.Create("counter", [&](const Pid& pid) { return MakeProcess(pid); });
//   std::shared_ptr<Process> same = registry.FindByName("counter");
#ifndef POLIS_NODE_INTERNAL_REGISTRY_H_
#define POLIS_NODE_INTERNAL_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "node/internal/directory.h"
#include "node/internal/local_node.h"
#include "node/internal/route_cache.h"
#include "node/message.h"
#include "node/metrics.h"

namespace polis::internal {

class Process;

// Told that the names registered on this node changed (outside the
// registry's lock; it reads NameEntries() for what they are now).
class NamesListener {
 public:
  virtual ~NamesListener() = default;
  virtual void OnNamesChanged() = 0;
};

class Registry {
 public:
  // `self` and `cluster` must outlive the registry.
  Registry(const LocalNode* self, Directory* cluster);

  // Set once, before the node runs; may stay null (no one is told).
  void set_listener(NamesListener* listener) { listener_ = listener; }

  // Makes a process with the next pid through `make` and adds it, under
  // `name` if not empty. ALREADY_EXISTS if the name is taken here or on a
  // known peer; FAILED_PRECONDITION once the node is shutting down.
  absl::StatusOr<std::shared_ptr<Process>> Create(
      const std::string& name, absl::FunctionRef<std::shared_ptr<Process>(const Pid&)> make);
  // The live local process `pid` / registered as `name`, or null. FindByName
  // memoizes in the calling thread's RouteCache.
  std::shared_ptr<Process> Find(uint64_t pid) const;
  std::shared_ptr<Process> FindByName(const std::string& name) const;
  // Whether `name` is registered on this node.
  bool HasName(const std::string& name) const;
  // The pid registered as `name` here, if any.
  std::optional<Pid> PidOf(const std::string& name) const;
  // Removes a dying process and releases its name (if it still holds it).
  void Forget(const Process& p);
  // Registers `name` for the live local process `pid`. INVALID_ARGUMENT
  // (empty, not UTF-8, not local), ALREADY_EXISTS (taken; or the process
  // has a name), NOT_FOUND (no such live process).
  absl::Status Register(const std::string& name, const Pid& pid);
  // NOT_FOUND if `name` is not registered on this node.
  absl::Status Unregister(const std::string& name);
  // Names registered here, sorted.
  std::vector<std::string> Names() const;
  // Names registered here with their pids and registration times, sorted.
  std::vector<wire::NameEntry> NameEntries() const;
  // One change to the names here: `entry` registered, or `name` released.
  struct NameChange {
    std::string name;
    std::optional<wire::NameEntry> entry;  // nullopt: released.
  };
  // The changes since the last call, in order (membership announces them:
  // O(changes), not O(names), per announcement).
  std::vector<NameChange> TakeNameChanges();
  // Another node's `claim` to a name registered here: if it wins (ClaimWins)
  // the name is released here and the process that held it is returned (to
  // be told NameLost); otherwise nothing changes and nullopt.
  std::optional<Pid> YieldTo(const std::string& name, const NameClaim& claim);
  // Times `name` was registered on this node (restarts + 1); 0 if never.
  int32_t Registrations(const std::string& name) const;
  size_t size() const;
  // Every live process.
  std::vector<std::shared_ptr<Process>> Processes() const;
  // Every live process, and in `*retired` the counts (node/metrics.h) of
  // the processes that ended unnamed, summed per kind (server ""): taken
  // together, so a process is counted in one or the other. A process's
  // counts join its kind's in Forget.
  std::vector<std::shared_ptr<Process>> ProcessesAndRetired(
      std::vector<ServerMetrics>* retired) const;
  // From now on Create fails; returns every live process, newest first.
  std::vector<std::shared_ptr<Process>> BeginShutdown();
  // Drops every process and name (after shutdown).
  void Clear();

  // What a RouteCache entry made now is valid for: a change to the names
  // here or to the directory after this point makes it stale.
  RouteCache::Versions versions() const {
    return {self_->instance, names_version_.load(std::memory_order_acquire),
            cluster_->version()};
  }

 private:
  // After changing names_ (mu_ held).
  void NamesChanged() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    names_version_.fetch_add(1, std::memory_order_acq_rel);
  }
  // ALREADY_EXISTS if `name` is taken here or on a known peer.
  absl::Status CheckFree(const std::string& name) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Tell();
  // Adds `name` for `pid` (mu_ held).
  void Hold(const std::string& name, uint64_t pid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const LocalNode* const self_;
  Directory* const cluster_;
  NamesListener* listener_ = nullptr;
  std::atomic<uint64_t> names_version_{1};

  mutable absl::Mutex mu_;
  uint64_t next_pid_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, std::shared_ptr<Process>> processes_ ABSL_GUARDED_BY(mu_);
  struct Held {
    uint64_t pid = 0;
    int64_t registered_unix_ns = 0;
  };
  absl::flat_hash_map<std::string, Held> names_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int32_t> registrations_ ABSL_GUARDED_BY(mu_);
  std::vector<NameChange> changes_ ABSL_GUARDED_BY(mu_);
  // Counts of the processes that ended unnamed, by kind.
  absl::flat_hash_map<std::string, ServerMetrics> retired_ ABSL_GUARDED_BY(mu_);
  // Records that `name` was released (mu_ held).
  void Released(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    changes_.push_back(NameChange{name, std::nullopt});
    NamesChanged();
  }
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

// INVALID_ARGUMENT naming `what` if `name` is not valid UTF-8: names travel
// in proto3 string fields (bus/WIRE.md), and a name that is not UTF-8 would
// make every envelope carrying it unparsable at the receiver.
absl::Status CheckUtf8Name(absl::string_view what, const std::string& name);

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_REGISTRY_H_
