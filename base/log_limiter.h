// base/log_limiter.h — at most N log lines per key per interval, then one
// count of what was held back.
//
// A peer can make a node log once per message it sends (a bad frame, an
// unknown system message, a refused reply). Logged as is, a flood of them
// costs the node 100-400 bytes of stderr each and buries everything else.
// A LogLimiter admits the first `lines` lines of a key within `interval`;
// the rest of that interval's lines are only counted, and the next admitted
// line of the key reports how many were suppressed ("... 812 more
// suppressed"). Keys are short strings chosen by the caller (a reason, a
// status code, a peer). At most `max_keys` keys are tracked; lines of further
// keys share one overflow key (""), so a peer that invents keys cannot grow
// the table.
//
// Thread-safety: thread-safe (one mutex, taken only on the logging path,
// never on a good message's path).
//
// Example:
//   static base::LogLimiter limiter(/*lines=*/5, absl::Seconds(10));
//   uint64_t suppressed = 0;
//   if (limiter.Admit("bad frame", base::Now(), &suppressed))
//     POLIS_LOG(WARNING) << "bad frame: " << why << base::Suppressed(suppressed);
#ifndef POLIS_BASE_LOG_LIMITER_H_
#define POLIS_BASE_LOG_LIMITER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace polis::base {

class LogLimiter {
 public:
  static constexpr size_t kDefaultMaxKeys = 256;

  LogLimiter(int lines, absl::Duration interval, size_t max_keys = kDefaultMaxKeys);

  // True if a line for `key` at `now` may be written. When it returns true,
  // `*suppressed` (if not null) is set to the number of lines of this key
  // refused since the last admitted one (0 if none).
  bool Admit(absl::string_view key, absl::Time now, uint64_t* suppressed = nullptr);

  // Lines refused so far, all keys.
  uint64_t total_suppressed() const;

 private:
  struct Window {
    absl::Time start = absl::InfinitePast();
    int admitted = 0;
    uint64_t suppressed = 0;
  };

  const int lines_;
  const absl::Duration interval_;
  const size_t max_keys_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Window> windows_ ABSL_GUARDED_BY(mu_);
  uint64_t total_suppressed_ ABSL_GUARDED_BY(mu_) = 0;
};

// "" if nothing was suppressed, else " (... N more suppressed)": appended to
// an admitted line.
std::string Suppressed(uint64_t n);

}  // namespace polis::base

#endif  // POLIS_BASE_LOG_LIMITER_H_
