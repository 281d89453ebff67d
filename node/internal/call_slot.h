// node/internal/call_slot.h — where a pending call's outcome lands.
//
// Every call waiting for a reply (from a plain thread or a suspended
// process) has a CallSlot, registered in the node's CallTable under the
// call's reference. Whoever settles the call first — the reply, the
// deadline, a peer-down notice, the callee's death — takes the slot out of
// the table and completes it; later outcomes find nothing and are dropped.
// That is how a reply after the deadline is never delivered to a later call.
// Between the taker's Take and its Complete the slot is out of the table
// and still pending: a waiter that gives up on its own (a plain thread whose
// connection was lost) calls CallTable::Settle, which completes the call or
// waits for whoever took it, and never reads an outcome not yet stored.
//
// A call's deadline costs no timer of its own: the table files the slots
// with a deadline by millisecond (the deadline rounded up: a call expires at
// or at most 1 ms after its deadline, never before) in buckets, each a list
// in the order added, and arms one TimerQueue entry, for the earliest bucket.
// Settling a call unlinks it from its bucket in O(1) (calls made one after
// another with the same timeout share a bucket, so neither adding nor
// settling sifts anything), and a bucket left empty goes (but the one last
// added to, kept for the next call): the buckets hold exactly the calls
// still waiting, in at most one bucket each plus one, however many calls a
// second pass through. Calls expiring together complete in deadline order.
//
// Completing a slot takes no lock: the outcome is published with an atomic
// state, then the waiter is woken (its process scheduled, its `wake` run,
// or a thread blocked in WaitUntil signalled).
//
// Thread-safety: all methods are thread-safe, except that Take and the
// setters are for the slot's one waiter (see each).
//
// Example (a process waiting on a remote call):
//   auto slot = CallSlot::ForProcess(0, process);
//   const uint64_t ref = calls.Add(slot, absl::Now() + absl::Seconds(5));
//   ... send the call, with `ref`;
//   ... reply arrives on the I/O thread:
//   if (auto s = calls.Take(ref)) s->Complete(reply);  // schedules `process`
#ifndef POLIS_NODE_INTERNAL_CALL_SLOT_H_
#define POLIS_NODE_INTERNAL_CALL_SLOT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/message.h"

namespace polis::internal {

class Process;
class TimerQueue;
struct DeadlineBucket;

class CallSlot {
 public:
  // `wake` runs once, on the completing thread, after the outcome is stored.
  // Without it the waiter is a thread in WaitUntil or one polling done().
  explicit CallSlot(uint64_t ref, std::string target_node, std::function<void()> wake)
      : ref_(ref), target_node_(std::move(target_node)), wake_(std::move(wake)) {}
  // No node yet (set_target_node) and no `wake`.
  explicit CallSlot(uint64_t ref) : ref_(ref) {}
  // A slot whose completion schedules `process` (if it still exists).
  static std::shared_ptr<CallSlot> ForProcess(uint64_t ref, Process* process);

  // 0 until CallTable::Add gives a slot made without one its ref.
  uint64_t ref() const { return ref_; }
  // The node the call went to ("" = local). Set before the slot is shared.
  const std::string& target_node() const { return target_node_; }
  void set_target_node(std::string_view node) { target_node_.assign(node.data(), node.size()); }
  // The endpoint the call left for (the callee node's, on this node's own
  // connection to it): a reply is taken only from a connection this node
  // dialed there (CallTable::TakeReply). "" = a local call, no reply from
  // the wire. Set before the slot is shared.
  const std::string& endpoint() const { return endpoint_; }
  void set_endpoint(std::string endpoint) { endpoint_ = std::move(endpoint); }

  // Stores the outcome and wakes the waiter. Returns false (and drops
  // `result`) if the slot was already complete.
  bool Complete(absl::StatusOr<Message> result);
  // seq_cst (a plain load on x86): Process::Release reads it right after
  // clearing its claim, and Complete sets it right before taking the claim.
  bool done() const { return state_.load(std::memory_order_seq_cst) == kDone; }
  // True if the outcome is the table's DEADLINE_EXCEEDED (see CallTable::Add).
  bool expired() const { return expired_; }
  // Waits (plain threads only) until complete or `deadline`; true if done.
  bool WaitUntil(absl::Time deadline);
  // True once a thread is blocked, or about to block, in WaitUntil (it
  // stays true). For tests that must know a waiter is waiting.
  bool thread_waiting() const { return thread_waiting_.load(std::memory_order_seq_cst); }
  // The outcome; only after done(), by the waiter, once. Before done() it is
  // INTERNAL ("... before the call settled"): a polis bug, named as one,
  // never the UNKNOWN of an empty absl::StatusOr.
  absl::StatusOr<Message> Take();

 private:
  friend class CallTable;
  enum State : uint8_t { kPending, kStoring, kDone };

  uint64_t ref_;  // Set before the slot is shared (by Add, under its lock).
  std::string target_node_;
  std::string endpoint_;
  std::function<void()> wake_;
  std::weak_ptr<Process> process_;
  std::atomic<uint8_t> state_{kPending};
  // A thread is (about to be) blocked in WaitUntil: Complete passes mu_.
  std::atomic<bool> thread_waiting_{false};
  bool expired_ = false;            // Written before state_ becomes kDone.
  absl::StatusOr<Message> result_;  // Likewise.
  absl::Mutex mu_;                  // Only for WaitUntil's sleep.

  // Owned by the CallTable, under its mutex: the deadline Add was given,
  // and while the slot waits for it, its bucket and neighbours there.
  absl::Time deadline_ = absl::InfiniteFuture();
  DeadlineBucket* bucket_ = nullptr;
  CallSlot* prev_ = nullptr;
  CallSlot* next_ = nullptr;
};

// The calls whose deadlines round up to one millisecond, in the order added
// (CallTable's, under its mutex).
struct DeadlineBucket {
  int64_t unix_ms = 0;
  absl::Time after;  // The bucket holds deadlines in (after, due].
  absl::Time due;    // unix_ms as a time.
  CallSlot* head = nullptr;
  CallSlot* tail = nullptr;
};

class CallTable {
 public:
  // Deadlines are kept with `timers`, which must be stopped before the
  // table is destroyed (its timer callbacks point at the table).
  explicit CallTable(TimerQueue* timers) : timers_(timers) {}

  // A fresh reference: 64 random bits (a per-thread absl::BitGen), never 0,
  // not in the table now. Unguessable, so that nobody but the callee (who
  // got it with the call) can name a pending call; monitor refs are drawn
  // here too.
  uint64_t NextRef();
  // Registers `slot` and returns its ref. A slot made with ref 0 (a call
  // whose ref is not sent yet) is given a fresh one here, drawn as NextRef
  // draws them, under the one lock that registers it. At a finite
  // `deadline`, if still registered, the slot is taken out and completed
  // with DEADLINE_EXCEEDED (expired() is then true; the waiter words the
  // message, it knows what it called). Returns 0, registering nothing, for
  // a slot whose (nonzero) ref is in the table already.
  uint64_t Add(std::shared_ptr<CallSlot> slot, absl::Time deadline = absl::InfiniteFuture());
  // Removes and returns the slot for `ref`, or nullptr if already settled.
  // A slot taken is settled by its taker, who completes it (soon, but maybe
  // not yet: its waiter must not Take the outcome before done()).
  std::shared_ptr<CallSlot> Take(uint64_t ref);
  // For `slot`'s waiter (a plain thread) that gives up on the call (its
  // connection lost, its deadline passed): completes it with `why` if it is
  // still registered; if another thread took it first (a peer-down notice,
  // a reply, shutdown), waits until that thread has completed it. Returns
  // the outcome either way: `why`, or what the other thread settled it with.
  absl::StatusOr<Message> Settle(const std::shared_ptr<CallSlot>& slot, absl::Status why);
  // For a KIND_REPLY from the wire that came on the connection this node
  // dialed to `dialed` ("" = not one: the listening socket): the slot for
  // `ref` if its call went there, removed; else nullptr, the slot staying
  // (`*foreign` set if a slot for `ref` exists but went elsewhere).
  std::shared_ptr<CallSlot> TakeReply(uint64_t ref, std::string_view dialed, bool* foreign);
  // Removes and returns every slot waiting on `node`.
  std::vector<std::shared_ptr<CallSlot>> TakeForNode(const std::string& node);
  std::vector<std::shared_ptr<CallSlot>> TakeAll();
  // Slots registered / of those, with a deadline (for tests).
  size_t size() const;
  size_t deadlines() const;
  // Deadline buckets held (for tests: at most deadlines() + 1).
  size_t buckets() const;
  // The map's capacity (for tests: it shrinks after a burst).
  size_t capacity() const;

 private:
  // The timer callback: expires what is due, then arms for the next.
  void ExpireDue();
  // Files `s` (its deadline_ set) in its bucket; returns when that bucket is due.
  absl::Time Link(CallSlot* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes `s` out of its bucket (dropping the bucket if left empty, unless
  // it is last_).
  void Unlink(CallSlot* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the map entry `it` points to (and its deadline); may rehash the
  // map (ShrinkIfSparse), so no other iterator into it survives.
  std::shared_ptr<CallSlot> Remove(
      absl::flat_hash_map<uint64_t, std::shared_ptr<CallSlot>>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Arms a timer for ExpireDue at `at`.
  void Arm(absl::Time at);
  // Rehashes the map to fit when it is large and nearly empty.
  void ShrinkIfSparse() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static constexpr size_t kShrinkAbove = 1024;

  TimerQueue* const timers_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<CallSlot>> slots_ ABSL_GUARDED_BY(mu_);
  // By millisecond; std::map, whose nodes stay put: slots point at theirs.
  std::map<int64_t, DeadlineBucket> buckets_ ABSL_GUARDED_BY(mu_);
  // The bucket Add filed into last, kept even when empty: the next call,
  // made with the same timeout within the millisecond, goes there too.
  DeadlineBucket* last_ ABSL_GUARDED_BY(mu_) = nullptr;
  size_t deadlines_ ABSL_GUARDED_BY(mu_) = 0;  // Slots in buckets_.
  // When the earliest armed timer fires (InfiniteFuture: none armed).
  absl::Time armed_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_CALL_SLOT_H_
