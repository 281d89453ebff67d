// CurveZMQ and the roles with real `polis` processes (issue 15): keys made
// by `polis keygen`, nodes started with --key/--authorized-keys, clients
// with --key/--server-key. An unknown key delivers nothing; a client key
// cannot join as a node; a client limited to `counter*` is refused `kv`;
// two keyed nodes form a cluster; what crosses loopback is ciphertext
// (tcpdump); without keys a node will not listen off loopback; a dns:
// seed's key reaches the addresses it resolves to; a node key
// cannot speak for another member (a raw CURVE DEALER with node c's key
// forging b's Goodbye, NamesChanged and Hello at node a changes nothing).
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "bus/curve_keys.h"
#include "polis/envelope.pb.h"
#include "tests/node_process.h"
#include "tests/raw_client.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"
#include "tools/child_process.h"
#include "zmq.hpp"

namespace polis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A KIND_SYSTEM envelope carrying `payload`, framed (raw_client.h Frame).
std::string SystemFrame(const google::protobuf::Message& payload) {
  wire::Envelope e;
  e.set_version(1);
  e.set_kind(wire::KIND_SYSTEM);
  e.set_type(payload.GetDescriptor()->full_name());
  e.set_payload(payload.SerializeAsString());
  return Frame(e);
}

// A raw ZeroMQ DEALER that is a CURVE client with the keypair in
// `key_file`, connected to `endpoint` whose server key is `server_pub`:
// whatever it sends arrives with that key's role, as from a real peer.
class RawCurveDealer {
 public:
  RawCurveDealer(const std::string& key_file, const std::string& server_pub,
                 const std::string& endpoint)
      : dealer_(ctx_, zmq::socket_type::dealer) {
    EXPECT_THAT(ConnectCurveDealer(dealer_, key_file, server_pub, endpoint), IsOk());
  }

  void Send(const google::protobuf::Message& payload) {
    const std::string f = SystemFrame(payload);
    EXPECT_TRUE(dealer_.send(zmq::buffer(f), zmq::send_flags::none).has_value());
  }

  // Sends a client Hello and returns the node's answer: its view (members
  // with names) after it handled everything this DEALER sent before, since
  // one connection is read in order.
  absl::StatusOr<wire::Hello> View() {
    wire::Hello ask;
    ask.set_node(absl::StrCat("raw-", ++asked_));
    ask.set_wire_version(1);
    ask.set_client(true);
    ask.set_reply_requested(true);
    Send(ask);
    zmq::message_t m;
    while (dealer_.recv(m, zmq::recv_flags::none)) {
      if (m.size() < 8) continue;
      const auto* p = static_cast<const unsigned char*>(m.data());
      const uint32_t n = p[4] | (p[5] << 8) | (p[6] << 16) | (uint32_t{p[7]} << 24);
      wire::Envelope e;
      wire::Hello h;
      if (8 + size_t{n} <= m.size() && e.ParseFromArray(p + 8, static_cast<int>(n)) &&
          e.type() == wire::Hello::descriptor()->full_name() && h.ParseFromString(e.payload()) &&
          !h.view().empty()) {
        return h;
      }
    }
    return absl::DeadlineExceededError("no answer to a client Hello within 10 s");
  }

 private:
  zmq::context_t ctx_;
  zmq::socket_t dealer_;
  int asked_ = 0;
};

// `node`'s entry in a Hello's view; null if it has none.
const wire::NodeEntry* EntryOf(const wire::Hello& view, const std::string& node) {
  for (const wire::NodeEntry& e : view.view()) {
    if (e.node() == node) return &e;
  }
  return nullptr;
}

// The text of `node`'s object in `polis nodes --json` output ("" if none).
std::string NodeJson(const std::string& json, const std::string& node) {
  const size_t at = json.find(absl::StrCat("{\"name\":\"", node, "\""));
  if (at == std::string::npos) return "";
  const size_t end = json.find("\"error\":", at);
  return json.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// The "refused" count in `node`'s bad_input in `polis nodes --json` output.
uint64_t RefusedOf(const std::string& json, const std::string& node) {
  const std::string obj = NodeJson(json, node);
  const size_t at = obj.find("\"refused\":");
  uint64_t n = 0;
  if (at == std::string::npos) return 0;
  const size_t start = at + 10;
  size_t end = start;
  while (end < obj.size() && obj[end] >= '0' && obj[end] <= '9') ++end;
  (void)absl::SimpleAtoi(obj.substr(start, end - start), &n);
  return n;
}

class SecurityE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ScratchDir>> dir = ScratchDir::Create("polis-sec");
    ASSERT_THAT(dir, IsOk());
    dir_ = *std::move(dir);
    for (const char* name : {"n1", "n2", "n3", "client", "limited", "admin", "stranger"}) {
      ProcessResult r = Polis({"keygen", "--out=" + dir_->File(name)});
      ASSERT_EQ(r.exit_code, 0) << r.Summary();
    }
    std::ofstream auth(dir_->File("authorized_keys"));
    auth << "# who may connect\n"
         << "node " << Pub("n1") << " n1\n"
         << "node " << Pub("n2") << " n2\n"
         << "node " << Pub("n3") << " n3\n"
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
                                          const std::string& key = "",
                                          std::vector<std::string> serve = {"counter", "kv"}) {
    absl::StatusOr<std::unique_ptr<NodeProcess>> n = NodeProcess::Start(
        {.name = name,
         .listen = "tcp://127.0.0.1:*",
         .seeds = std::move(seeds),
         .serve = std::move(serve),
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

// A dns: seed's @KEY is pinned for every address the name resolves to:
// n2 joins n1 through dns:localhost:PORT@n1.pub with no --server-key.
TEST_F(SecurityE2eTest, ADnsSeedsKeyIsPinnedForTheAddressesItResolvesTo) {
  std::unique_ptr<NodeProcess> n1 = StartKeyed("n1");
  ASSERT_NE(n1, nullptr);
  const std::string port = n1->endpoint().substr(n1->endpoint().rfind(':') + 1);
  std::unique_ptr<NodeProcess> n2 =
      StartKeyed("n2", {"dns:localhost:" + port + "@" + dir_->File("n1.pub")}, "", {});
  ASSERT_NE(n2, nullptr);
  ProcessResult r = RetryUntil(
      [&] { return As("admin", "nodes", *n2, "n2", {"--json"}); },
      [](const ProcessResult& r) { return r.out.find("\"n1\"") != std::string::npos; });
  EXPECT_THAT(r.out, HasSubstr("\"n1\"")) << r.Summary();
  // A call through n2 reaches n1's counter over the connection n2 dialed.
  r = RetryUntil(
      [&] { return As("client", "call", *n2, "n2", {"counter", R"({"get": {}})"}); },
      [](const ProcessResult& r) { return r.exit_code == 0; });
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(n2->Stderr(), Not(HasSubstr("no CURVE server key known for " + n1->endpoint())));
  EXPECT_THAT(n2->Stop(), IsOk());
  EXPECT_THAT(n1->Stop(), IsOk());
}

// Issue 15: with CURVE on, any authorized node key reached a's listening
// socket and could speak for another member. Node c's key, on a raw
// DEALER, forges b's Goodbye (b gone for good), a NamesChanged removing
// b's names, and a Hello of a "restarted" b; a refuses all three, counts
// them as refused bad input, and still routes b's name. A client key
// sending the same gets nothing applied either.
TEST_F(SecurityE2eTest, ANodeKeyCannotSpeakForAnotherMember) {
  std::unique_ptr<NodeProcess> a = StartKeyed("a", {}, "n1", {});
  ASSERT_NE(a, nullptr);
  const std::string seed = a->endpoint() + "@" + dir_->File("n1.pub");
  std::unique_ptr<NodeProcess> b = StartKeyed("b", {seed}, "n2", {"counter:bee"});
  ASSERT_NE(b, nullptr);
  std::unique_ptr<NodeProcess> c = StartKeyed("c", {seed}, "n3", {});
  ASSERT_NE(c, nullptr);
  auto nodes = [&] { return As("admin", "nodes", *a, "n1", {"--json"}); };
  ProcessResult r = RetryUntil(nodes, [](const ProcessResult& r) {
    return NodeJson(r.out, "b").find("\"state\":\"up\"") != std::string::npos &&
           NodeJson(r.out, "c").find("\"state\":\"up\"") != std::string::npos;
  });
  ASSERT_THAT(NodeJson(r.out, "b"), HasSubstr("\"state\":\"up\"")) << r.Summary();
  ASSERT_THAT(NodeJson(r.out, "c"), HasSubstr("\"state\":\"up\"")) << r.Summary();

  RawCurveDealer forger(Key("n3"), Pub("n1"), a->endpoint());
  // b's incarnation, names and names_version as a sees them, once b's
  // name has reached a.
  absl::StatusOr<wire::Hello> view = RetryUntil(
      [&] { return forger.View(); },
      [](const absl::StatusOr<wire::Hello>& v) {
        const wire::NodeEntry* e = v.ok() ? EntryOf(*v, "b") : nullptr;
        if (e == nullptr) return false;
        for (const wire::NameEntry& n : e->names()) {
          if (n.name() == "bee") return true;
        }
        return false;
      });
  ASSERT_THAT(view, IsOk());
  ASSERT_NE(EntryOf(*view, "b"), nullptr) << view->DebugString();
  const wire::NodeEntry b_seen = *EntryOf(*view, "b");
  ASSERT_GT(b_seen.names_size(), 0) << b_seen.DebugString();
  const uint64_t refused_before = RefusedOf(nodes().out, "a");

  wire::NamesChanged nc;
  nc.set_node("b");
  nc.set_incarnation(b_seen.incarnation());
  nc.set_names_version(b_seen.names_version() + 1);
  for (const wire::NameEntry& n : b_seen.names()) nc.add_removed(n.name());
  wire::Goodbye bye;
  bye.set_node("b");
  bye.set_incarnation(b_seen.incarnation());
  wire::Hello restarted;  // no self key: the existing check lets it through
  restarted.set_node("b");
  restarted.set_incarnation(b_seen.incarnation() + 1);
  restarted.set_wire_version(1);
  restarted.set_endpoint(b_seen.endpoint());
  restarted.mutable_self()->set_node("b");
  restarted.mutable_self()->set_incarnation(b_seen.incarnation() + 1);
  restarted.mutable_self()->set_endpoint(b_seen.endpoint());
  restarted.mutable_self()->set_started_unix_ns(b_seen.started_unix_ns() + 1);
  restarted.mutable_self()->set_names_version(1);

  auto b_intact = [&](const absl::StatusOr<wire::Hello>& v) {
    ASSERT_THAT(v, IsOk());
    const wire::NodeEntry* e = EntryOf(*v, "b");
    ASSERT_NE(e, nullptr) << "b left a's view: " << v->DebugString();
    EXPECT_EQ(e->incarnation(), b_seen.incarnation());
    EXPECT_EQ(e->names_version(), b_seen.names_version());
    EXPECT_EQ(e->names_size(), b_seen.names_size()) << e->DebugString();
  };
  forger.Send(nc);
  forger.Send(bye);
  forger.Send(restarted);
  b_intact(forger.View());  // a handled the three before this answer
  r = nodes();
  EXPECT_THAT(NodeJson(r.out, "b"), HasSubstr("\"state\":\"up\"")) << r.Summary();
  // Exactly those three (no other peer sends a anything it refuses).
  EXPECT_EQ(RefusedOf(r.out, "a"), refused_before + 3) << r.Summary();
  // The name still routes through a.
  r = As("client", "call", *a, "n1", {"bee", R"({"add": 4})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"4\"}\n") << r.Summary();

  // A client key: refused as before (a client key is never a node).
  const uint64_t refused_mid = RefusedOf(nodes().out, "a");
  RawCurveDealer client(Key("client"), Pub("n1"), a->endpoint());
  client.Send(nc);
  client.Send(bye);
  b_intact(client.View());
  r = nodes();
  EXPECT_THAT(NodeJson(r.out, "b"), HasSubstr("\"state\":\"up\"")) << r.Summary();
  EXPECT_EQ(RefusedOf(r.out, "a"), refused_mid + 2) << r.Summary();
  r = As("client", "call", *a, "n1", {"bee", R"({"get": {}})"});
  EXPECT_EQ(r.out, "{\"value\":\"4\"}\n") << r.Summary();

  EXPECT_THAT(c->Stop(), IsOk());
  EXPECT_THAT(b->Stop(), IsOk());
  EXPECT_THAT(a->Stop(), IsOk());
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
