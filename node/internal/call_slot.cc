#include "node/internal/call_slot.h"

#include <algorithm>

#include "absl/random/random.h"
#include "base/clock.h"
#include "node/internal/process.h"
#include "node/internal/spin.h"
#include "node/internal/timer_queue.h"

namespace polis::internal {
namespace {

constexpr absl::Duration kSpin = absl::Microseconds(50);

}  // namespace

// --- CallSlot ---

std::shared_ptr<CallSlot> CallSlot::ForProcess(uint64_t ref, Process* process) {
  auto slot = std::make_shared<CallSlot>(ref, std::string(), nullptr);
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

void CallTable::Add(std::shared_ptr<CallSlot> slot, absl::Time deadline) {
  bool arm = false;
  {
    absl::MutexLock lock(&mu_);
    CallSlot* s = slot.get();
    // Refs come from NextRef, so never twice; the heap must only ever hold
    // slots the map holds.
    if (!slots_.emplace(s->ref(), std::move(slot)).second) return;
    if (deadline < absl::InfiniteFuture()) {
      s->deadline_ = deadline;
      HeapPush(s);
      // Usually an armed timer fires before: calls made later with the same
      // timeout have later deadlines.
      if (deadline < armed_) {
        armed_ = deadline;
        arm = true;
      }
    }
  }
  if (arm) Arm(deadline);
}

uint64_t CallTable::NextRef() {
  thread_local absl::BitGen gen;
  for (;;) {
    const uint64_t ref = absl::Uniform<uint64_t>(gen);
    if (ref == 0) continue;
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
  for (auto it = slots_.begin(); it != slots_.end();) {
    auto next = std::next(it);
    if (it->second->target_node() == node) out.push_back(Remove(it));
    it = next;
  }
  return out;
}

std::vector<std::shared_ptr<CallSlot>> CallTable::TakeAll() {
  std::vector<std::shared_ptr<CallSlot>> out;
  absl::MutexLock lock(&mu_);
  for (auto& [ref, s] : slots_) {
    s->deadline_ = absl::InfiniteFuture();
    out.push_back(std::move(s));
  }
  slots_.clear();
  heap_.clear();
  return out;
}

size_t CallTable::size() const {
  absl::MutexLock lock(&mu_);
  return slots_.size();
}

size_t CallTable::deadlines() const {
  absl::MutexLock lock(&mu_);
  return heap_.size();
}

std::shared_ptr<CallSlot> CallTable::Remove(
    absl::flat_hash_map<uint64_t, std::shared_ptr<CallSlot>>::iterator it) {
  std::shared_ptr<CallSlot> s = std::move(it->second);
  slots_.erase(it);
  if (s->deadline_ < absl::InfiniteFuture()) {
    HeapErase(s.get());
    s->deadline_ = absl::InfiniteFuture();
  }
  return s;
}

void CallTable::ExpireDue() {
  std::vector<std::shared_ptr<CallSlot>> expired;
  absl::Time next;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = base::Now();
    while (!heap_.empty() && heap_[0].when <= now) {
      expired.push_back(Remove(slots_.find(heap_[0].slot->ref())));
    }
    next = armed_ = heap_.empty() ? absl::InfiniteFuture() : heap_[0].when;
  }
  if (next < absl::InfiniteFuture()) Arm(next);
  for (auto& s : expired) {
    s->expired_ = true;  // Before Complete publishes the outcome.
    s->Complete(absl::DeadlineExceededError("call timed out"));
  }
}

void CallTable::Arm(absl::Time at) {
  // A timer armed for a deadline settled meanwhile just finds nothing due.
  timers_->Schedule(at, [this] { ExpireDue(); });
}

// The heap: heap_[0] has the earliest deadline; slot->heap_index_ is its
// position, so a settled call leaves in O(log n).

void CallTable::Place(size_t i, HeapEntry e) {
  heap_[i] = e;
  e.slot->heap_index_ = i;
}

void CallTable::HeapPush(CallSlot* s) {
  heap_.push_back(HeapEntry{s->deadline_, s});
  s->heap_index_ = heap_.size() - 1;
  SiftUp(s->heap_index_);
}

void CallTable::HeapErase(CallSlot* s) {
  const size_t i = s->heap_index_;
  const HeapEntry last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;  // It was the last.
  Place(i, last);
  SiftUp(i);
  SiftDown(last.slot->heap_index_);
}

void CallTable::SiftUp(size_t i) {
  const HeapEntry e = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!(e.when < heap_[parent].when)) break;
    Place(i, heap_[parent]);
    i = parent;
  }
  Place(i, e);
}

void CallTable::SiftDown(size_t i) {
  const HeapEntry e = heap_[i];
  const size_t n = heap_.size();
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1].when < heap_[child].when) ++child;
    if (!(heap_[child].when < e.when)) break;
    Place(i, heap_[child]);
    i = child;
  }
  Place(i, e);
}

}  // namespace polis::internal
