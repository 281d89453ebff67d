// Supervision in a real `polis node` process, driven by `polis call` runs:
// a crashed server is restarted with fresh state by the node's root
// supervisor; the root answers which_children; a tree from a config file
// nests supervisors and escalates a crash loop to its parent; a crash loop
// at the root exhausts its intensity and the node exits non-zero; SIGTERM
// stops the tree and exits 0.
//
// No sleeps: a call made while a server restarts is retried, bounded, while
// it fails with NOT_FOUND (the name is released between instances: the
// documented behaviour) or ABORTED (it reached the dying instance).
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "polis/supervisor.pb.h"
#include "tests/node_process.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace sv = supervision;

// Bound on a restart (or on the node's view of a new name) being visible.
constexpr absl::Duration kRestartWait = absl::Seconds(15);

constexpr char kCrash[] = R"({"crash": {}})";
constexpr char kGet[] = R"({"get": {}})";
constexpr char kWhichChildren[] = R"({"which_children": {}})";

// `polis call --seed=EP NAME JSON`, run again (bounded) while it fails with
// NOT_FOUND or ABORTED: the server is between two instances. Neither means
// the request was applied, so a retry never applies it twice.
ProcessResult Call(const NodeProcess& node, const std::string& name, const std::string& json) {
  const std::vector<std::string> args = {"call", "--seed=" + node.endpoint(), name, json};
  return RetryUntil([&] { return Polis(args); },
                    [](const ProcessResult& r) {
                      return !FailedWith(r, {"NOT_FOUND", "ABORTED"});
                    },
                    kRestartWait);
}

// Call, repeated (bounded) until the output is `want`: for a server that a
// supervisor is about to stop and restart, the old instance may still
// answer for a moment. Only for idempotent requests.
std::string CallUntil(const NodeProcess& node, const std::string& name, const std::string& json,
                      const std::string& want) {
  return RetryUntil([&] { return Call(node, name, json); },
                    [&](const ProcessResult& r) { return r.out == want; }, kRestartWait)
      .out;
}

// Crashes `name` once: the call fails, naming the crash.
void Crash(const NodeProcess& node, const std::string& name) {
  ProcessResult r = Call(node, name, kCrash);
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_THAT(r.err, AllOf(StartsWith("INTERNAL: "), HasSubstr("counter crashed"))) << r.Summary();
}

// which_children of the supervisor `name`, as the CLI prints it.
sv::ChildList WhichChildren(const NodeProcess& node, const std::string& name) {
  ProcessResult r = Call(node, name, kWhichChildren);
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  sv::SupervisorReply reply;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &reply).ok()) << r.out;
  return reply.children();
}

const sv::ChildInfo* Child(const sv::ChildList& list, const std::string& id) {
  for (const sv::ChildInfo& c : list.children()) {
    if (c.id() == id) return &c;
  }
  return nullptr;
}

// Waits (bounded) until the node's stderr contains `text`.
bool StderrShows(const NodeProcess& node, const std::string& text) {
  return WaitFor([&] { return absl::StrContains(node.Stderr(), text); }, kRestartWait);
}

// Writes a config file into `dir`; returns its path.
std::string WriteConfig(const ScratchDir& dir, const std::string& text) {
  const std::string path = dir.File("node.textproto");
  std::ofstream(path) << text;
  return path;
}

TEST(SupervisionE2eTest, CrashedCounterIsRestartedWithFreshStateAndTheRootCountsIt) {
  auto node = NodeProcess::Start({.name = "sup1",
                                  .listen = "tcp://127.0.0.1:*",
                                  .serve = {"counter"},
                                  .extra_args = {"--root=root"}});
  ASSERT_THAT(node, IsOk());
  const NodeProcess& n = **node;

  ProcessResult r = Call(n, "counter", R"({"add": 5})");
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"5\"}\n") << r.Summary();

  Crash(n, "counter");

  // Served by the restarted counter: fresh state from its Init.
  r = Call(n, "counter", kGet);
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"0\"}\n") << r.Summary();

  sv::ChildList children = WhichChildren(n, "root");
  ASSERT_EQ(children.children_size(), 1) << children.DebugString();
  const sv::ChildInfo& counter = children.children(0);
  EXPECT_EQ(counter.id(), "counter");
  EXPECT_EQ(counter.name(), "counter");
  EXPECT_EQ(counter.kind(), "counter");
  EXPECT_EQ(counter.status(), sv::RUNNING);
  EXPECT_EQ(counter.restart_count(), 1);

  // SIGTERM: the tree comes down first, then the node; exit code 0.
  EXPECT_THAT((*node)->Stop(), IsOk());
  EXPECT_THAT((*node)->Stderr(), AllOf(HasSubstr("SIGTERM, stopping the supervision tree 'root'"),
                                       HasSubstr("supervision tree 'root' stopped")));
}

TEST(SupervisionE2eTest, ConfigFileTreeNestsSupervisorsAndEscalatesToTheRoot) {
  auto dir = ScratchDir::Create();
  ASSERT_THAT(dir, IsOk());
  // "workers" restarts both counters together, and gives up on the second
  // failure within a minute; the root (node defaults: 10 in 5 s) then
  // restarts the whole "workers" subtree.
  const std::string config = WriteConfig(**dir, R"(
    supervision {
      children {
        id: "workers" name: "workers"
        supervisor {
          strategy: ONE_FOR_ALL intensity: 1 period_ms: 60000
          children { id: "hits" kind: "counter" name: "hits" }
          children { id: "misses" kind: "counter" name: "misses"
                     args { fields { key: "initial" value { number_value: 100 } } } }
        }
      }
    }
  )");
  auto node = NodeProcess::Start({.name = "tree",
                                  .listen = "tcp://127.0.0.1:*",
                                  .serve = {"echo"},
                                  .extra_args = {"--config=" + config}});
  ASSERT_THAT(node, IsOk());
  const NodeProcess& n = **node;

  // The root holds the file's subtree, then the --serve entries.
  sv::ChildList root = WhichChildren(n, "root@tree");
  ASSERT_EQ(root.children_size(), 2) << root.DebugString();
  EXPECT_EQ(root.children(0).id(), "workers");
  EXPECT_TRUE(root.children(0).supervisor());
  EXPECT_EQ(root.children(1).id(), "echo");

  EXPECT_EQ(Call(n, "hits", R"({"add": 3})").out, "{\"value\":\"3\"}\n");
  EXPECT_EQ(Call(n, "misses", R"({"add": 1})").out, "{\"value\":\"101\"}\n");

  // One crash: one_for_all restarts both counters, with fresh state.
  Crash(n, "hits");
  EXPECT_EQ(Call(n, "hits", kGet).out, "{\"value\":\"0\"}\n");
  EXPECT_EQ(CallUntil(n, "misses", kGet, "{\"value\":\"100\"}\n"), "{\"value\":\"100\"}\n");
  sv::ChildList workers = WhichChildren(n, "workers");
  ASSERT_NE(Child(workers, "hits"), nullptr) << workers.DebugString();
  ASSERT_NE(Child(workers, "misses"), nullptr) << workers.DebugString();
  EXPECT_EQ(Child(workers, "hits")->restart_count(), 1);
  EXPECT_EQ(Child(workers, "misses")->restart_count(), 1);

  // A second crash exceeds "workers"' intensity: it fails, and the root
  // restarts it — a fresh subtree.
  EXPECT_EQ(Call(n, "misses", R"({"add": 1})").out, "{\"value\":\"101\"}\n");
  Crash(n, "hits");
  EXPECT_EQ(CallUntil(n, "misses", kGet, "{\"value\":\"100\"}\n"), "{\"value\":\"100\"}\n");
  root = WhichChildren(n, "root@tree");
  ASSERT_NE(Child(root, "workers"), nullptr) << root.DebugString();
  EXPECT_EQ(Child(root, "workers")->restart_count(), 1);
  EXPECT_EQ(Child(root, "workers")->status(), sv::RUNNING);
  EXPECT_EQ(Child(root, "echo")->restart_count(), 0);
  workers = WhichChildren(n, "workers");
  ASSERT_NE(Child(workers, "hits"), nullptr) << workers.DebugString();
  EXPECT_EQ(Child(workers, "hits")->restart_count(), 0);

  EXPECT_THAT((*node)->Stop(), IsOk());
  EXPECT_THAT((*node)->Stderr(), HasSubstr("supervision tree 'root@tree' stopped"));
}

TEST(SupervisionE2eTest, CrashLoopExhaustsTheRootsIntensityAndTheNodeExitsNonZero) {
  auto dir = ScratchDir::Create();
  ASSERT_THAT(dir, IsOk());
  const std::string config = WriteConfig(**dir, "supervision { intensity: 2 period_ms: 10000 }");
  auto node = NodeProcess::Start({.name = "loop",
                                  .listen = "tcp://127.0.0.1:*",
                                  .serve = {"counter"},
                                  .extra_args = {"--config=" + config}});
  ASSERT_THAT(node, IsOk());
  const NodeProcess& n = **node;

  // Two restarts are allowed; each time the counter is back before the
  // next crash.
  for (int restarts = 0; restarts < 2; ++restarts) {
    Crash(n, "counter");
    ProcessResult r = Call(n, "counter", kGet);
    ASSERT_EQ(r.out, "{\"value\":\"0\"}\n") << r.Summary();
  }
  ASSERT_EQ(Child(WhichChildren(n, "root@loop"), "counter")->restart_count(), 2);

  // The third failure within 10 s: the root gives up, and so does the node
  // — so quickly that the crash's error reply may lose the race with the
  // node's disconnect (UNAVAILABLE); the node's log names the crash.
  ProcessResult r = Call(n, "counter", kCrash);
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_THAT(r.err, ::testing::AnyOf(AllOf(StartsWith("INTERNAL: "), HasSubstr("counter crashed")),
                                      AllOf(StartsWith("UNAVAILABLE: "), HasSubstr("loop"))))
      << r.Summary();
  ASSERT_TRUE(StderrShows(n, "ABORTED: node loop: root supervisor 'root@loop' failed"))
      << n.Stderr();
  EXPECT_THAT(n.Stderr(), AllOf(HasSubstr("restart intensity exceeded"),
                                HasSubstr("child 'counter'"), HasSubstr("counter crashed")));
  // It has printed its last line and exits 1 (a SIGTERM now is blocked and
  // changes nothing; Stop reports the exit).
  EXPECT_THAT((*node)->Stop(), StatusIs(absl::StatusCode::kInternal, HasSubstr("exit code 1")));
}

}  // namespace
}  // namespace polis::testing
