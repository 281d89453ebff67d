// tests/runner_e2e_test.cc — a user's own server kinds under the real node
// runner (issue 17): a plugin loaded by the `polis` binary with --load, and
// a user's binary whose main() is polis::NodeMain (tests/plugins/); and the
// errors, each exit code 2 with a message naming the cause, before the
// node starts. Real processes (tests/node_process.h), no sleeps.
#include <fstream>
#include <string>

#include "genserver/server_plugin.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/node_process.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"

namespace polis::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kTally = POLIS_TALLY_PLUGIN;
const std::string kGreeter = POLIS_GREETER_NODE;
const std::string kPlugins = POLIS_TEST_PLUGINS_DIR;

std::string WriteConfig(const ScratchDir& dir, const std::string& text) {
  const std::string path = dir.File("node.textproto");
  std::ofstream(path) << text;
  return path;
}

ProcessResult Greeter(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kGreeter};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<ProcessResult> r = RunProcess(argv, absl::Seconds(20));
  EXPECT_THAT(r, IsOk());
  return r.ok() ? *std::move(r) : ProcessResult();
}

TEST(RunnerE2eTest, PolisNodeServesAKindFromAPluginItLoads) {
  auto node = NodeProcess::Start({.name = "plug1",
                                  .listen = "tcp://127.0.0.1:*",
                                  .serve = {"tally:t"},
                                  .extra_args = {"--load=" + kTally}});
  ASSERT_THAT(node, IsOk());
  const std::string seed = "--seed=" + (*node)->endpoint();
  ProcessResult r = Polis({"call", seed, "t", R"({"add": 5})"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.out, HasSubstr(R"("total":"5")"));
  r = Polis({"call", seed, "t", R"({"add": 2})"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.out, HasSubstr(R"("total":"7")"));
  EXPECT_THAT((*node)->Stop(), IsOk());
}

TEST(RunnerE2eTest, TheConfigFileLoadsPluginsForItsSupervisionTree) {
  auto dir = ScratchDir::Create("polis-runner");
  ASSERT_THAT(dir, IsOk());
  const std::string config = WriteConfig(**dir, "load: \"" + kTally + "\"\n" + R"(
    supervision { children { id: "t" name: "tallied" kind: "tally" } }
  )");
  auto node = NodeProcess::Start(
      {.name = "plug2", .listen = "tcp://127.0.0.1:*", .extra_args = {"--config=" + config}});
  ASSERT_THAT(node, IsOk());
  ProcessResult r = Polis({"call", "--seed=" + (*node)->endpoint(), "tallied", R"({"add": 3})"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.out, HasSubstr(R"("total":"3")"));
  EXPECT_THAT((*node)->Stop(), IsOk());
}

TEST(RunnerE2eTest, AUsersNodeMainServesItsOwnKindAndStopsOnSigterm) {
  auto node = NodeProcess::Start({.name = "own1",
                                  .listen = "tcp://127.0.0.1:*",
                                  .serve = {"greeter:g"},
                                  .command = {kGreeter}});
  ASSERT_THAT(node, IsOk());
  ProcessResult r = Polis({"call", "--seed=" + (*node)->endpoint(), "g", R"({"name": "ada"})"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.out, HasSubstr("hello, ada"));
  EXPECT_THAT((*node)->Stop(), IsOk());  // SIGTERM -> exit code 0.
}

TEST(RunnerE2eTest, AUsersNodeMainRunsASupervisionTreeOfItsKindFromTheConfigFile) {
  auto dir = ScratchDir::Create("polis-runner");
  ASSERT_THAT(dir, IsOk());
  const std::string config = WriteConfig(**dir, R"(
    supervision {
      children { id: "front" name: "front" kind: "greeter" }
      children { id: "inner" supervisor { children { id: "back" name: "back" kind: "greeter" } } }
    }
  )");
  auto node = NodeProcess::Start({.name = "own2",
                                  .listen = "tcp://127.0.0.1:*",
                                  .extra_args = {"--config=" + config},
                                  .command = {kGreeter}});
  ASSERT_THAT(node, IsOk());
  const std::string seed = "--seed=" + (*node)->endpoint();
  ProcessResult r = Polis({"call", seed, "back", R"({"name": "bob"})"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.out, HasSubstr("hello, bob"));
  r = Polis({"call", seed, "root@own2", R"({"which_children": {}})"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.out, AllOf(HasSubstr("front"), HasSubstr("inner")));
  EXPECT_THAT((*node)->Stop(), IsOk());
}

TEST(RunnerE2eTest, AUsersNodeMainHasNotGotTheExampleKinds) {
  ProcessResult r = Greeter({"--name=own3", "--serve=counter"});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_THAT(r.err, AllOf(HasSubstr(R"(unknown server kind "counter" (known: greeter))"),
                           HasSubstr("--load=libyours.so"), HasSubstr("polis::NodeMain")));
}

TEST(RunnerE2eTest, AUsersNodeMainRefusesAnUnknownKindInItsConfigTree) {
  auto dir = ScratchDir::Create("polis-runner");
  ASSERT_THAT(dir, IsOk());
  const std::string config =
      WriteConfig(**dir, R"(supervision { children { id: "a" name: "a" kind: "accounts" } })");
  ProcessResult r = Greeter({"--name=own4", "--config=" + config});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_THAT(
      r.err,
      HasSubstr(
          R"(supervision.children[0] (id 'a'): unknown server kind "accounts" (known: greeter))"));
}

TEST(RunnerE2eTest, AUsersNodeMainPrintsTheNodeUsageOnHelp) {
  ProcessResult r = Greeter({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.out, AllOf(HasSubstr(kGreeter + " --name=NAME"), HasSubstr("--load=PATH")));
}

TEST(RunnerE2eTest, PolisNodeRefusesAnUnknownKindWithAHint) {
  ProcessResult r = Polis({"node", "--name=u1", "--serve=accounts"});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_THAT(
      r.err,
      AllOf(
          HasSubstr(
              R"(serve accounts:accounts: unknown server kind "accounts" (known: counter, echo, kv)"),
          HasSubstr("load it with --load=libyours.so, or register it and call "
                    "polis::NodeMain (README, \"Your own servers\")")));
}

TEST(RunnerE2eTest, LoadingAMissingFileIsRefused) {
  const std::string path = kPlugins + "/libmissing.so";
  ProcessResult r = Polis({"node", "--name=l1", "--load=" + path, "--serve=echo"});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_THAT(r.err, HasSubstr("--load=" + path + ": cannot open: No such file"));
}

TEST(RunnerE2eTest, LoadingALibraryThatIsNotAPluginIsRefused) {
  const std::string path = kPlugins + "/libnot_a_plugin.so";
  ProcessResult r = Polis({"node", "--name=l2", "--load=" + path, "--serve=echo"});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_THAT(r.err, HasSubstr("--load=" + path + ": not a polis plugin"));
}

TEST(RunnerE2eTest, LoadingAFileThatIsNoLibraryShowsDlerror) {
  auto dir = ScratchDir::Create("polis-runner");
  ASSERT_THAT(dir, IsOk());
  const std::string path = (*dir)->File("libfake.so");
  std::ofstream(path) << std::string(200, 'x');  // Longer than an ELF header.
  ProcessResult r = Polis({"node", "--name=l3", "--load=" + path, "--serve=echo"});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_THAT(r.err, AllOf(HasSubstr("--load=" + path + ": cannot load: "),
                           HasSubstr("invalid ELF header")));
}

TEST(RunnerE2eTest, APluginRegisteringAKindAlreadyThereIsRefused) {
  const std::string path = kPlugins + "/libcounter_again_plugin.so";
  ProcessResult r = Polis({"node", "--name=l4", "--load=" + path, "--serve=echo"});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_THAT(r.err, HasSubstr("--load=" + path +
                               ": registers server kind \"counter\", already registered"));
}

TEST(RunnerE2eTest, APluginRegisteringNoKindIsRefused) {
  const std::string path = kPlugins + "/libno_kind_plugin.so";
  ProcessResult r = Polis({"node", "--name=l5", "--load=" + path, "--serve=echo"});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_THAT(r.err, HasSubstr("--load=" + path + ": registers no server kind"));
}

TEST(RunnerE2eTest, APluginBuiltAgainstAnotherPolisIsRefusedNamingBoth) {
  const std::string path = kPlugins + "/libother_abi_plugin.so";
  ProcessResult r = Polis({"node", "--name=l6", "--load=" + path, "--serve=echo"});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_THAT(r.err, AllOf(HasSubstr("--load=" + path + ": built against another polis ABI"),
                           HasSubstr("polis 0.0.1; gcc 9"), HasSubstr(POLIS_PLUGIN_ABI)));
}

}  // namespace
}  // namespace polis::testing
