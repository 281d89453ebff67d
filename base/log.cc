#include "base/log.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/trace_context.h"

namespace polis::log {
namespace {

Level Threshold() {
  static const Level level = [] {
    const char* v = std::getenv("POLIS_LOG");
    if (v == nullptr) return WARNING;
    if (std::strcmp(v, "DEBUG") == 0) return DEBUG;
    if (std::strcmp(v, "INFO") == 0) return INFO;
    if (std::strcmp(v, "ERROR") == 0) return ERROR;
    return WARNING;
  }();
  return level;
}

const char* Name(Level l) {
  switch (l) {
    case DEBUG: return "D";
    case INFO: return "I";
    case WARNING: return "W";
    default: return "E";
  }
}

}  // namespace

bool Enabled(Level level) { return level >= Threshold(); }

Line::Line(Level level, const char* file, int line) {
  const char* base = std::strrchr(file, '/');
  out_ << Name(level) << absl::FormatTime("%H:%M:%E6S", absl::Now(), absl::LocalTimeZone())
       << " " << (base ? base + 1 : file) << ":" << line << "] ";
  // A line written while a handler runs (or under a ScopedTrace) names the
  // trace and span it belongs to, so logs and traces can be joined.
  if (const TraceContext* t = base::CurrentTrace(); t != nullptr && !t->trace_id.empty()) {
    out_ << "trace_id=" << t->trace_id.Hex() << " span_id=" << SpanIdHex(t->span_id) << " ";
  }
}

Line::~Line() {
  out_ << '\n';
  std::string s = out_.str();
  ssize_t ignored = ::write(STDERR_FILENO, s.data(), s.size());
  (void)ignored;
}

}  // namespace polis::log
