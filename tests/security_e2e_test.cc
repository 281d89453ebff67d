// CurveZMQ and the roles with real `polis` processes (issue 15): keys made
// by `polis keygen`, nodes started with --key/--authorized-keys, clients
// with --key/--server-key. An unknown key delivers nothing; a client key
// cannot join as a node; a client limited to `counter*` is refused `kv`;
// two keyed nodes form a cluster; what crosses loopback is ciphertext
// (tcpdump); without keys a node will not listen off loopback.
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/node_process.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"
#include "tools/child_process.h"

namespace polis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SecurityE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ScratchDir>> dir = ScratchDir::Create("polis-sec");
    ASSERT_THAT(dir, IsOk());
    dir_ = *std::move(dir);
    for (const char* name : {"n1", "n2", "client", "limited", "admin", "stranger"}) {
      ProcessResult r = Polis({"keygen", "--out=" + dir_->File(name)});
      ASSERT_EQ(r.exit_code, 0) << r.Summary();
    }
    std::ofstream auth(dir_->File("authorized_keys"));
    auth << "# who may connect\n"
         << "node " << Pub("n1") << " n1\n"
         << "node " << Pub("n2") << " n2\n"
         << "client " << Pub("client") << " any name\n"
         << "client " << Pub("limited") << " names=counter* only counters\n"
         << "admin " << Pub("admin") << " operator\n";
  }

  std::string Pub(const std::string& name) {
    return std::string(absl::StripAsciiWhitespace(ReadFile(dir_->File(name + ".pub"))));
  }
  std::string Key(const std::string& name) { return dir_->File(name + ".key"); }

  // A keyed node n1 serving counter and kv.
  std::unique_ptr<NodeProcess> StartKeyed(const std::string& name,
                                          std::vector<std::string> seeds = {},
                                          const std::string& key = "") {
    absl::StatusOr<std::unique_ptr<NodeProcess>> n = NodeProcess::Start(
        {.name = name,
         .listen = "tcp://127.0.0.1:*",
         .seeds = std::move(seeds),
         .serve = {"counter", "kv"},
         .extra_args = {"--key=" + Key(key.empty() ? name : key),
                        "--authorized-keys=" + dir_->File("authorized_keys")}});
    EXPECT_THAT(n, IsOk());
    return n.ok() ? *std::move(n) : nullptr;
  }

  // `polis VERB --seed=EP --key=K.key --server-key=SERVER.pub ARGS...`.
  ProcessResult As(const std::string& who, const std::string& verb, const NodeProcess& node,
                   const std::string& server, std::vector<std::string> args) {
    std::vector<std::string> argv = {verb, "--seed=" + node.endpoint(), "--timeout=3s",
                                     "--key=" + Key(who), "--server-key=" + dir_->File(server + ".pub")};
    argv.insert(argv.end(), args.begin(), args.end());
    return Polis(argv);
  }

  std::unique_ptr<ScratchDir> dir_;
};

TEST_F(SecurityE2eTest, KeygenWritesASecretOnlyTheOwnerReadsAndNeverOverwrites) {
  struct stat st;
  ASSERT_EQ(stat(Key("n1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(Pub("n1").size(), 40u);
  ProcessResult r = Polis({"keygen", "--out=" + dir_->File("n1")});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  chmod(Key("n2").c_str(), 0644);
  absl::StatusOr<ProcessResult> refused = RunPolis(
      {"node", "--name=n2", "--listen=tcp://127.0.0.1:0", "--key=" + Key("n2"),
       "--authorized-keys=" + dir_->File("authorized_keys")});
  ASSERT_THAT(refused, IsOk());
  EXPECT_NE(refused->exit_code, 0);
  EXPECT_THAT(refused->err, HasSubstr("readable by group or others")) << refused->Summary();
}

TEST_F(SecurityE2eTest, AClientWithAnUnknownKeyOrNoKeyDeliversNothing) {
  std::unique_ptr<NodeProcess> n1 = StartKeyed("n1");
  ASSERT_NE(n1, nullptr);
  ProcessResult r = As("stranger", "call", *n1, "n1", {"counter", R"({"add": 5})"});
  EXPECT_NE(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.err, HasSubstr("not authorized")) << r.Summary();
  r = As("stranger", "cast", *n1, "n1", {"counter", R"({"add": 7})"});
  EXPECT_NE(r.exit_code, 0) << r.Summary();
  r = Polis({"call", "--seed=" + n1->endpoint(), "--timeout=2s", "counter", R"({"add": 9})"});
  EXPECT_NE(r.exit_code, 0) << r.Summary();
  // The state is untouched: an authorized client reads 0.
  r = As("client", "call", *n1, "n1", {"counter", R"({"get": {}})"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"0\"}\n") << r.Summary();
  r = As("client", "call", *n1, "n1", {"counter", R"({"add": 2})"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  r = As("client", "call", *n1, "n1", {"counter", R"({"get": {}})"});
  EXPECT_EQ(r.out, "{\"value\":\"2\"}\n") << r.Summary();
  EXPECT_THAT(n1->Stop(), IsOk());
}

TEST_F(SecurityE2eTest, AClientLimitedToCountersIsDeniedKvAndSupervisors) {
  std::unique_ptr<NodeProcess> n1 = StartKeyed("n1");
  ASSERT_NE(n1, nullptr);
  ProcessResult r = As("limited", "call", *n1, "n1", {"counter", R"({"add": 1})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  r = As("limited", "call", *n1, "n1", {"kv", R"({"put": {"key": "a", "value": "b"}})"});
  EXPECT_TRUE(FailedWith(r, {"PERMISSION_DENIED"})) << r.Summary();
  EXPECT_THAT(r.err, HasSubstr("may not reach \"kv\"")) << r.Summary();
  // Not even an admin-only request through a name it may reach.
  r = As("client", "call", *n1, "n1", {"root@n1", R"({"which_children": {}})"});
  EXPECT_TRUE(FailedWith(r, {"PERMISSION_DENIED"})) << r.Summary();
  r = As("admin", "call", *n1, "n1", {"root@n1", R"({"which_children": {}})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(n1->Stop(), IsOk());
}

TEST_F(SecurityE2eTest, TwoKeyedNodesJoinAndAClientKeyCannotJoinAsANode) {
  std::unique_ptr<NodeProcess> n1 = StartKeyed("n1");
  ASSERT_NE(n1, nullptr);
  std::unique_ptr<NodeProcess> n2 =
      StartKeyed("n2", {n1->endpoint() + "@" + dir_->File("n1.pub")});
  ASSERT_NE(n2, nullptr);
  // A node started with a client's key: it reaches n1's socket (the key is
  // authorized) but never joins.
  std::unique_ptr<NodeProcess> impostor =
      StartKeyed("impostor", {n1->endpoint() + "@" + dir_->File("n1.pub")}, "client");
  ASSERT_NE(impostor, nullptr);
  ProcessResult r = RetryUntil(
      [&] { return As("admin", "nodes", *n1, "n1", {"--json"}); },
      [](const ProcessResult& r) {
        return r.out.find("\"n2\"") != std::string::npos &&
               r.out.find("\"refused\"") != std::string::npos;
      });
  EXPECT_THAT(r.out, HasSubstr("\"n2\"")) << r.Summary();
  EXPECT_THAT(r.out, HasSubstr("\"refused\"")) << r.Summary();
  EXPECT_THAT(r.out, Not(HasSubstr("impostor"))) << r.Summary();
  // A call through n2 reaches n1's counter across the keyed link.
  r = RetryUntil(
      [&] { return As("client", "call", *n2, "n2", {"counter", R"({"add": 3})"}); },
      [](const ProcessResult& r) { return r.exit_code == 0; });
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(impostor->Stop(), IsOk());
  EXPECT_THAT(n2->Stop(), IsOk());
  EXPECT_THAT(n1->Stop(), IsOk());
}

// tcpdump on loopback: the payload crosses as ciphertext with keys, as
// plaintext without (the control, so the capture is known to work).
TEST_F(SecurityE2eTest, WithKeysAPayloadNeverCrossesLoopbackInPlaintext) {
  if (access("/usr/bin/tcpdump", X_OK) != 0 && access("/usr/sbin/tcpdump", X_OK) != 0) {
    GTEST_SKIP() << "tcpdump is not installed (tools/dev.sh installs it)";
  }
  const std::string canary = "polis-canary-7f3a9c2e-plaintext";
  auto capture = [&](NodeProcess& node, const std::vector<std::string>& client_args,
                     const std::string& pcap) -> std::string {
    const std::string port = node.endpoint().substr(node.endpoint().rfind(':') + 1);
    absl::StatusOr<std::unique_ptr<tools::ChildProcess>> dump = tools::ChildProcess::Start(
        {"/bin/sh", "-c",
         absl::StrCat("exec tcpdump -Z root --immediate-mode -i lo -U -n -w ", pcap, " tcp port ", port, " 2>&1")},
        absl::Seconds(10));
    if (!dump.ok()) return "tcpdump: " + std::string(dump.status().message());
    std::vector<std::string> argv = client_args;
    argv.push_back("kv");
    argv.push_back(absl::StrCat(R"({"put": {"key": "k", "value": ")", canary, R"("}})"));
    ProcessResult r = Polis(argv);
    EXPECT_EQ(r.exit_code, 0) << r.Summary();
    dump->reset();  // SIGTERM: tcpdump writes what it has and exits.
    return ReadFile(pcap);
  };
  {
    absl::StatusOr<std::unique_ptr<NodeProcess>> plain = NodeProcess::Start(
        {.name = "plain", .listen = "tcp://127.0.0.1:*", .serve = {"kv"}});
    ASSERT_THAT(plain, IsOk());
    const std::string seen = capture(**plain, {"call", "--seed=" + (*plain)->endpoint()},
                                     dir_->File("plain.pcap"));
    if (seen.rfind("tcpdump: ", 0) == 0) GTEST_SKIP() << seen;
    if (seen.size() < 100) GTEST_SKIP() << "tcpdump captured nothing (no permission?): " << seen.size() << " bytes";
    EXPECT_THAT(seen, HasSubstr(canary)) << "control: plaintext must show";
  }
  std::unique_ptr<NodeProcess> n1 = StartKeyed("n1");
  ASSERT_NE(n1, nullptr);
  const std::string seen =
      capture(*n1,
              {"call", "--seed=" + n1->endpoint(), "--key=" + Key("client"),
               "--server-key=" + dir_->File("n1.pub")},
              dir_->File("curve.pcap"));
  EXPECT_GT(seen.size(), 100u);
  EXPECT_THAT(seen, Not(HasSubstr(canary)));
  EXPECT_THAT(seen, Not(HasSubstr("polis.examples")));  // not even the type names
  EXPECT_THAT(n1->Stop(), IsOk());
}

TEST(SecureByDefaultTest, NoKeysNoNetworkUnlessInsecure) {
  absl::StatusOr<ProcessResult> r =
      RunPolis({"node", "--name=open", "--listen=tcp://0.0.0.0:0", "--advertise=tcp://127.0.0.1:1"});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->exit_code, 2) << r->Summary();
  EXPECT_THAT(r->err, HasSubstr("--insecure")) << r->Summary();
  absl::StatusOr<std::unique_ptr<NodeProcess>> n = NodeProcess::Start(
      {.name = "open", .listen = "tcp://0.0.0.0:*", .extra_args = {"--insecure",
                                                                  "--advertise=tcp://127.0.0.1:1"}});
  // (The advertised endpoint is never used: only the start and its warning
  // matter here.)
  ASSERT_THAT(n, IsOk());
  EXPECT_THAT((*n)->Stderr(), HasSubstr("--insecure"));
  EXPECT_THAT((*n)->Stop(), IsOk());
}

}  // namespace
}  // namespace polis::testing
