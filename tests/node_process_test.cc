// The test helper itself (tests/node_process.h): failures are reported
// clearly, timeouts are enforced, nothing is left running.
#include "tests/node_process.h"

#include <signal.h>
#include <sys/stat.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace polis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

bool Alive(pid_t pid) { return kill(pid, 0) == 0; }

TEST(NodeProcessTest, StartsReportsItsEndpointAndStopsCleanly) {
  auto node = NodeProcess::Start(
      {.name = "solo", .listen = "tcp://127.0.0.1:*", .serve = {"counter"}});
  ASSERT_THAT(node, IsOk());
  EXPECT_THAT((*node)->endpoint(), StartsWith("tcp://127.0.0.1:"));
  EXPECT_THAT((*node)->endpoint(), ::testing::Not(HasSubstr("*")));
  const pid_t pid = (*node)->pid();
  EXPECT_THAT((*node)->Stop(), IsOk());
  EXPECT_FALSE((*node)->running());
  EXPECT_FALSE(Alive(pid));  // Reaped: the pid is gone.
  EXPECT_THAT((*node)->Stop(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(NodeProcessTest, ANodeThatExitsBeforeReadyIsUnavailableWithItsStderr) {
  auto node = NodeProcess::Start({.name = "bad",
                                  .listen = "tcp://127.0.0.1:*",
                                  .serve = {"no_such_kind"}});
  EXPECT_THAT(node, StatusIs(absl::StatusCode::kUnavailable,
                             ::testing::AllOf(HasSubstr("before it was ready"),
                                              HasSubstr("no_such_kind"))));
}

TEST(NodeProcessTest, DestructorStopsAKilledPausedOrRunningNode) {
  pid_t pid;
  {
    auto node =
        NodeProcess::Start({.name = "paused", .listen = "tcp://127.0.0.1:*"});
    ASSERT_THAT(node, IsOk());
    pid = (*node)->pid();
    ASSERT_THAT((*node)->Pause(), IsOk());
  }
  EXPECT_FALSE(Alive(pid));
  auto node =
      NodeProcess::Start({.name = "killed", .listen = "tcp://127.0.0.1:*"});
  ASSERT_THAT(node, IsOk());
  (*node)->Kill();
  EXPECT_FALSE((*node)->running());
  (*node)->Kill();  // No-op.
}

TEST(RunProcessTest, CapturesExitCodeAndOutput) {
  auto r = RunPolis({"call", "counter", "{}"}, absl::Seconds(10));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_THAT(r->err,
              StartsWith("INVALID_ARGUMENT: --seed=ENDPOINT is required"));
  EXPECT_EQ(r->out, "");
  r = RunPolis({"help"}, absl::Seconds(10));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_THAT(r->out, StartsWith("usage:"));
}

TEST(RunProcessTest, KillsAChildThatOutlivesItsTimeout) {
  auto r = RunProcess({"/bin/sleep", "30"}, absl::Milliseconds(100));
  ASSERT_THAT(r, IsOk());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_LT(r->elapsed, absl::Seconds(5));
}

TEST(RunProcessTest, MissingBinaryIsNotFound) {
  EXPECT_THAT(RunProcess({"/nonexistent/polis"}, absl::Seconds(1)),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(ScratchDirTest, IsRemovedWithItsContents) {
  std::string path;
  {
    auto dir = ScratchDir::Create("polis-scratch");
    ASSERT_THAT(dir, IsOk());
    path = (*dir)->path();
    ASSERT_EQ(mkdir((*dir)->File("sub").c_str(), 0700), 0);
  }
  struct stat st;
  EXPECT_NE(stat(path.c_str(), &st), 0);
}

}  // namespace
}  // namespace polis::testing
