// genserver/backoff.cc — see backoff.h.
#include "genserver/backoff.h"

#include <algorithm>
#include <cmath>

#include "absl/random/distributions.h"

namespace polis {

supervision::Backoff NoBackoff() {
  supervision::Backoff b;
  b.mutable_none();
  return b;
}

supervision::Backoff ConstantBackoff(absl::Duration delay) {
  supervision::Backoff b;
  b.mutable_constant()->set_delay_ms(absl::ToInt64Milliseconds(delay));
  return b;
}

supervision::Backoff ExponentialBackoff(absl::Duration initial, absl::Duration max,
                                        double multiplier, double jitter) {
  supervision::Backoff b;
  supervision::ExponentialBackoff* e = b.mutable_exponential();
  e->set_initial_ms(absl::ToInt64Milliseconds(initial));
  e->set_max_ms(absl::ToInt64Milliseconds(max));
  e->set_multiplier(multiplier);
  e->set_jitter(jitter);
  return b;
}

absl::Status ValidateBackoff(const supervision::Backoff& backoff) {
  if (backoff.reset_after_ms() < 0) {
    return absl::InvalidArgumentError("backoff.reset_after_ms must be >= 0");
  }
  switch (backoff.policy_case()) {
    case supervision::Backoff::kConstant:
      if (backoff.constant().delay_ms() < 0) {
        return absl::InvalidArgumentError("backoff.constant.delay_ms must be >= 0");
      }
      return absl::OkStatus();
    case supervision::Backoff::kExponential: {
      const supervision::ExponentialBackoff& e = backoff.exponential();
      if (e.initial_ms() < 0 || e.max_ms() < 0) {
        return absl::InvalidArgumentError("backoff.exponential delays must be >= 0");
      }
      if (e.multiplier() != 0 && !(e.multiplier() >= 1.0)) {
        return absl::InvalidArgumentError("backoff.exponential.multiplier must be >= 1");
      }
      if (!(e.jitter() >= 0.0 && e.jitter() <= 1.0)) {
        return absl::InvalidArgumentError("backoff.exponential.jitter must be in [0, 1]");
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::Duration BackoffDelay(const supervision::Backoff& backoff, int attempt,
                            absl::BitGenRef gen) {
  attempt = std::max(attempt, 1);
  switch (backoff.policy_case()) {
    case supervision::Backoff::kConstant:
      return absl::Milliseconds(backoff.constant().delay_ms());
    case supervision::Backoff::kExponential: {
      const supervision::ExponentialBackoff& e = backoff.exponential();
      const double multiplier = e.multiplier() == 0 ? 2.0 : e.multiplier();
      const double cap = e.max_ms() > 0 ? static_cast<double>(e.max_ms()) : HUGE_VAL;
      // Computed in double and capped before converting: no overflow for
      // large attempts (pow gives inf, min gives the cap).
      double ms = std::min(cap, static_cast<double>(e.initial_ms()) *
                                    std::pow(multiplier, attempt - 1));
      if (!std::isfinite(ms)) ms = static_cast<double>(INT64_MAX / 2) / 1e6;
      if (e.jitter() > 0) ms *= 1.0 - e.jitter() * absl::Uniform(gen, 0.0, 1.0);
      return absl::Microseconds(static_cast<int64_t>(ms * 1000.0));
    }
    default:
      return absl::ZeroDuration();
  }
}

void RestartIntensity::Expire(absl::Time now) {
  while (!restarts_.empty() && restarts_.front() <= now - period_) restarts_.pop_front();
}

bool RestartIntensity::Allow(absl::Time now) {
  Expire(now);
  if (static_cast<int>(restarts_.size()) >= max_restarts_) return false;
  restarts_.push_back(now);
  return true;
}

int RestartIntensity::Count(absl::Time now) {
  Expire(now);
  return static_cast<int>(restarts_.size());
}

}  // namespace polis
