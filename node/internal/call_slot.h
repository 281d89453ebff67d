// node/internal/call_slot.h — where a pending call's outcome lands.
//
// Every call waiting for a reply (from a plain thread or a suspended
// process) has a CallSlot, registered in the node's CallTable under the
// call's reference. Whoever settles the call first — the reply, the
// deadline timer, a peer-down notice, the callee's death — takes the slot out
// of the table and completes it; later outcomes find nothing and are
// dropped. That is how a reply after the deadline is never delivered to a
// later call.
//
// Thread-safety: all methods are thread-safe.
#ifndef POLIS_NODE_INTERNAL_CALL_SLOT_H_
#define POLIS_NODE_INTERNAL_CALL_SLOT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/message.h"

namespace polis::internal {

class CallSlot {
 public:
  // `wake` runs once, on the completing thread, after the result is stored.
  explicit CallSlot(uint64_t ref, std::string target_node, std::function<void()> wake)
      : ref_(ref), target_node_(std::move(target_node)), wake_(std::move(wake)) {}

  uint64_t ref() const { return ref_; }
  // The node the call went to ("" = local). Set before the slot is shared.
  const std::string& target_node() const { return target_node_; }
  void set_target_node(std::string node) { target_node_ = std::move(node); }
  // The deadline timer, cancelled by the waiter once it resumes.
  uint64_t timer() const { return timer_; }
  void set_timer(uint64_t id) { timer_ = id; }

  // Stores the outcome and wakes the waiter. Returns false (and drops
  // `result`) if the slot was already complete.
  bool Complete(absl::StatusOr<Message> result);
  bool done() const;
  // Waits (plain threads only) until complete or `deadline`; true if done.
  bool WaitUntil(absl::Time deadline);
  // The outcome; only after done().
  absl::StatusOr<Message> Take();

 private:
  const uint64_t ref_;
  std::string target_node_;
  uint64_t timer_ = 0;
  std::function<void()> wake_;
  mutable absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> done_hint_{false};  // Set after done_, for spinning waiters.
  absl::StatusOr<Message> result_ ABSL_GUARDED_BY(mu_);
};

class CallTable {
 public:
  // A fresh, never reused, non-zero reference.
  uint64_t NextRef();
  void Add(std::shared_ptr<CallSlot> slot);
  // Removes and returns the slot for `ref`, or nullptr if already settled.
  std::shared_ptr<CallSlot> Take(uint64_t ref);
  // Removes and returns every slot waiting on `node`.
  std::vector<std::shared_ptr<CallSlot>> TakeForNode(const std::string& node);
  std::vector<std::shared_ptr<CallSlot>> TakeAll();

 private:
  absl::Mutex mu_;
  uint64_t next_ref_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, std::shared_ptr<CallSlot>> slots_ ABSL_GUARDED_BY(mu_);
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_CALL_SLOT_H_
