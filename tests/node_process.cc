// tests/node_process.cc — see node_process.h.
#include "tests/node_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

#ifndef POLIS_BINARY
#error "POLIS_BINARY must name the polis executable (tests/CMakeLists.txt)"
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char** environ;

namespace polis::testing {
namespace {

// Closes an fd when it goes out of scope (unless released).
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void Close() {
    if (fd_ >= 0) close(std::exchange(fd_, -1));
  }

 private:
  int fd_;
};

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return absl::StrCat("wait status ", status);
}

// Everything in a memfd (or regular file), from the start.
std::string ReadWholeFile(int fd) {
  std::string out;
  char buf[4096];
  off_t offset = 0;
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof(buf), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    offset += n;
  }
  return out;
}

int PollMillis(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))),
      60 * 60 * 1000));
}

// Waits until `fd` is readable or `deadline` passes. False on timeout.
bool PollReadable(int fd, absl::Time deadline) {
  for (;;) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    int n = poll(&p, 1, PollMillis(deadline));
    if (n > 0) return true;
    if (n == 0) {
      if (absl::Now() >= deadline) return false;
      continue;  // Rounding: poll woke a little early.
    }
    if (errno != EINTR) return false;
  }
}

struct Child {
  pid_t pid = -1;
  int pidfd = -1;  // Readable once the child has exited.
};

// fork + execve of argv with the given stdout/stderr; stdin is /dev/null.
// The child starts with no blocked signals, default dispositions for the
// signals tests send, and dies with the calling thread (PDEATHSIG).
absl::StatusOr<Child> Spawn(const std::vector<std::string>& argv, int stdout_fd,
                            int stderr_fd) {
  if (argv.empty()) return absl::InvalidArgumentError("Spawn: empty argv");
  if (access(argv[0].c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat(argv[0], ": ", std::strerror(errno)));
  }
  Fd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (devnull.get() < 0) return ErrnoError("open /dev/null");
  int exec_error[2];  // The child reports a failed execve on it.
  if (pipe2(exec_error, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  Fd exec_error_read(exec_error[0]), exec_error_write(exec_error[1]);

  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls (the test process has threads).
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const int in_fd = devnull.get(), err_report = exec_error_write.get();

  pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(stdout_fd, STDOUT_FILENO) < 0 ||
        dup2(stderr_fd, STDERR_FILENO) < 0) {
      _exit(127);
    }
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGCHLD})
      sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // Whatever the test process has open (sockets, eventfds) stays out.
    syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    execve(args[0], args.data(), environ);
    int e = errno;
    (void)!write(err_report, &e, sizeof(e));
    _exit(127);
  }
  exec_error_write.Close();  // Close our copy: EOF below means execve worked.
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(exec_error_read.get(), &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  if (n == sizeof(child_errno)) {
    waitpid(pid, nullptr, 0);
    return absl::InternalError(
        absl::StrCat("execve ", argv[0], ": ", std::strerror(child_errno)));
  }
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    absl::Status s = ErrnoError("pidfd_open");
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return s;
  }
  fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  return Child{pid, pidfd};
}

// Waits for `child` to exit until `deadline`; reaps it if it did.
bool WaitChild(const Child& child, absl::Time deadline, int* wait_status) {
  if (!PollReadable(child.pidfd, deadline)) return false;
  while (waitpid(child.pid, wait_status, 0) < 0 && errno == EINTR) {
  }
  return true;
}

}  // namespace

const std::string& PolisBinary() {
  static const std::string* const path = new std::string(POLIS_BINARY);
  return *path;
}

// --- RunProcess ---

std::string ProcessResult::Summary() const {
  std::string how = timed_out     ? "killed at its timeout"
                    : signal != 0 ? absl::StrCat("killed by signal ", signal)
                                  : absl::StrCat("exit code ", exit_code);
  return absl::StrCat(how, " after ", absl::FormatDuration(elapsed),
                      "; stdout: \"", out, "\"; stderr: \"", err, "\"");
}

absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         absl::Duration timeout) {
  // Output goes to memory files, so a chatty child never blocks on a full
  // pipe and no reader thread is needed.
  Fd out(memfd_create("polis-test-stdout", MFD_CLOEXEC));
  Fd err(memfd_create("polis-test-stderr", MFD_CLOEXEC));
  if (out.get() < 0 || err.get() < 0) return ErrnoError("memfd_create");
  const absl::Time start = absl::Now();
  absl::StatusOr<Child> child = Spawn(argv, out.get(), err.get());
  if (!child.ok()) return child.status();
  Fd pidfd(child->pidfd);

  ProcessResult result;
  int status = 0;
  if (!WaitChild(*child, start + timeout, &status)) {
    result.timed_out = true;
    kill(child->pid, SIGKILL);
    while (waitpid(child->pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  result.elapsed = absl::Now() - start;
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  result.out = ReadWholeFile(out.get());
  result.err = ReadWholeFile(err.get());
  return result;
}

absl::StatusOr<ProcessResult> RunPolis(const std::vector<std::string>& args,
                                       absl::Duration timeout) {
  std::vector<std::string> argv = {PolisBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, timeout);
}

ProcessResult Polis(const std::vector<std::string>& args,
                    absl::Duration timeout) {
  absl::StatusOr<ProcessResult> r = RunPolis(args, timeout);
  EXPECT_THAT(r, IsOk());
  return r.ok() ? *std::move(r) : ProcessResult();
}

bool FailedWith(const ProcessResult& r,
                std::initializer_list<std::string_view> codes) {
  if (r.exit_code != 1) return false;
  for (std::string_view code : codes) {
    if (absl::StartsWith(r.err, std::string(code) + ": ")) return true;
  }
  return false;
}

// --- NodeProcess ---

absl::StatusOr<std::unique_ptr<NodeProcess>> NodeProcess::Start(
    const NodeProcessOptions& options) {
  std::vector<std::string> argv = options.command;
  if (argv.empty()) argv = {PolisBinary(), "node"};
  argv.push_back("--name=" + options.name);
  if (!options.listen.empty()) argv.push_back("--listen=" + options.listen);
  if (!options.seeds.empty())
    argv.push_back("--seed=" + absl::StrJoin(options.seeds, ","));
  if (!options.serve.empty())
    argv.push_back("--serve=" + absl::StrJoin(options.serve, ","));
  if (options.threads > 0)
    argv.push_back(absl::StrCat("--threads=", options.threads));
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  argv.insert(argv.begin(), options.prefix.begin(), options.prefix.end());

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  Fd out_read(out[0]), out_write(out[1]);
  Fd err(memfd_create("polis-node-stderr", MFD_CLOEXEC));
  if (err.get() < 0) return ErrnoError("memfd_create");
  absl::StatusOr<Child> child = Spawn(argv, out_write.get(), err.get());
  if (!child.ok()) return child.status();
  out_write.Close();  // Only the child writes: EOF when it exits.

  std::unique_ptr<NodeProcess> node(new NodeProcess());
  node->name_ = options.name;
  node->pid_ = child->pid;
  node->pidfd_ = child->pidfd;
  node->stdout_fd_ = out_read.release();
  node->stderr_fd_ = err.release();

  // Read up to the end of the first line, within the deadline.
  const absl::Time deadline = absl::Now() + options.ready_timeout;
  const std::string what = absl::StrCat("polis node ", options.name, " (",
                                        absl::StrJoin(argv, " "), ")");
  std::string line;
  absl::Status failure;
  while (line.find('\n') == std::string::npos) {
    if (!PollReadable(node->stdout_fd_, deadline)) {
      failure = absl::UnavailableError(
          absl::StrCat(what, ": not ready within ",
                       absl::FormatDuration(options.ready_timeout)));
      break;
    }
    char buf[512];
    ssize_t n = read(node->stdout_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int status = 0;
      std::string how = "closed its stdout";
      if (WaitChild(*child, absl::Now() + absl::Seconds(5), &status)) {
        node->pid_ = -1;
        how = DescribeWaitStatus(status);
      }
      failure = absl::UnavailableError(
          absl::StrCat(what, ": ", how, " before it was ready"));
      break;
    }
    line.append(buf, static_cast<size_t>(n));
  }
  if (failure.ok()) {
    node->stdout_rest_ = line.substr(line.find('\n') + 1);
    line.resize(line.find('\n'));
    absl::string_view rest = line;
    const std::string prefix =
        absl::StrCat("node ", options.name, " listening on ");
    if (absl::ConsumePrefix(&rest, prefix) && !rest.empty()) {
      node->endpoint_ = std::string(rest);
      return node;
    }
    failure = absl::UnavailableError(
        absl::StrCat(what, ": unexpected first line \"", line, "\""));
  }
  node->Kill();
  return absl::Status(
      failure.code(),
      absl::StrCat(failure.message(), "; stderr:\n", node->Stderr()));
}

absl::StatusOr<std::string> NodeProcess::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (stdout_rest_.find('\n') == std::string::npos) {
    if (!PollReadable(stdout_fd_, deadline)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "polis node ", name_, ": no line on stdout within ", absl::FormatDuration(timeout)));
    }
    char buf[512];
    ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::UnavailableError(absl::StrCat("polis node ", name_, ": stdout closed"));
    }
    stdout_rest_.append(buf, static_cast<size_t>(n));
  }
  const size_t end = stdout_rest_.find('\n');
  std::string line = stdout_rest_.substr(0, end);
  stdout_rest_.erase(0, end + 1);
  return line;
}

NodeProcess::~NodeProcess() {
  if (running()) {
    kill(pid_, SIGCONT);  // In case it was paused.
    kill(pid_, SIGTERM);
    int status;
    if (!WaitForExit(absl::Seconds(5), &status)) Kill();
  }
  for (int fd : {pidfd_, stdout_fd_, stderr_fd_}) {
    if (fd >= 0) close(fd);
  }
}

bool NodeProcess::WaitForExit(absl::Duration timeout, int* wait_status) {
  if (!WaitChild(Child{pid_, pidfd_}, absl::Now() + timeout, wait_status))
    return false;
  pid_ = -1;
  return true;
}

absl::Status NodeProcess::Stop(absl::Duration timeout) {
  if (!running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("node ", name_, " is not running"));
  }
  kill(pid_, SIGTERM);
  int status = 0;
  if (!WaitForExit(timeout, &status)) {
    Kill();
    return absl::DeadlineExceededError(absl::StrCat(
        "node ", name_, " did not exit within ", absl::FormatDuration(timeout),
        " of SIGTERM (killed); stderr:\n", Stderr()));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("node ", name_, " ended with ", DescribeWaitStatus(status),
                   " after SIGTERM; stderr:\n", Stderr()));
}

void NodeProcess::Kill() {
  if (!running()) return;
  kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

absl::Status NodeProcess::Pause() {
  return SignalAndWait(SIGSTOP, WSTOPPED, CLD_STOPPED);
}

absl::Status NodeProcess::Resume() {
  return SignalAndWait(SIGCONT, WCONTINUED, CLD_CONTINUED);
}

absl::Status NodeProcess::SignalAndWait(int signal, int wait_for,
                                        int expected_code) {
  if (!running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("node ", name_, " is not running"));
  }
  kill(pid_, signal);
  // A stop takes effect asynchronously (each thread stops on its way back
  // to user space): wait for the kernel's report. WNOWAIT leaves an exit
  // to be reaped by Stop/Kill/the destructor.
  siginfo_t info{};
  while (waitid(P_PID, pid_, &info, wait_for | WEXITED | WNOWAIT) < 0) {
    if (errno != EINTR) return ErrnoError("waitid");
  }
  if (info.si_code != expected_code) {
    return absl::FailedPreconditionError(absl::StrCat(
        "node ", name_, " ended instead (si_code ", info.si_code, ")"));
  }
  return absl::OkStatus();
}

std::string NodeProcess::Stderr() const { return ReadWholeFile(stderr_fd_); }

}  // namespace polis::testing
