// base/log.h — minimal leveled logging to stderr for every polis layer.
//
// Debian 12's Abseil (20220623) predates absl/log. POLIS_LOG(level) writes
// one line to stderr if `level` is at or above the threshold, which is read
// once from the environment variable POLIS_LOG (DEBUG, INFO, WARNING, ERROR;
// default WARNING). Switch to absl/log when the distribution ships it.
// A line written while a handler runs (or under a ScopedTrace) carries the
// trace it belongs to after the location: "trace_id=<32 hex> span_id=<16
// hex>" (base/trace_context.h), so logs and traces can be joined.
//
// Thread-safety: thread-safe; each line is written with one write(2).
//
// Example:
//   POLIS_LOG(WARNING) << "dropped a frame from " << peer << ": " << status;
#ifndef POLIS_BASE_LOG_H_
#define POLIS_BASE_LOG_H_

#include <sstream>

namespace polis::log {

enum Level { DEBUG = 0, INFO = 1, WARNING = 2, ERROR = 3 };

// True if messages at `level` are written.
bool Enabled(Level level);

class Line {
 public:
  Line(Level level, const char* file, int line);
  ~Line();
  std::ostream& stream() { return out_; }

 private:
  std::ostringstream out_;
};

// Turns `stream << ...` into void, so POLIS_LOG is one expression (safe
// after an unbraced `if`). `&` binds looser than `<<`.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace polis::log

#define POLIS_LOG(level)                                      \
  !::polis::log::Enabled(::polis::log::level)                 \
      ? (void)0                                               \
      : ::polis::log::Voidify() &                             \
            ::polis::log::Line(::polis::log::level, __FILE__, __LINE__).stream()

#endif  // POLIS_BASE_LOG_H_
