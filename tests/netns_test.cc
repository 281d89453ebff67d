// Two hosts: `polis node` processes in two network namespaces joined by a
// veth link, each with its own address, so calls by name really cross a
// (virtual) network between machines. Also: a node bound to all interfaces
// with --advertise, a cut link noticed through heartbeats, a partition that
// heals by itself (and a name claimed on both sides of it), and dns: seeds
// resolved from a per-namespace /etc/hosts (/etc/netns/NS/hosts).
//
// Needs root (CAP_NET_ADMIN) and iproute2; skipped, saying why, otherwise.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>
#include <tuple>
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
    // `ip netns del` leaves /etc/netns/NS behind.
    std::error_code ignored;
    for (const std::string& dir : hosts_dirs_) std::filesystem::remove_all(dir, ignored);
    if (created_etc_netns_) rmdir("/etc/netns");  // Fails harmlessly if others use it.
  }

  // Writes `lines` as NS's /etc/hosts (what `ip netns exec NS` bind-mounts
  // over /etc/hosts), in place: nodes already running in NS see the change
  // at their next lookup (glibc reads the file at every lookup); a file
  // replaced by rename would only be seen by later `ip netns exec`s.
  void WriteHosts(const std::string& ns, const std::vector<std::string>& lines) {
    if (!std::filesystem::exists("/etc/netns")) created_etc_netns_ = true;
    const std::string dir = "/etc/netns/" + ns;
    std::filesystem::create_directories(dir);
    hosts_dirs_.push_back(dir);
    std::ofstream out(dir + "/hosts", std::ios::trunc);  // Same inode.
    out << "127.0.0.1 localhost\n";  // The file replaces /etc/hosts.
    for (const std::string& l : lines) out << l << "\n";
    out.close();
    ASSERT_TRUE(out.good()) << "writing " << dir << "/hosts";
  }

  std::vector<std::string> In(const std::string& ns) { return {kIp, "netns", "exec", ns}; }

  NodeProcess& StartIn(const std::string& ns, NodeProcessOptions o) {
    o.prefix = In(ns);
    // A private veth pair in the test's own namespaces: no keys needed.
    o.extra_args.push_back("--insecure");
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

  // `polis call --seed=SEED NAME JSON` inside `ns`, once.
  absl::StatusOr<ProcessResult> CallIn(const std::string& ns, const std::string& seed,
                                       const std::string& name, const std::string& json,
                                       const std::string& timeout = "5s") {
    return PolisIn(ns, {"call", "--seed=" + seed, "--timeout=" + timeout, name, json},
                   absl::Seconds(30));
  }

  std::string ns_a_, ns_b_, veth_a_, veth_b_, addr_a_, addr_b_;
  bool created_a_ = false, created_b_ = false;
  bool created_etc_netns_ = false;
  std::vector<std::string> hosts_dirs_;
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
      PolisIn(ns_a_, {"node", "--name=a", "--listen=tcp://0.0.0.0:7103", "--insecure"});
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

// Whether `r` is a run that failed the way a call to a node cut off from
// its caller should: UNAVAILABLE (the node is down) or NOT_FOUND (its names
// left the view).
bool FailedAsCutOff(const absl::StatusOr<ProcessResult>& r) {
  return r.ok() && r->exit_code != 0 &&
         (absl::StartsWith(r->err, "UNAVAILABLE") || absl::StartsWith(r->err, "NOT_FOUND"));
}

TEST_F(NetnsTest, APartitionIsDetectedOnBothSidesAndHealsByItselfWithOneHolderPerName) {
  // Two nodes per host; every node seeded by a1 (a full mesh of four).
  NodeProcess& a1 = StartIn(ns_a_, {.name = "a1", .listen = "tcp://" + addr_a_ + ":7120",
                                    .serve = {"counter:ca1"}});
  NodeProcess& a2 = StartIn(ns_a_, {.name = "a2", .listen = "tcp://" + addr_a_ + ":7121",
                                    .seeds = {a1.endpoint()}, .serve = {"counter:ca2"}});
  NodeProcess& b1 = StartIn(ns_b_, {.name = "b1", .listen = "tcp://" + addr_b_ + ":7122",
                                    .seeds = {a1.endpoint()}, .serve = {"counter:cb1"}});
  NodeProcess& b2 = StartIn(ns_b_, {.name = "b2", .listen = "tcp://" + addr_b_ + ":7123",
                                    .seeds = {a1.endpoint()}, .serve = {"counter:cb2"}});
  // Calls by name across the link, both ways.
  for (const char* name : {"ca1", "ca2"}) {
    ProcessResult r =
        CallUntilKnown(ns_b_, {"call", "--seed=" + b2.endpoint(), name, R"({"get": {}})"});
    ASSERT_EQ(r.exit_code, 0) << name << " from b2: " << r.Summary();
  }
  for (const char* name : {"cb1", "cb2"}) {
    ProcessResult r =
        CallUntilKnown(ns_a_, {"call", "--seed=" + a2.endpoint(), name, R"({"get": {}})"});
    ASSERT_EQ(r.exit_code, 0) << name << " from a2: " << r.Summary();
  }

  // --- Cut: the link goes down (no FIN, no RST; only heartbeats can tell). ---
  ASSERT_THAT(Ip({"-n", ns_a_, "link", "set", veth_a_, "down"}), IsOk());
  const absl::Time cut = absl::Now();
  // On each side, short calls to the far side until one fails NOT_FOUND:
  // that side's node declared the far one down and its names left the view.
  // (A call made before that waits on the far node until its own timeout.)
  // The time is an upper bound: it includes the call that saw it.
  absl::Duration detected[2];
  absl::StatusOr<ProcessResult> first_failure[2];
  {
    std::vector<std::thread> sides;
    for (int side : {0, 1}) {
      sides.emplace_back([&, side] {
        const std::string& ns = side == 0 ? ns_a_ : ns_b_;
        const std::string seed = side == 0 ? a1.endpoint() : b1.endpoint();
        const char* far = side == 0 ? "cb1" : "ca1";
        first_failure[side] = RetryUntil(
            [&] { return CallIn(ns, seed, far, R"({"get": {}})", "300ms"); },
            [](const absl::StatusOr<ProcessResult>& r) {
              return !r.ok() || FailedWith(*r, {"NOT_FOUND"});
            },
            absl::Seconds(20));
        detected[side] = absl::Now() - cut;
      });
    }
    for (std::thread& t : sides) t.join();
  }
  std::cout << "partition detected: side a within " << detected[0] << ", side b within "
            << detected[1] << std::endl;
  ASSERT_THAT(first_failure[0], IsOk());
  ASSERT_THAT(first_failure[1], IsOk());
  EXPECT_TRUE(FailedWith(*first_failure[0], {"NOT_FOUND"})) << first_failure[0]->Summary();
  EXPECT_TRUE(FailedWith(*first_failure[1], {"NOT_FOUND"})) << first_failure[1]->Summary();
  EXPECT_LT(detected[0], absl::Seconds(5));  // A sanity bound; the detector's is ~0.9 s.
  EXPECT_LT(detected[1], absl::Seconds(5));
  // After detection, a call to the far side fails at once, long before its
  // 10 s timeout; calls within a side still work.
  for (const auto& [ns, seed, far, near] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {ns_a_, a2.endpoint(), "cb2", "ca1"}, {ns_b_, b2.endpoint(), "ca2", "cb1"}}) {
    absl::StatusOr<ProcessResult> r = CallIn(ns, seed, far, R"({"get": {}})", "10s");
    ASSERT_THAT(r, IsOk());
    EXPECT_TRUE(FailedAsCutOff(r)) << far << ": " << r->Summary();
    EXPECT_LT(r->elapsed, absl::Seconds(5)) << far << ": " << r->Summary();
    std::cout << "after detection, a call to " << far << " (10 s timeout): "
              << r->err.substr(0, r->err.find('\n')) << " after " << r->elapsed << std::endl;
    r = CallIn(ns, seed, near, R"({"get": {}})");
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->exit_code, 0) << near << ": " << r->Summary();
  }

  // --- The same name claimed on both sides: "leader", first on side a. ---
  NodeProcess& la = StartIn(ns_a_, {.name = "la", .listen = "tcp://" + addr_a_ + ":7124",
                                    .seeds = {a1.endpoint()}, .serve = {"counter:leader"}});
  ProcessResult r = CallUntilKnown(ns_a_, {"call", "--seed=" + a2.endpoint(), "leader",
                                           R"({"add": 1})"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  NodeProcess& lb = StartIn(ns_b_, {.name = "lb", .listen = "tcp://" + addr_b_ + ":7125",
                                    .seeds = {b1.endpoint()}, .serve = {"counter:leader"}});
  r = CallUntilKnown(ns_b_, {"call", "--seed=" + b2.endpoint(), "leader", R"({"add": 100})"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.out, HasSubstr(R"("value":"100")")) << "side b's own leader answered";

  // --- Heal: the link comes up; nobody is told. ---
  ASSERT_THAT(Ip({"-n", ns_a_, "link", "set", veth_a_, "up"}), IsOk());
  const absl::Time heal = absl::Now();
  absl::StatusOr<ProcessResult> across[2];
  {
    std::vector<std::thread> sides;
    sides.emplace_back([&] {
      across[0] = RetryUntil([&] { return CallIn(ns_a_, a1.endpoint(), "cb2", "{\"get\": {}}"); },
                             [](const absl::StatusOr<ProcessResult>& r) {
                               return !r.ok() || r->exit_code == 0;
                             },
                             absl::Seconds(30));
    });
    sides.emplace_back([&] {
      across[1] = RetryUntil([&] { return CallIn(ns_b_, b1.endpoint(), "ca2", "{\"get\": {}}"); },
                             [](const absl::StatusOr<ProcessResult>& r) {
                               return !r.ok() || r->exit_code == 0;
                             },
                             absl::Seconds(30));
    });
    for (std::thread& t : sides) t.join();
  }
  const absl::Duration merged = absl::Now() - heal;
  ASSERT_THAT(across[0], IsOk());
  ASSERT_THAT(across[1], IsOk());
  EXPECT_EQ(across[0]->exit_code, 0) << "a1 -> cb2 after the heal: " << across[0]->Summary();
  EXPECT_EQ(across[1]->exit_code, 0) << "b1 -> ca2 after the heal: " << across[1]->Summary();
  std::cout << "partition healed: calls cross again " << merged << " after the link came up"
            << std::endl;

  // Exactly one leader, the same from every node: the older registration
  // (side a's, value 1). A user tells the two apart by their values.
  std::vector<NodeProcess*> all = {&a1, &a2, &b1, &b2, &la, &lb};
  std::vector<std::string> answers;
  auto leaders = [&] {
    answers.clear();
    for (NodeProcess* n : all) {
      const std::string ns = n->endpoint().find(addr_a_) != std::string::npos ? ns_a_ : ns_b_;
      absl::StatusOr<ProcessResult> g = CallIn(ns, n->endpoint(), "leader", R"({"get": {}})");
      answers.push_back(absl::StrCat(
          n->name(), "=", !g.ok() ? g.status().ToString()
                          : g->exit_code == 0 ? g->out.substr(0, g->out.find('\n'))
                                              : g->err.substr(0, g->err.find('\n'))));
      if (!g.ok() || g->exit_code != 0 || !absl::StrContains(g->out, R"("value":"1")")) {
        return false;
      }
    }
    return true;
  };
  const bool agreed = WaitFor(leaders, absl::Seconds(20));
  std::cout << "leader after the heal, asked from every node (" << absl::Now() - heal
            << " after it): " << absl::StrJoin(answers, " ") << std::endl;
  EXPECT_TRUE(agreed) << "views disagree on 'leader': " << absl::StrJoin(answers, " ");
  // The loser yields the name but keeps running; its node stays up.
  EXPECT_TRUE(lb.running());
  std::cout << "lb's log:\n" << lb.Stderr() << std::endl;
}

TEST_F(NetnsTest, ADnsSeedFindsEveryAddressOfANameAndANodeAddedLater) {
  // One service name, one port; each host's address behind it. Nodes know
  // nothing else: their only seed is the name.
  const std::string addr_c = absl::StrCat(addr_a_.substr(0, addr_a_.rfind('.')), ".3");
  ASSERT_THAT(Ip({"-n", ns_b_, "addr", "add", addr_c + "/24", "dev", veth_b_}), IsOk());
  const std::vector<std::string> two = {addr_a_ + " polis-seeds", addr_b_ + " polis-seeds"};
  ASSERT_NO_FATAL_FAILURE(WriteHosts(ns_a_, two));
  ASSERT_NO_FATAL_FAILURE(WriteHosts(ns_b_, two));
  const std::string dns_seed = "dns:polis-seeds:7110";
  NodeProcess& a = StartIn(ns_a_, {.name = "a", .listen = "tcp://" + addr_a_ + ":7110",
                                   .seeds = {dns_seed}, .serve = {"counter:ca"}});
  NodeProcess& b = StartIn(ns_b_, {.name = "b", .listen = "tcp://" + addr_b_ + ":7110",
                                   .seeds = {dns_seed}, .serve = {"counter:cb"}});
  ProcessResult r =
      CallUntilKnown(ns_b_, {"call", "--seed=" + b.endpoint(), "ca", R"({"add": 1})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  r = CallUntilKnown(ns_a_, {"call", "--seed=" + a.endpoint(), "cb", R"({"add": 1})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();

  // C comes up with no seed at all; then the name gets its address (the
  // files rewritten in place). A and B find it at their next refresh (5 s).
  NodeProcess& c = StartIn(ns_b_, {.name = "c", .listen = "tcp://" + addr_c + ":7110",
                                   .serve = {"counter:cc"}});
  const absl::Time added = absl::Now();
  const std::vector<std::string> three = {addr_a_ + " polis-seeds", addr_b_ + " polis-seeds",
                                          addr_c + " polis-seeds"};
  ASSERT_NO_FATAL_FAILURE(WriteHosts(ns_a_, three));
  ASSERT_NO_FATAL_FAILURE(WriteHosts(ns_b_, three));
  absl::StatusOr<ProcessResult> found = RetryUntil(
      [&] { return CallIn(ns_a_, a.endpoint(), "cc", R"({"get": {}})"); },
      [](const absl::StatusOr<ProcessResult>& r) { return !r.ok() || r->exit_code == 0; },
      absl::Seconds(15));
  ASSERT_THAT(found, IsOk());
  EXPECT_EQ(found->exit_code, 0) << "a never found c: " << found->Summary();
  std::cout << "a node added to the name was found " << absl::Now() - added << " later"
            << std::endl;
  // And C, which had no seed, now sees the cluster.
  r = CallUntilKnown(ns_b_, {"call", "--seed=" + c.endpoint(), "ca", R"({"get": {}})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.out, HasSubstr(R"("value":"1")"));
  EXPECT_THAT(c.Stop(), IsOk());
  EXPECT_THAT(b.Stop(), IsOk());
  EXPECT_THAT(a.Stop(), IsOk());
}

}  // namespace
}  // namespace polis::testing
