// Two hosts: `polis node` processes in two network namespaces joined by a
// veth link, each with its own address, so calls by name really cross a
// (virtual) network between machines. Also: a node bound to all interfaces
// with --advertise, and a cut link noticed through heartbeats.
//
// Needs root (CAP_NET_ADMIN) and iproute2; skipped, saying why, otherwise.
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/node_process.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kIp[] = "/usr/sbin/ip";

// Runs `ip args...`; the error names the command and its stderr.
absl::Status Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kIp};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<ProcessResult> r = RunProcess(argv, absl::Seconds(10));
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::UnavailableError(
        absl::StrCat(absl::StrJoin(argv, " "), " failed: ", r->err));
  }
  return absl::OkStatus();
}

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0 || access(kIp, X_OK) != 0) {
      GTEST_SKIP() << "needs root and " << kIp << " to create network namespaces";
    }
    const int id = getpid() % 200 + 20;  // Per-run names and subnet.
    ns_a_ = absl::StrCat("polis-a-", getpid());
    ns_b_ = absl::StrCat("polis-b-", getpid());
    veth_a_ = absl::StrCat("pva", id);
    veth_b_ = absl::StrCat("pvb", id);
    addr_a_ = absl::StrCat("10.213.", id, ".1");
    addr_b_ = absl::StrCat("10.213.", id, ".2");
    absl::Status s = Ip({"netns", "add", ns_a_});
    if (s.ok()) created_a_ = true;
    if (s.ok()) s = Ip({"netns", "add", ns_b_});
    if (s.ok()) created_b_ = true;
    if (!s.ok()) GTEST_SKIP() << "cannot create network namespaces here: " << s;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"link", "add", veth_a_, "netns", ns_a_, "type", "veth", "peer", "name", veth_b_,
              "netns", ns_b_},
             {"-n", ns_a_, "addr", "add", addr_a_ + "/24", "dev", veth_a_},
             {"-n", ns_b_, "addr", "add", addr_b_ + "/24", "dev", veth_b_},
             {"-n", ns_a_, "link", "set", "lo", "up"},
             {"-n", ns_b_, "link", "set", "lo", "up"},
             {"-n", ns_a_, "link", "set", veth_a_, "up"},
             {"-n", ns_b_, "link", "set", veth_b_, "up"}}) {
      ASSERT_THAT(Ip(args), IsOk());
    }
  }

  void TearDown() override {
    nodes_.clear();  // Stop the nodes before their namespaces go.
    if (created_a_) (void)Ip({"netns", "del", ns_a_});  // Also removes the veth pair.
    if (created_b_) (void)Ip({"netns", "del", ns_b_});
  }

  std::vector<std::string> In(const std::string& ns) { return {kIp, "netns", "exec", ns}; }

  NodeProcess& StartIn(const std::string& ns, NodeProcessOptions o) {
    o.prefix = In(ns);
    absl::StatusOr<std::unique_ptr<NodeProcess>> n = NodeProcess::Start(o);
    EXPECT_THAT(n, IsOk());
    nodes_.push_back(std::move(*n));
    return *nodes_.back();
  }

  // `polis args...` run inside `ns`.
  absl::StatusOr<ProcessResult> PolisIn(const std::string& ns, std::vector<std::string> args,
                                        absl::Duration timeout = absl::Seconds(20)) {
    std::vector<std::string> argv = In(ns);
    argv.push_back(PolisBinary());
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, timeout);
  }

  // Calls until the name has spread (gossip) or `deadline`; the last result.
  ProcessResult CallUntilKnown(const std::string& ns, const std::vector<std::string>& args) {
    absl::StatusOr<ProcessResult> r =
        RetryUntil([&] { return PolisIn(ns, args); },
                   [](const absl::StatusOr<ProcessResult>& r) {
                     return !r.ok() || r->exit_code == 0 || !absl::StartsWith(r->err, "NOT_FOUND");
                   },
                   absl::Seconds(10));
    EXPECT_THAT(r, IsOk());
    if (!r.ok()) return ProcessResult{};
    return *r;
  }

  std::string ns_a_, ns_b_, veth_a_, veth_b_, addr_a_, addr_b_;
  bool created_a_ = false, created_b_ = false;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
};

TEST_F(NetnsTest, CallsByNameCrossTheNetworkBetweenTwoHosts) {
  // Host A binds all interfaces and advertises its address on the link.
  NodeProcess& a = StartIn(ns_a_, {.name = "a",
                                   .listen = "tcp://0.0.0.0:7101",
                                   .serve = {"counter"},
                                   .extra_args = {"--advertise=tcp://" + addr_a_ + ":7101"}});
  EXPECT_EQ(a.endpoint(), "tcp://" + addr_a_ + ":7101");
  NodeProcess& b = StartIn(ns_b_, {.name = "b",
                                   .listen = "tcp://" + addr_b_ + ":7102",
                                   .seeds = {a.endpoint()},
                                   .serve = {"kv"}});
  // From host B, through B's node, to the counter on host A.
  ProcessResult r =
      CallUntilKnown(ns_b_, {"call", "--seed=" + b.endpoint(), "counter", R"({"add": 5})"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"("value":"5")"));
  // And from host A to the kv store on host B.
  r = CallUntilKnown(ns_a_, {"call", "--seed=" + a.endpoint(), "kv",
                             R"({"put": {"key": "k", "value": "v"}})"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(a.Stop(), IsOk());
  EXPECT_THAT(b.Stop(), IsOk());
}

TEST_F(NetnsTest, WildcardListenWithoutAdvertiseIsRefused) {
  absl::StatusOr<ProcessResult> r =
      PolisIn(ns_a_, {"node", "--name=a", "--listen=tcp://0.0.0.0:7103"});
  ASSERT_THAT(r, IsOk());
  EXPECT_NE(r->exit_code, 0);
  EXPECT_THAT(r->err, HasSubstr("advertise"));
}

TEST_F(NetnsTest, ACutLinkFailsCallsWithUnavailableWellBeforeTheirTimeout) {
  NodeProcess& a = StartIn(ns_a_, {.name = "a",
                                   .listen = "tcp://" + addr_a_ + ":7104",
                                   .serve = {"counter"}});
  NodeProcess& b = StartIn(ns_b_, {.name = "b",
                                   .listen = "tcp://" + addr_b_ + ":7105",
                                   .seeds = {a.endpoint()},
                                   .serve = {"echo"}});
  ProcessResult r =
      CallUntilKnown(ns_b_, {"call", "--seed=" + b.endpoint(), "counter", R"({"get": {}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Cut the cable: no FIN, no RST — only heartbeats can tell.
  ASSERT_THAT(Ip({"-n", ns_a_, "link", "set", veth_a_, "down"}), IsOk());
  absl::Time start = absl::Now();
  // B's node notices A is gone (heartbeat timeout, 3 s) and forgets its
  // names; a call with a 30 s timeout ends long before that.
  absl::StatusOr<ProcessResult> c = RetryUntil(
      [&] {
        return PolisIn(
            ns_b_, {"call", "--seed=" + b.endpoint(), "--timeout=30s", "counter", R"({"get": {}})"},
            absl::Seconds(40));
      },
      [](const absl::StatusOr<ProcessResult>& c) { return !c.ok() || c->exit_code != 0; },
      absl::Seconds(20));
  ASSERT_THAT(c, IsOk());
  r = *c;
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, ::testing::AnyOf(StartsWith("UNAVAILABLE"), StartsWith("NOT_FOUND")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
  (void)Ip({"-n", ns_a_, "link", "set", veth_a_, "up"});
  EXPECT_THAT(b.Stop(), IsOk());
  EXPECT_THAT(a.Stop(), IsOk());
}

}  // namespace
}  // namespace polis::testing
