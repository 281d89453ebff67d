// tests/node_process.h — real `polis` processes for integration tests.
//
// NodeProcess runs `polis node` as a child process, waits (bounded) for its
// "node NAME listening on ENDPOINT" line and exposes the endpoint. It is
// always stopped and reaped: Stop() (SIGTERM, expects exit code 0), Kill()
// (SIGKILL), or the destructor (SIGTERM, then SIGKILL after a grace period),
// so a failed assertion leaves no process behind. Children also get SIGKILL
// if the thread that started them dies (PR_SET_PDEATHSIG).
//
// RunPolis runs one `polis` command (call, cast, send, node --config=...) to
// completion and captures its exit code, stdout and stderr; it is killed if
// it outlives its timeout. Polis is RunPolis for a test body (a run that
// cannot start is a test failure); FailedWith tells which error a run ended
// with, to retry one that means "not yet" (tests/wait.h, RetryUntil).
// ScratchDir (tests/scratch_dir.h) holds ipc sockets and config files.
//
// No sleeps: waits are poll() on pipes and pidfds with deadlines.
//
// Thread-safety: a NodeProcess has one owner thread. RunProcess / RunPolis /
// Polis are thread-safe (each run is independent); start a child from a
// thread that outlives it (the death signal follows the thread).
//
// Example:
//   auto dir = ScratchDir::Create();
//   auto a = NodeProcess::Start({.name = "a", .listen = "tcp://127.0.0.1:*",
//                                .serve = {"counter"}});
//   auto r = RunPolis({"call", "--seed=" + (*a)->endpoint(), "counter",
//   R"({"add": 5})"});
//   // r->exit_code == 0, r->out == "{\"value\":\"5\"}\n"
//   EXPECT_THAT((*a)->Stop(), IsOk());
#ifndef POLIS_TESTS_NODE_PROCESS_H_
#define POLIS_TESTS_NODE_PROCESS_H_

#include <sys/types.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/scratch_dir.h"

namespace polis::testing {

// The `polis` binary under test (POLIS_BINARY, set by the build).
const std::string& PolisBinary();

// How a finished (or killed) child ended, and what it printed.
struct ProcessResult {
  int exit_code = -1;  // Exit status if it exited; -1 if killed by a signal.
  int signal = 0;      // Terminating signal; 0 if it exited.
  bool timed_out = false;  // True if it was killed at the timeout.
  std::string out;         // Everything written to stdout.
  std::string err;         // Everything written to stderr.
  absl::Duration elapsed;  // From start to exit.

  // "exit code 1, 12ms; stdout: ...; stderr: ..." — for failure messages.
  std::string Summary() const;
};

// Runs `argv` (argv[0] is a path) with stdin from /dev/null until it exits
// or `timeout` passes (then SIGKILL; timed_out is set). Errors only if the
// child cannot be started (INTERNAL / NOT_FOUND for a missing binary); a
// failing child is a result, not an error.
absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         absl::Duration timeout);

// RunProcess of `polis args...`.
absl::StatusOr<ProcessResult> RunPolis(
    const std::vector<std::string>& args,
    absl::Duration timeout = absl::Seconds(20));

// RunPolis inside a test: a run that cannot start is a test failure
// (EXPECT), returned as a default ProcessResult (exit code -1).
ProcessResult Polis(const std::vector<std::string>& args,
                    absl::Duration timeout = absl::Seconds(20));

// Whether `r` is a command that failed (exit code 1) with an error of one
// of `codes` ("NOT_FOUND", "ABORTED"): its stderr starts with "CODE: ".
bool FailedWith(const ProcessResult& r,
                std::initializer_list<std::string_view> codes);

struct NodeProcessOptions {
  std::string name;    // --name
  std::string listen;  // --listen ("tcp://127.0.0.1:*", "ipc://PATH")
  std::vector<std::string> seeds;  // --seed=EP,EP...; none if empty
  std::vector<std::string> serve;  // --serve=KIND[:NAME],...; none if empty
  std::vector<std::string> extra_args;  // Appended as is (e.g. --config=FILE).
  // Run as `prefix... polis node ...`; the prefix must exec its command in
  // place (e.g. {"/usr/sbin/ip", "netns", "exec", "ns1"}), so signals reach
  // the node itself.
  std::vector<std::string> prefix;
  // The node runner to start, instead of {PolisBinary(), "node"}: e.g. a
  // user's binary calling polis::NodeMain (tools/node_main.h).
  std::vector<std::string> command;
  int threads = 2;                      // --threads; 0 = not passed.
  absl::Duration ready_timeout = absl::Seconds(20);
};

// A running `polis node` child process.
class NodeProcess {
 public:
  // Starts `polis node` and waits for its ready line. UNAVAILABLE (with the
  // child's exit status and stderr) if it exits first or is not ready within
  // options.ready_timeout (it is then killed and reaped).
  static absl::StatusOr<std::unique_ptr<NodeProcess>> Start(
      const NodeProcessOptions& options);

  // Stops a still-running child: SIGTERM, up to 5 s, then SIGKILL; reaps it.
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  const std::string& name() const { return name_; }
  // The endpoint from the ready line (the bound port for tcp://...:*).
  const std::string& endpoint() const { return endpoint_; }
  pid_t pid() const { return pid_; }
  // False once stopped, killed or reaped.
  bool running() const { return pid_ > 0; }

  // SIGTERM and wait up to `timeout` for the exit. OK only for exit code 0
  // (a clean shutdown). INTERNAL (with exit status and stderr) for another
  // exit; DEADLINE_EXCEEDED if it did not exit in time (it is then killed);
  // FAILED_PRECONDITION if it is not running. Always reaps.
  absl::Status Stop(absl::Duration timeout = absl::Seconds(10));
  // SIGKILL and reap (a crash, as the cluster sees it). No-op if not running.
  void Kill();
  // SIGSTOP, and wait until every thread of the child has stopped: it then
  // answers nothing, but its sockets stay open. FAILED_PRECONDITION if it is
  // not running or exits instead.
  absl::Status Pause();
  // SIGCONT, and wait until it runs again. FAILED_PRECONDITION as Pause.
  absl::Status Resume();

  // Everything the child wrote to stderr so far.
  std::string Stderr() const;

  // The next line the child writes to stdout after its ready line (without
  // the newline), waiting up to `timeout` (e.g. the "serves metrics at"
  // line `--metrics` adds). DEADLINE_EXCEEDED if none comes in time,
  // UNAVAILABLE if its stdout closes first.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout = absl::Seconds(10));

 private:
  NodeProcess() = default;
  // Waits up to `timeout` for the child to exit and reaps it. False on timeout.
  bool WaitForExit(absl::Duration timeout, int* wait_status);
  // Sends `signal` and waits (waitid `wait_for`) for the `expected_code`
  // report.
  absl::Status SignalAndWait(int signal, int wait_for, int expected_code);

  std::string name_;
  std::string endpoint_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int stdout_fd_ = -1;  // Read end of the child's stdout pipe.
  std::string stdout_rest_;  // Read from stdout after the last line returned.
  int stderr_fd_ = -1;  // memfd the child's stderr goes to.
};

}  // namespace polis::testing

#endif  // POLIS_TESTS_NODE_PROCESS_H_
