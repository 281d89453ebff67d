// tools/child_process.h — a child OS process that is always stopped.
//
// Starts a program with a pipe on its stdin and stdout, reads the first line
// it prints (its "ready" line), and stops it when destroyed: closes its stdin,
// sends SIGTERM, waits up to a few seconds, then SIGKILL. The child also gets
// SIGKILL if this process dies first (PR_SET_PDEATHSIG).
//
// Thread-safety: one owner thread.
//
// Example:
//   auto peer = ChildProcess::Start({"/proc/self/exe", "bench-peer"}, absl::Seconds(10));
//   std::string ready = (*peer)->first_line();   // "ready tcp://... tcp://..."
#ifndef POLIS_TOOLS_CHILD_PROCESS_H_
#define POLIS_TOOLS_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace polis::tools {

class ChildProcess {
 public:
  // Runs `argv` and waits up to `ready_timeout` for its first line.
  // UNAVAILABLE if it cannot start, exits, or prints nothing in time (it is
  // then stopped).
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                             absl::Duration ready_timeout);
  ~ChildProcess();  // Stops the child and reaps it.

  const std::string& first_line() const { return first_line_; }
  pid_t pid() const { return pid_; }

 private:
  ChildProcess() = default;

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string first_line_;
};

}  // namespace polis::tools

#endif  // POLIS_TOOLS_CHILD_PROCESS_H_
