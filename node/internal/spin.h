// node/internal/spin.h — a bounded busy-wait, for waits that usually end
// within microseconds.
//
// Waking a sleeping thread costs tens of microseconds on small VMs (see
// shared/BASELINES.md), so a worker about to sleep, or a thread about to
// block on a local reply, first spins briefly on the condition it waits for.
//
// Thread-safety: a free function; `ready` must be safe to call repeatedly.
//
// Example:
//   if (SpinUntil(base::Now() + absl::Microseconds(50), [&] { return slot.done(); })) ...
#ifndef POLIS_NODE_INTERNAL_SPIN_H_
#define POLIS_NODE_INTERNAL_SPIN_H_

#include "absl/time/time.h"
#include "base/clock.h"

namespace polis::internal {

// Calls `ready()` until it returns true (then true) or `until` passes
// (then false), with the CPU's pause hint between calls.
template <typename Ready>
bool SpinUntil(absl::Time until, Ready ready) {
  for (;;) {
    if (ready()) return true;
    if (base::Now() >= until) return false;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_SPIN_H_
