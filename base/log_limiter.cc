// base/log_limiter.cc — see log_limiter.h.
#include "base/log_limiter.h"

#include "absl/strings/str_cat.h"

namespace polis::base {

LogLimiter::LogLimiter(int lines, absl::Duration interval, size_t max_keys)
    : lines_(lines), interval_(interval), max_keys_(max_keys) {}

bool LogLimiter::Admit(absl::string_view key, absl::Time now, uint64_t* suppressed) {
  absl::MutexLock lock(&mu_);
  auto it = windows_.find(key);
  if (it == windows_.end()) {
    if (windows_.size() >= max_keys_) key = absl::string_view();
    it = windows_.try_emplace(std::string(key)).first;
  }
  Window& w = it->second;
  if (now - w.start >= interval_) {
    w.start = now;
    w.admitted = 0;
  }
  if (w.admitted >= lines_) {
    ++w.suppressed;
    ++total_suppressed_;
    return false;
  }
  ++w.admitted;
  if (suppressed != nullptr) *suppressed = w.suppressed;
  w.suppressed = 0;
  return true;
}

uint64_t LogLimiter::total_suppressed() const {
  absl::MutexLock lock(&mu_);
  return total_suppressed_;
}

std::string Suppressed(uint64_t n) {
  if (n == 0) return std::string();
  return absl::StrCat(" (... ", n, " more suppressed)");
}

}  // namespace polis::base
