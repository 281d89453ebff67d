#include "node/internal/call_slot.h"

#include <algorithm>
#include <limits>

#include "absl/random/random.h"
#include "base/clock.h"
#include "node/internal/process.h"
#include "node/internal/spin.h"
#include "node/internal/timer_queue.h"

namespace polis::internal {
namespace {

constexpr absl::Duration kSpin = absl::Microseconds(50);

// 64 random bits, never 0.
uint64_t RandomRef() {
  thread_local absl::BitGen gen;
  for (;;) {
    const uint64_t ref = absl::Uniform<uint64_t>(gen);
    if (ref != 0) return ref;
  }
}

}  // namespace

// --- CallSlot ---

std::shared_ptr<CallSlot> CallSlot::ForProcess(uint64_t ref, Process* process) {
  auto slot = std::make_shared<CallSlot>(ref);
  slot->process_ = process->weak_from_this();
  return slot;
}

bool CallSlot::Complete(absl::StatusOr<Message> result) {
  uint8_t pending = kPending;
  if (!state_.compare_exchange_strong(pending, kStoring, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
    return false;
  }
  result_ = std::move(result);
  // Taken before kDone: from then on the waiter may Take and go.
  std::function<void()> wake = std::move(wake_);
  std::weak_ptr<Process> process = std::move(process_);
  // seq_cst, paired with WaitUntil: either it sees kDone before it sleeps,
  // or this sees its flag and passes the mutex, which re-checks its wait.
  state_.store(kDone, std::memory_order_seq_cst);
  if (thread_waiting_.load(std::memory_order_seq_cst)) {
    absl::MutexLock pass(&mu_);
  }
  if (wake) wake();
  if (std::shared_ptr<Process> p = process.lock(); p && p->TryClaim()) {
    p->host()->Schedule(std::move(p));
  }
  return true;
}

bool CallSlot::WaitUntil(absl::Time deadline) {
  // A local reply usually comes within a few microseconds: spin briefly
  // before sleeping, since waking a sleeping thread costs tens of
  // microseconds on small VMs (see shared/BASELINES.md).
  if (SpinUntil(std::min(deadline, base::Now() + kSpin), [this] { return done(); })) return true;
  thread_waiting_.store(true, std::memory_order_seq_cst);
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(
      absl::Condition(
          +[](CallSlot* s) { return s->state_.load(std::memory_order_seq_cst) == kDone; }, this),
      deadline);
  return done();
}

absl::StatusOr<Message> CallSlot::Take() {
  if (!done()) {
    return absl::InternalError(
        "polis bug: a call's outcome was taken before the call settled");
  }
  return std::move(result_);
}

// --- CallTable ---

uint64_t CallTable::Add(std::shared_ptr<CallSlot> slot, absl::Time deadline) {
  absl::Time arm_at = absl::InfiniteFuture();
  // A slot without a ref draws one, outside the lock.
  const bool fresh = slot->ref() == 0;
  uint64_t ref = fresh ? RandomRef() : slot->ref();
  {
    absl::MutexLock lock(&mu_);
    CallSlot* s = slot.get();
    // Calls come and go: every settled call may leave a tombstone in the
    // map, which it sweeps when they fill its spare room. Kept at least
    // twice as large as what it holds, it has room for many (a table under
    // 7/8 full would sweep all of itself every few calls).
    if (slots_.capacity() < 2 * slots_.size() + 16) slots_.reserve(slots_.capacity() + 1);
    // try_emplace leaves `slot` alone when the ref is taken: a fresh ref is
    // drawn again; a given one (from NextRef, never twice in the table) is
    // refused, since the buckets must only ever hold slots the map holds.
    while (!slots_.try_emplace(ref, std::move(slot)).second) {
      if (!fresh) return 0;
      ref = RandomRef();
    }
    if (fresh) s->ref_ = ref;
    if (deadline < absl::InfiniteFuture()) {
      s->deadline_ = deadline;
      const absl::Time due = Link(s);
      // Usually an armed timer fires before: calls made later with the same
      // timeout have later deadlines.
      if (due < armed_) armed_ = arm_at = due;
    }
  }
  if (arm_at < absl::InfiniteFuture()) Arm(arm_at);
  return ref;
}

uint64_t CallTable::NextRef() {
  for (;;) {
    const uint64_t ref = RandomRef();
    absl::MutexLock lock(&mu_);
    if (!slots_.contains(ref)) return ref;
  }
}

std::shared_ptr<CallSlot> CallTable::TakeReply(uint64_t ref, std::string_view dialed,
                                               bool* foreign) {
  *foreign = false;
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(ref);
  if (it == slots_.end()) return nullptr;
  if (dialed.empty() || it->second->endpoint() != dialed) {
    *foreign = true;
    return nullptr;
  }
  return Remove(it);
}

std::shared_ptr<CallSlot> CallTable::Take(uint64_t ref) {
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(ref);
  if (it == slots_.end()) return nullptr;
  return Remove(it);
}

absl::StatusOr<Message> CallTable::Settle(const std::shared_ptr<CallSlot>& slot,
                                          absl::Status why) {
  std::shared_ptr<CallSlot> mine;
  {
    absl::MutexLock lock(&mu_);
    // This slot, not another call's that drew the same ref since.
    auto it = slots_.find(slot->ref());
    if (it != slots_.end() && it->second == slot) mine = Remove(it);
  }
  if (mine) mine->Complete(std::move(why));
  // Taken by another thread: between its Take and its Complete, the slot is
  // out of the table and still pending.
  slot->WaitUntil(absl::InfiniteFuture());
  return slot->Take();
}

std::vector<std::shared_ptr<CallSlot>> CallTable::TakeForNode(const std::string& node) {
  std::vector<std::shared_ptr<CallSlot>> out;
  absl::MutexLock lock(&mu_);
  // Found first, then removed: a removal may rehash the map (Remove).
  std::vector<uint64_t> refs;
  for (const auto& [ref, slot] : slots_) {
    if (slot->target_node() == node) refs.push_back(ref);
  }
  for (uint64_t ref : refs) out.push_back(Remove(slots_.find(ref)));
  return out;
}

std::vector<std::shared_ptr<CallSlot>> CallTable::TakeAll() {
  std::vector<std::shared_ptr<CallSlot>> out;
  absl::MutexLock lock(&mu_);
  for (auto& [ref, s] : slots_) {
    s->bucket_ = nullptr;
    s->prev_ = s->next_ = nullptr;
    out.push_back(std::move(s));
  }
  slots_.clear();  // frees a large table (Abseil's clear)
  buckets_.clear();
  last_ = nullptr;
  deadlines_ = 0;
  return out;
}

size_t CallTable::size() const {
  absl::MutexLock lock(&mu_);
  return slots_.size();
}

size_t CallTable::deadlines() const {
  absl::MutexLock lock(&mu_);
  return deadlines_;
}

size_t CallTable::buckets() const {
  absl::MutexLock lock(&mu_);
  return buckets_.size();
}

void CallTable::ShrinkIfSparse() {
  // After a burst the map would keep its peak size for good. Shrunk when
  // under 1/16 full (Add keeps it at least twice what it holds: the gap
  // makes a shrink rare, O(1) per call amortized).
  if (slots_.capacity() > kShrinkAbove && slots_.size() * 16 < slots_.capacity()) {
    slots_.rehash(0);  // to fit what it holds
  }
}

size_t CallTable::capacity() const {
  absl::MutexLock lock(&mu_);
  return slots_.capacity();
}

std::shared_ptr<CallSlot> CallTable::Remove(
    absl::flat_hash_map<uint64_t, std::shared_ptr<CallSlot>>::iterator it) {
  std::shared_ptr<CallSlot> s = std::move(it->second);
  slots_.erase(it);
  if (s->bucket_ != nullptr) Unlink(s.get());
  ShrinkIfSparse();
  return s;
}

void CallTable::ExpireDue() {
  std::vector<std::shared_ptr<CallSlot>> expired;
  absl::Time next = absl::InfiniteFuture();
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = base::Now();
    while (!buckets_.empty()) {
      auto first = buckets_.begin();
      if (first->second.due > now) {
        next = first->second.due;
        break;
      }
      DeadlineBucket& b = first->second;
      if (b.head == nullptr) {  // last_, left empty.
        if (&b == last_) last_ = nullptr;
        buckets_.erase(first);
        continue;
      }
      // Unlinking the bucket's last slot may drop the bucket.
      expired.push_back(Remove(slots_.find(b.head->ref())));
    }
    armed_ = next;
  }
  if (next < absl::InfiniteFuture()) Arm(next);
  // A bucket keeps the order added; calls due together go in deadline order.
  std::stable_sort(expired.begin(), expired.end(),
                   [](const auto& a, const auto& b) { return a->deadline_ < b->deadline_; });
  for (auto& s : expired) {
    s->expired_ = true;  // Before Complete publishes the outcome.
    s->Complete(absl::DeadlineExceededError("call timed out"));
  }
}

void CallTable::Arm(absl::Time at) {
  // A timer armed for a deadline settled meanwhile just finds nothing due.
  timers_->Schedule(at, [this] { ExpireDue(); });
}

// The buckets: a slot is in the list of the millisecond its deadline rounds
// up to; last_ saves the map lookup for the calls that follow it.

absl::Time CallTable::Link(CallSlot* s) {
  DeadlineBucket* b = last_;
  if (b == nullptr || !(b->after < s->deadline_ && s->deadline_ <= b->due)) {
    int64_t ms = absl::ToUnixMillis(s->deadline_);  // Rounded down.
    if (ms < std::numeric_limits<int64_t>::max() && absl::FromUnixMillis(ms) < s->deadline_) ++ms;
    b = &buckets_[ms];
    if (b->head == nullptr) {  // New (or last_ itself, empty).
      b->unix_ms = ms;
      b->due = absl::FromUnixMillis(ms);
      b->after = ms > std::numeric_limits<int64_t>::min() ? absl::FromUnixMillis(ms - 1)
                                                          : absl::InfinitePast();
    }
    if (last_ != nullptr && last_ != b && last_->head == nullptr) {
      buckets_.erase(last_->unix_ms);
    }
    last_ = b;
  }
  s->bucket_ = b;
  s->prev_ = b->tail;
  s->next_ = nullptr;
  (b->tail != nullptr ? b->tail->next_ : b->head) = s;
  b->tail = s;
  ++deadlines_;
  return b->due;
}

void CallTable::Unlink(CallSlot* s) {
  DeadlineBucket* b = s->bucket_;
  (s->prev_ != nullptr ? s->prev_->next_ : b->head) = s->next_;
  (s->next_ != nullptr ? s->next_->prev_ : b->tail) = s->prev_;
  s->bucket_ = nullptr;
  s->prev_ = s->next_ = nullptr;
  --deadlines_;
  if (b->head == nullptr && b != last_) buckets_.erase(b->unix_ms);
}

}  // namespace polis::internal
