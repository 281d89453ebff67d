#include "node/internal/call_slot.h"

#include <algorithm>

namespace polis::internal {
namespace {

constexpr absl::Duration kSpin = absl::Microseconds(50);

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

bool CallSlot::Complete(absl::StatusOr<Message> result) {
  std::function<void()> wake;
  {
    absl::MutexLock lock(&mu_);
    if (done_) return false;
    done_ = true;
    result_ = std::move(result);
    wake = std::move(wake_);
  }
  done_hint_.store(true, std::memory_order_release);
  if (wake) wake();
  return true;
}

bool CallSlot::done() const {
  absl::MutexLock lock(&mu_);
  return done_;
}

bool CallSlot::WaitUntil(absl::Time deadline) {
  // A local reply usually comes within a few microseconds: spin briefly
  // before sleeping, since waking a sleeping thread costs tens of
  // microseconds on small VMs (see shared/BASELINES.md).
  const absl::Time spin_until = std::min(deadline, absl::Now() + kSpin);
  while (!done_hint_.load(std::memory_order_acquire) && absl::Now() < spin_until) {
    CpuRelax();
  }
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(&done_), deadline);
  return done_;
}

absl::StatusOr<Message> CallSlot::Take() {
  absl::MutexLock lock(&mu_);
  return std::move(result_);
}

uint64_t CallTable::NextRef() {
  absl::MutexLock lock(&mu_);
  return next_ref_++;
}

void CallTable::Add(std::shared_ptr<CallSlot> slot) {
  absl::MutexLock lock(&mu_);
  uint64_t ref = slot->ref();
  slots_.emplace(ref, std::move(slot));
}

std::shared_ptr<CallSlot> CallTable::Take(uint64_t ref) {
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(ref);
  if (it == slots_.end()) return nullptr;
  std::shared_ptr<CallSlot> s = std::move(it->second);
  slots_.erase(it);
  return s;
}

std::vector<std::shared_ptr<CallSlot>> CallTable::TakeForNode(const std::string& node) {
  std::vector<std::shared_ptr<CallSlot>> out;
  absl::MutexLock lock(&mu_);
  for (auto it = slots_.begin(); it != slots_.end();) {
    if (it->second->target_node() == node) {
      out.push_back(std::move(it->second));
      slots_.erase(it++);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<std::shared_ptr<CallSlot>> CallTable::TakeAll() {
  std::vector<std::shared_ptr<CallSlot>> out;
  absl::MutexLock lock(&mu_);
  for (auto& [ref, s] : slots_) out.push_back(std::move(s));
  slots_.clear();
  return out;
}

}  // namespace polis::internal
