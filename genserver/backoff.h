// genserver/backoff.h — restart pacing for supervisors: backoff delays and
// the restart-intensity window.
//
// BackoffDelay is a pure function of the policy, the attempt number and a
// random generator, so tests pin it with a seeded engine. RestartIntensity
// counts restarts in a sliding time window; the supervisor asks it before
// every automatic restart and escalates when it says no.
//
// Thread-safety: BackoffDelay and ValidateBackoff are thread-safe (the
// generator passed in is the caller's). RestartIntensity is not
// synchronized: one owner (a supervisor's process) uses it.
//
// Example:
//   std::mt19937_64 rng(42);
//   absl::Duration d = polis::BackoffDelay(ExponentialBackoff(absl::Milliseconds(100),
//                                                             absl::Seconds(5)), 3, rng);
//   polis::RestartIntensity intensity(3, absl::Seconds(5));
//   if (!intensity.Allow(absl::Now())) { /* escalate */ }
#ifndef POLIS_GENSERVER_BACKOFF_H_
#define POLIS_GENSERVER_BACKOFF_H_

#include <deque>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "polis/supervisor.pb.h"

namespace polis {

// Builders for the Backoff proto.
supervision::Backoff NoBackoff();
supervision::Backoff ConstantBackoff(absl::Duration delay);
// `jitter` is a fraction in [0, 1]; `multiplier` >= 1.
supervision::Backoff ExponentialBackoff(absl::Duration initial, absl::Duration max,
                                        double multiplier = 2.0, double jitter = 0.0);

// INVALID_ARGUMENT for negative delays, a multiplier below 1 (other than
// the 0 default) or a jitter outside [0, 1]. An unset policy is valid (none).
absl::Status ValidateBackoff(const supervision::Backoff& backoff);

// Delay before restart number `attempt` (1 = first restart after a
// failure) of one child. Zero for no policy. Exponential: min(max,
// initial * multiplier^(attempt-1)), then reduced by a random fraction
// of at most `jitter` drawn from `gen` — never above the cap. `gen` is
// used only when jitter > 0. Assumes ValidateBackoff passed.
absl::Duration BackoffDelay(const supervision::Backoff& backoff, int attempt,
                            absl::BitGenRef gen);

// At most `max_restarts` restarts within any window of `period`.
class RestartIntensity {
 public:
  RestartIntensity(int max_restarts, absl::Duration period)
      : max_restarts_(max_restarts), period_(period) {}

  // Records a restart at `now` and returns true if it is within the
  // limit; false if it is one too many (the restart must not happen; the
  // supervisor escalates). `now` must not go backwards.
  bool Allow(absl::Time now);

  // Restarts recorded within the window ending at `now`.
  int Count(absl::Time now);

  int max_restarts() const { return max_restarts_; }
  absl::Duration period() const { return period_; }

 private:
  void Expire(absl::Time now);

  int max_restarts_;
  absl::Duration period_;
  std::deque<absl::Time> restarts_;  // Oldest first.
};

}  // namespace polis

#endif  // POLIS_GENSERVER_BACKOFF_H_
