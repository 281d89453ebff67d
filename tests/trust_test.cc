// The trust rules (WORKSPACE.md, "Trust rules"; node/internal/trust.h), in
// process over inproc: a forged ProcessDown is a plain info (locally, and
// from the wire only a node's own DOWN counts), a KIND_REPLY not from the
// called node completes nothing, a client's role limits what it
// reaches, and a node key speaks only for its own node in membership
// messages (the InProcTransportOptions::sender_role seam stands in for
// CURVE keys).
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "base/status_macros.h"
#include "bus/envelope.h"
#include "bus/inproc_transport.h"
#include "bus/zmq_transport.h"
#include "bus/peer.h"
#include "genserver/genserver.h"
#include "genserver/supervisor.h"
#include "google/protobuf/wrappers.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "polis/supervisor.pb.h"
#include "tests/journal.h"
#include "tests/node_fixtures.h"
#include "tests/held_call_server.h"
#include "tests/status_matchers.h"
#include "tests/test_values.h"
#include "tests/transport_helpers.h"
#include "tests/wait.h"

namespace polis {
namespace {

using ::google::protobuf::Int64Value;
using ::google::protobuf::StringValue;
using ::polis::testing::Int;
using ::polis::testing::IsOk;
using ::polis::testing::Journal;
using ::polis::testing::StatusIs;
using ::polis::testing::Str;
using ::polis::testing::WaitFor;
namespace sv = ::polis::supervision;

// Echoes calls; journals infos ("info:VALUE") and every ProcessDown
// ("down:REF:runtime" or "down:REF:user"). A call "monitor:NAME" monitors
// NAME and answers the ref.
class Echo : public GenServer {
 public:
  explicit Echo(Journal* j) : j_(j) {
    OnCall(&Echo::Command);
    OnInfo(&Echo::Note);
    OnInfo(&Echo::Down);
  }

 private:
  Task<absl::StatusOr<Int64Value>> Command(const StringValue& req) {
    if (req.value().rfind("monitor:", 0) == 0) {
      co_return Int(static_cast<int64_t>(Monitor(req.value().substr(8))));
    }
    co_return Int(static_cast<int64_t>(req.value().size()));
  }
  Task<absl::Status> Note(const StringValue& v) {
    j_->Add(absl::StrCat("info:", v.value()));
    co_return absl::OkStatus();
  }
  Task<absl::Status> Down(const wire::ProcessDown& d) {
    j_->Add(absl::StrCat("down:", d.monitor_ref(), IsRuntimeNotice() ? ":runtime" : ":user"));
    co_return absl::OkStatus();
  }
  Journal* j_;
};

using Slow = ::polis::testing::HeldCall;  // Answers a StringValue call only when told.

sv::SupervisorRequest Terminate(const std::string& id) {
  sv::SupervisorRequest r;
  r.set_terminate_child(id);
  return r;
}
sv::SupervisorRequest WhichChildren() {
  sv::SupervisorRequest r;
  r.mutable_which_children();
  return r;
}

wire::ProcessDown ForgedDown(uint64_t ref, const Pid& process) {
  wire::ProcessDown d;
  d.set_monitor_ref(ref);
  d.mutable_process()->set_node(process.node);
  d.mutable_process()->set_pid(process.id);
  d.set_status_code(static_cast<int>(absl::StatusCode::kInternal));
  d.set_status_message("forged");
  return d;
}

// A KIND_REPLY "from" srv to caller for call `ref`, answering "forged".
wire::Envelope ForgedReply(uint64_t ref) {
  wire::Envelope forged;
  forged.set_version(bus::kWireVersion);
  forged.set_kind(wire::KIND_REPLY);
  forged.set_type(StringValue::descriptor()->full_name());
  forged.mutable_sender()->set_node("srv");
  forged.mutable_recipient()->set_node("caller");
  forged.set_ref(ref);
  forged.set_payload(Str("forged").SerializeAsString());
  return forged;
}

class TrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto srv = testing::StartNode({.name = "srv", .listen = testing::TestEndpoint("inproc", "srv")});
    ASSERT_THAT(srv, IsOk());
    srv_ = *std::move(srv);
    ASSERT_THAT(srv_->Spawn(std::make_unique<Echo>(&j_), {.name = "counter1"}), IsOk());
    ASSERT_THAT(srv_->Spawn(std::make_unique<Echo>(&j_), {.name = "kv"}), IsOk());
    ASSERT_THAT(srv_->Spawn(std::make_unique<Slow>(&slow_ref_), {.name = "slow"}), IsOk());
    std::vector<ChildDef> children;
    children.push_back(MakeChild(
        "worker", [this]() -> absl::StatusOr<std::unique_ptr<Behaviour>> {
          return std::make_unique<Echo>(&j_);
        },
        {.name = "worker"}));
    auto sup = Supervisor::Create(Supervisor::Options{}, std::move(children));
    ASSERT_THAT(sup, IsOk());
    ASSERT_THAT(srv_->Spawn(*std::move(sup), {.name = "sup"}), IsOk());
    ASSERT_TRUE(WaitFor([&] { return srv_->WhereIs("worker").ok(); }));
  }
  void TearDown() override {
    for (auto& n : clients_) n->Shutdown();
    if (srv_) srv_->Shutdown();
  }

  // A client node of `role` whose envelopes srv sees with `key`.
  Node& Client(const std::string& name, bus::PeerRole role, const bus::AuthorizedKey* key) {
    bus::InProcTransportOptions io;
    io.sender_role = role;
    io.sender_key = key;
    auto t = bus::InProcTransport::Create(io);
    EXPECT_THAT(t, IsOk());
    NodeOptions o;
    o.name = name;
    o.client = true;
    o.seeds = {srv_->endpoint()};
    o.transport = *std::move(t);
    auto n = testing::StartJoinedNode(std::move(o));
    EXPECT_THAT(n, IsOk());
    clients_.push_back(*std::move(n));
    return *clients_.back();
  }

  int RestartsOfWorker() {
    auto r = srv_->Call<sv::SupervisorReply>("sup", WhichChildren(), absl::Seconds(5));
    EXPECT_THAT(r, IsOk());
    if (!r.ok() || r->children().children_size() != 1) return -1;
    return r->children().children(0).restart_count();
  }

  Journal j_;
  std::atomic<uint64_t> slow_ref_{0};
  std::unique_ptr<Node> srv_;
  std::vector<std::unique_ptr<Node>> clients_;
};

// --- Runtime notices ---

TEST_F(TrustTest, ForgedProcessDownIsAPlainInfoEvenWithTheRightRef) {
  auto ref = srv_->Call<Int64Value>("counter1", Str("monitor:kv"), absl::Seconds(5));
  ASSERT_THAT(ref, IsOk());
  const Pid kv = *srv_->WhereIs("kv");
  ASSERT_THAT(srv_->Send("counter1", ForgedDown(static_cast<uint64_t>(ref->value()), kv)), IsOk());
  ASSERT_TRUE(j_.WaitFor(absl::StrCat("down:", static_cast<uint64_t>(ref->value()), ":user")));
  // The monitor is still held: the real DOWN comes, as the runtime's.
  ASSERT_THAT(srv_->Stop("kv"), IsOk());
  EXPECT_TRUE(j_.WaitFor(absl::StrCat("down:", static_cast<uint64_t>(ref->value()), ":runtime")));
}

TEST_F(TrustTest, ForgedProcessDownToASupervisorRestartsNothing) {
  const Pid worker = *srv_->WhereIs("worker");
  for (uint64_t ref = 0; ref < 64; ++ref) {
    ASSERT_THAT(srv_->Send("sup", ForgedDown(ref, worker)), IsOk());
  }
  // A call after the sends: the mailbox has handled them all by its answer.
  EXPECT_EQ(RestartsOfWorker(), 0);
  EXPECT_EQ(*srv_->WhereIs("worker"), worker);
}

TEST_F(TrustTest, ProcessDownFromTheWireCountsOnlyFromItsOwnNode) {
  auto ref = srv_->Call<Int64Value>("counter1", Str("monitor:kv"), absl::Seconds(5));
  ASSERT_THAT(ref, IsOk());
  const Pid watcher = *srv_->WhereIs("counter1");
  const Pid kv = *srv_->WhereIs("kv");
  auto raw = bus::InProcTransport::Create({});
  ASSERT_THAT(raw, IsOk());
  // A "node" saying that a process of srv ended: refused.
  wire::Envelope e;
  e.set_version(bus::kWireVersion);
  e.set_kind(wire::KIND_SYSTEM);
  e.set_type(wire::ProcessDown::descriptor()->full_name());
  e.mutable_sender()->set_node("evil");
  e.mutable_recipient()->set_node("srv");
  e.mutable_recipient()->set_pid(watcher.id);
  e.set_payload(ForgedDown(static_cast<uint64_t>(ref->value()), kv).SerializeAsString());
  ASSERT_THAT((*raw)->Send(srv_->endpoint(), bus::EnvelopeView(e)), IsOk());
  ASSERT_TRUE(WaitFor([&] { return srv_->Metrics().refused_by_trust >= 1; }));
  // The watcher got nothing; its monitor still fires for real.
  ASSERT_THAT(srv_->Stop("kv"), IsOk());
  ASSERT_TRUE(j_.WaitFor(absl::StrCat("down:", static_cast<uint64_t>(ref->value()), ":runtime")))
      << ::testing::PrintToString(j_.Events());
  EXPECT_EQ(j_.With("down:").size(), 1u);
}

// --- Replies ---

TEST_F(TrustTest, ReplyFromAnotherConnectionDoesNotCompleteACall) {
  auto caller = testing::StartJoinedNode(
      {.name = "caller", .listen = testing::TestEndpoint("inproc", "caller"),
       .seeds = {srv_->endpoint()}});
  ASSERT_THAT(caller, IsOk());
  ASSERT_THAT(testing::AwaitName(**caller, "slow"), IsOk());
  absl::StatusOr<StringValue> got = absl::UnknownError("not yet");
  std::thread t([&] { got = (*caller)->Call<StringValue>("slow", Str("x"), absl::Seconds(20)); });
  absl::Cleanup join = [&] {  // Also when an ASSERT returns early.
    (void)srv_->Cast("slow", Str("real"));
    t.join();
  };
  ASSERT_TRUE(WaitFor([&] { return slow_ref_.load() != 0; }));
  // Refs are random, but suppose the attacker knows this one.
  auto raw = bus::InProcTransport::Create({});
  ASSERT_THAT(raw, IsOk());
  ASSERT_THAT((*raw)->Send((*caller)->endpoint(), bus::EnvelopeView(ForgedReply(slow_ref_.load()))),
              IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*caller)->Metrics().refused_replies >= 1; }));
  std::move(join).Invoke();  // The real reply.
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->value(), "real");
  (*caller)->Shutdown();
}

// Over a real ZeroMQ connection too: the forged reply comes from a raw
// DEALER (a bare transport) connected to the caller's listening ROUTER.
class ReplyTrustTest : public ::testing::TestWithParam<std::string> {
 protected:
  // A bare transport of the parameter's kind (a raw DEALER over tcp).
  absl::StatusOr<std::unique_ptr<bus::Transport>> Raw() {
    if (GetParam() == "inproc") {
      POLIS_ASSIGN_OR_RETURN(auto t, bus::InProcTransport::Create({}));
      return std::unique_ptr<bus::Transport>(std::move(t));
    }
    POLIS_ASSIGN_OR_RETURN(auto t, bus::ZmqTransport::Create({}));
    return std::unique_ptr<bus::Transport>(std::move(t));
  }

  std::atomic<uint64_t> slow_ref_{0};
  testing::TestNodes nodes_{GetParam()};
};

TEST_P(ReplyTrustTest, AForgedReplyIsRefusedAndTheRealOneArrives) {
  ASSERT_THAT(nodes_.StartMesh({"srv", "caller"}), IsOk());
  Node& srv = *nodes_[0];
  Node& caller = *nodes_[1];
  ASSERT_THAT(srv.Spawn(std::make_unique<Slow>(&slow_ref_), {.name = "slow"}), IsOk());
  ASSERT_THAT(testing::AwaitName(caller, "slow"), IsOk());
  absl::StatusOr<StringValue> got = absl::UnknownError("not yet");
  std::thread t([&] { got = caller.Call<StringValue>("slow", Str("x"), absl::Seconds(20)); });
  absl::Cleanup join = [&] {  // Also when an ASSERT returns early.
    (void)srv.Cast("slow", Str("real"));
    t.join();
  };
  ASSERT_TRUE(WaitFor([&] { return slow_ref_.load() != 0; }));
  auto raw = Raw();
  ASSERT_THAT(raw, IsOk());
  // Suppose the attacker learnt the ref.
  ASSERT_THAT((*raw)->Send(caller.endpoint(), bus::EnvelopeView(ForgedReply(slow_ref_.load()))),
              IsOk());
  (*raw)->Flush();
  ASSERT_TRUE(WaitFor([&] { return caller.Metrics().refused_replies >= 1; }));
  std::move(join).Invoke();  // The real reply.
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->value(), "real");
}

INSTANTIATE_TEST_SUITE_P(Transports, ReplyTrustTest, ::testing::Values("inproc", "tcp"),
                         [](const auto& info) { return info.param; });

// --- Roles ---

TEST_F(TrustTest, ClientReachesOnlyTheNamesItsKeyAllows) {
  // Static: the nodes (the fixture's) outlive the test body, and their
  // Goodbyes at shutdown still carry the key.
  static const bus::AuthorizedKey key{.role = bus::PeerRole::kClient, .name_globs = {"counter*"}};
  Node& c = Client("cli", bus::PeerRole::kClient, &key);
  ASSERT_THAT(testing::AwaitName(c, "kv"), IsOk());
  EXPECT_THAT(c.Call<Int64Value>("counter1", Str("abc"), absl::Seconds(5)), IsOk());
  EXPECT_THAT(c.Call<Int64Value>("kv", Str("abc"), absl::Seconds(5)),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // Never by pid, even to a name it may reach.
  const Pid counter = *srv_->WhereIs("counter1");
  EXPECT_THAT(c.Call<Int64Value>(counter, Str("abc"), absl::Seconds(5)),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // System requests: Describe of its names only; no NodeInfo.
  EXPECT_THAT(c.Describe("counter1", absl::Seconds(5)), IsOk());
  EXPECT_THAT(c.Describe("kv", absl::Seconds(5)), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(c.Info("srv", absl::Seconds(5)), StatusIs(absl::StatusCode::kPermissionDenied));
  // A denied info is dropped (and counted); an allowed one arrives.
  const uint64_t before = srv_->Metrics().refused_by_trust;
  ASSERT_THAT(c.Send("kv", Str("to-kv")), IsOk());
  ASSERT_TRUE(WaitFor([&] { return srv_->Metrics().refused_by_trust > before; }));
  ASSERT_THAT(c.Send("counter1", Str("to-counter")), IsOk());
  ASSERT_TRUE(j_.WaitFor("info:to-counter"));
  EXPECT_FALSE(j_.Has("info:to-kv"));
}

TEST_F(TrustTest, ClientMayNotReachASupervisorButAnAdminMay) {
  static const bus::AuthorizedKey client_key{.role = bus::PeerRole::kClient};  // any name
  Node& c = Client("cli", bus::PeerRole::kClient, &client_key);
  ASSERT_THAT(testing::AwaitName(c, "sup"), IsOk());
  const Pid worker = *srv_->WhereIs("worker");
  EXPECT_THAT(c.Call<sv::SupervisorReply>("sup", Terminate("worker"), absl::Seconds(5)),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(*srv_->WhereIs("worker"), worker);
  // A forged DOWN from a client is refused before any process sees it.
  ASSERT_THAT(c.Send("sup", ForgedDown(1, worker)), IsOk());
  EXPECT_EQ(RestartsOfWorker(), 0);

  static const bus::AuthorizedKey admin_key{.role = bus::PeerRole::kAdmin};
  Node& a = Client("adm", bus::PeerRole::kAdmin, &admin_key);
  ASSERT_THAT(testing::AwaitName(a, "sup"), IsOk());
  EXPECT_THAT(a.Call<sv::SupervisorReply>("sup", WhichChildren(), absl::Seconds(5)), IsOk());
  EXPECT_THAT(a.Info("srv", absl::Seconds(5)), IsOk());
}

// --- Refusals per peer (node/internal/peer_refusals.h) ---

// `node`'s refusals counted under peer label `peer` for `reason` (0 if none).
uint64_t RefusedBy(const Node& node, const std::string& peer,
                   const std::string& reason = "refused") {
  for (const NodeMetrics::PeerBadInput& p : node.Metrics().bad_input_by_peer) {
    if (p.peer != peer) continue;
    for (const auto& [r, n] : p.by_reason) {
      if (r == reason) return n;
    }
  }
  return 0;
}

// Each client key's refusals count under its own label (key prefix and
// comment), in Metrics and in NodeInfo (polis nodes --json).
TEST_F(TrustTest, RefusalsAreCountedPerClientKey) {
  static const bus::AuthorizedKey alice{.role = bus::PeerRole::kClient,
                                        .public_key = std::string(40, 'a'),
                                        .name_globs = {"counter*"},
                                        .comment = "alice"};
  static const bus::AuthorizedKey bob{.role = bus::PeerRole::kClient,
                                      .public_key = std::string(40, 'b'),
                                      .name_globs = {"counter*"},
                                      .comment = "bob"};
  Node& a = Client("cli-a", bus::PeerRole::kClient, &alice);
  Node& b = Client("cli-b", bus::PeerRole::kClient, &bob);
  ASSERT_THAT(testing::AwaitName(a, "kv"), IsOk());
  ASSERT_THAT(testing::AwaitName(b, "kv"), IsOk());
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(a.Call<Int64Value>("kv", Str("x"), absl::Seconds(5)),
                StatusIs(absl::StatusCode::kPermissionDenied));
  }
  EXPECT_THAT(b.Call<Int64Value>("kv", Str("x"), absl::Seconds(5)),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(RefusedBy(*srv_, "key:aaaaaaaa alice"), 3u);
  EXPECT_EQ(RefusedBy(*srv_, "key:bbbbbbbb bob"), 1u);
  auto info = srv_->Info("srv", absl::Seconds(5));
  ASSERT_THAT(info, IsOk());
  std::vector<std::string> seen;
  for (const wire::PeerBadInput& p : info->bad_input_by_peer()) {
    for (const wire::BadInputCount& c : p.counts()) {
      seen.push_back(absl::StrCat(p.peer(), "/", c.reason(), "=", c.count()));
    }
  }
  EXPECT_THAT(seen, ::testing::IsSupersetOf({"key:aaaaaaaa alice/refused=3",
                                            "key:bbbbbbbb bob/refused=1"}));
}

// --- Membership: a node speaks only for itself (membership_gate.h) ---

// bad_input "refused" of `node`.
uint64_t RefusedInput(const Node& node) {
  for (const auto& [reason, n] : node.Metrics().bad_input) {
    if (reason == "refused") return n;
  }
  return 0;
}

// A node on inproc whose envelopes arrive with node key `key`.
absl::StatusOr<std::unique_ptr<Node>> KeyedNode(const std::string& name,
                                                const bus::AuthorizedKey* key,
                                                std::vector<std::string> seeds) {
  bus::InProcTransportOptions io;
  io.sender_role = bus::PeerRole::kNode;
  io.sender_key = key;
  auto t = bus::InProcTransport::Create(io);
  if (!t.ok()) return t.status();
  NodeOptions o;
  o.name = name;
  o.listen = testing::TestEndpoint("inproc", name);
  o.seeds = std::move(seeds);
  o.transport = *std::move(t);
  return o.seeds.empty() ? testing::StartNode(std::move(o))
                         : testing::StartJoinedNode(std::move(o));
}

// Node keys (static: they outlive the nodes, whose Goodbyes at shutdown
// still carry them).
const bus::AuthorizedKey kKeyX{bus::PeerRole::kNode, std::string(40, 'x'), {}, "x", 1};
const bus::AuthorizedKey kKeyY{bus::PeerRole::kNode, std::string(40, 'y'), {}, "y", 2};
const bus::AuthorizedKey kKeyZ{bus::PeerRole::kNode, std::string(40, 'z'), {}, "z", 3};

// Node PREFIXz (key z) and PREFIXx (key x) joined to it; `server` (an Echo
// journaling to `j`) runs on x and is known at z.
struct KeyedPair {
  std::unique_ptr<Node> z, x;
};
absl::StatusOr<KeyedPair> StartKeyedPair(const std::string& prefix, Journal* j,
                                         const std::string& server) {
  KeyedPair p;
  POLIS_ASSIGN_OR_RETURN(p.z, KeyedNode(prefix + "z", &kKeyZ, {}));
  POLIS_ASSIGN_OR_RETURN(p.x, KeyedNode(prefix + "x", &kKeyX, {p.z->endpoint()}));
  POLIS_RETURN_IF_ERROR(p.x->Spawn(std::make_unique<Echo>(j), {.name = server}).status());
  POLIS_RETURN_IF_ERROR(testing::AwaitName(*p.z, server));
  return p;
}

// A bare transport whose envelopes a node sees sent with node key `key`.
absl::StatusOr<std::unique_ptr<bus::Transport>> RawWithKey(const bus::AuthorizedKey* key) {
  bus::InProcTransportOptions io;
  io.sender_role = bus::PeerRole::kNode;
  io.sender_key = key;
  POLIS_ASSIGN_OR_RETURN(auto t, bus::InProcTransport::Create(io));
  return std::unique_ptr<bus::Transport>(std::move(t));
}

// Node y's key forges x's NamesChanged (every names_version that could be
// next) and Goodbye at z: z refuses them all, x stays with its name. The
// same Goodbye under x's own key removes x (so the forgeries were able to).
TEST(MembershipTrustTest, ANodeKeyCannotSpeakForAnotherMember) {
  Journal j;
  auto nodes = StartKeyedPair("m", &j, "xname");
  ASSERT_THAT(nodes, IsOk());
  auto& [z, x] = *nodes;
  const uint64_t incarnation = x->incarnation();

  // Bare transports whose envelopes z sees with y's and with x's key.
  auto as_y = RawWithKey(&kKeyY);
  auto as_x = RawWithKey(&kKeyX);
  ASSERT_THAT(as_y, IsOk());
  ASSERT_THAT(as_x, IsOk());
  auto send = [&](bus::Transport& raw, const google::protobuf::Message& m) {
    wire::Envelope e;
    e.set_version(bus::kWireVersion);
    e.set_kind(wire::KIND_SYSTEM);
    e.set_type(m.GetDescriptor()->full_name());
    e.mutable_sender()->set_node("my");
    e.set_payload(m.SerializeAsString());
    ASSERT_THAT(raw.Send(z->endpoint(), bus::EnvelopeView(e)), IsOk());
  };
  const uint64_t before = RefusedInput(*z);
  constexpr int kVersions = 8;
  for (int v = 1; v <= kVersions; ++v) {
    wire::NamesChanged nc;
    nc.set_node("mx");
    nc.set_incarnation(incarnation);
    nc.set_names_version(v);
    nc.add_removed("xname");
    send(**as_y, nc);
  }
  wire::Goodbye bye;
  bye.set_node("mx");
  bye.set_incarnation(incarnation);
  send(**as_y, bye);
  ASSERT_TRUE(WaitFor([&] { return RefusedInput(*z) >= before + kVersions + 1; }))
      << RefusedInput(*z) - before << " refused";
  EXPECT_THAT(z->WhereIs("xname"), IsOk());
  EXPECT_THAT(z->Peers(), ::testing::Contains("mx"));
  EXPECT_THAT(z->Call<Int64Value>("xname", Str("abc"), absl::Seconds(5)), IsOk());

  // The forgery sent with a ref is answered with the refusal (issue 16).
  wire::Envelope asked;
  asked.set_version(bus::kWireVersion);
  asked.set_kind(wire::KIND_SYSTEM);
  asked.set_type(wire::Goodbye::descriptor()->full_name());
  asked.mutable_sender()->set_node("my");
  asked.mutable_reply_to()->set_node("my");
  asked.set_ref(77);
  asked.set_payload(bye.SerializeAsString());
  ASSERT_THAT((*as_y)->Send(z->endpoint(), bus::EnvelopeView(asked)), IsOk());
  testing::RecordingHandler answers;
  auto answered = [&] {
    for (const auto& [e, path] : answers.envelopes) {
      if (e.kind() == wire::KIND_REPLY && e.ref() == 77) return true;
    }
    return false;
  };
  ASSERT_TRUE(testing::PollUntil({{as_y->get(), &answers}}, answered));
  for (const auto& [e, path] : answers.envelopes) {
    if (e.ref() == 77) {
      EXPECT_EQ(e.status_code(), static_cast<int>(absl::StatusCode::kPermissionDenied))
          << e.status_message();
    }
  }
  EXPECT_THAT(z->Peers(), ::testing::Contains("mx"));

  // x's own Goodbye (its key) is applied: x and its name are gone.
  send(**as_x, bye);
  EXPECT_TRUE(WaitFor([&] { return !z->WhereIs("xname").ok(); }));
  EXPECT_THAT(z->Peers(), ::testing::Not(::testing::Contains("mx")));
  x->Shutdown();
  z->Shutdown();
}

// Node y's key says that a process of member x ended, to a watcher on z
// that monitors it: refused (counted under y's key), the watcher gets
// nothing, and the real DOWN still comes when the process ends.
TEST(MembershipTrustTest, ANodeKeyCannotSayAnotherMembersProcessEnded) {
  Journal j;
  auto nodes = StartKeyedPair("d", &j, "target");
  ASSERT_THAT(nodes, IsOk());
  auto& [z, x] = *nodes;
  ASSERT_THAT(z->Spawn(std::make_unique<Echo>(&j), {.name = "watcher"}), IsOk());
  auto ref = z->Call<Int64Value>("watcher", Str("monitor:target"), absl::Seconds(5));
  ASSERT_THAT(ref, IsOk());
  const Pid target = *x->WhereIs("target");
  const Pid watcher = *z->WhereIs("watcher");

  auto as_y = RawWithKey(&kKeyY);
  ASSERT_THAT(as_y, IsOk());
  wire::Envelope e;
  e.set_version(bus::kWireVersion);
  e.set_kind(wire::KIND_SYSTEM);
  e.set_type(wire::ProcessDown::descriptor()->full_name());
  e.mutable_sender()->set_node("dx");  // What the real DOWN from x says.
  e.mutable_recipient()->set_node("dz");
  e.mutable_recipient()->set_pid(watcher.id);
  e.set_payload(ForgedDown(static_cast<uint64_t>(ref->value()), target).SerializeAsString());
  const uint64_t before = z->Metrics().refused_by_trust;
  ASSERT_THAT((*as_y)->Send(z->endpoint(), bus::EnvelopeView(e)), IsOk());
  ASSERT_TRUE(WaitFor([&] { return z->Metrics().refused_by_trust > before; }));
  EXPECT_EQ(RefusedBy(*z, "key:yyyyyyyy y"), 1u);
  EXPECT_TRUE(j.With("down:").empty()) << ::testing::PrintToString(j.Events());

  // The real one, from x under x's key, arrives as the runtime's.
  ASSERT_THAT(x->Stop("target"), IsOk());
  ASSERT_TRUE(j.WaitFor(absl::StrCat("down:", static_cast<uint64_t>(ref->value()), ":runtime")))
      << ::testing::PrintToString(j.Events());
  EXPECT_EQ(j.With("down:").size(), 1u);
  x->Shutdown();
  z->Shutdown();
}

// Without keys a stranger is known by its connection's address (tcp), or
// as "anonymous" where the transport has none (inproc).
TEST_P(ReplyTrustTest, AStrangersRefusalsCountUnderItsAddress) {
  ASSERT_THAT(nodes_.StartMesh({"srv"}), IsOk());
  Node& srv = *nodes_[0];
  auto raw = Raw();
  ASSERT_THAT(raw, IsOk());
  wire::Envelope odd;
  odd.set_version(bus::kWireVersion);
  odd.set_kind(static_cast<wire::Kind>(99));
  odd.mutable_sender()->set_node("nobody");
  ASSERT_THAT((*raw)->Send(srv.endpoint(), bus::EnvelopeView(odd)), IsOk());
  ASSERT_THAT((*raw)->Send(srv.endpoint(), bus::EnvelopeView(ForgedReply(12345))), IsOk());
  (*raw)->Flush();
  const std::string peer = GetParam() == "inproc" ? "anonymous" : "addr:127.0.0.1";
  ASSERT_TRUE(WaitFor([&] { return RefusedBy(srv, peer, "unknown_kind") == 1; }))
      << ::testing::PrintToString(srv.Info(srv.name(), absl::Seconds(5))->bad_input_by_peer());
  // The forged reply claims to come from "srv", which is not srv's member:
  // still the stranger's.
  EXPECT_TRUE(WaitFor([&] { return RefusedBy(srv, peer, "refused") == 1; }));
}

// A key removed from the authorized keys while its connection stays open
// arrives as kRevoked (bus/peer.h): its membership messages are refused,
// even about the member it was bound to, and its calls are answered
// PERMISSION_DENIED without reaching the server.
TEST(MembershipTrustTest, ARevokedKeyIsRefusedWhateverItSends) {
  static const bus::AuthorizedKey kx{bus::PeerRole::kNode, std::string(40, 'x'), {}, "x", 1};
  static const bus::AuthorizedKey kz{bus::PeerRole::kNode, std::string(40, 'z'), {}, "z", 3};
  auto z = KeyedNode("rz", &kz, {});
  ASSERT_THAT(z, IsOk());
  auto x = KeyedNode("rx", &kx, {(*z)->endpoint()});
  ASSERT_THAT(x, IsOk());
  Journal j;
  ASSERT_THAT((*x)->Spawn(std::make_unique<Echo>(&j), {.name = "rxname"}), IsOk());
  ASSERT_THAT(testing::AwaitName(**z, "rxname"), IsOk());
  ASSERT_THAT((*z)->Spawn(std::make_unique<Echo>(&j), {.name = "rzname"}), IsOk());

  bus::InProcTransportOptions io;
  io.sender_role = bus::PeerRole::kRevoked;  // x's key, since removed
  auto revoked = bus::InProcTransport::Create(io);
  ASSERT_THAT(revoked, IsOk());
  const uint64_t before = RefusedInput(**z);
  wire::Goodbye bye;
  bye.set_node("rx");
  bye.set_incarnation((*x)->incarnation());
  wire::Envelope e;
  e.set_version(bus::kWireVersion);
  e.set_kind(wire::KIND_SYSTEM);
  e.set_type(wire::Goodbye::descriptor()->full_name());
  e.mutable_sender()->set_node("rx");
  e.set_payload(bye.SerializeAsString());
  ASSERT_THAT((*revoked)->Send((*z)->endpoint(), bus::EnvelopeView(e)), IsOk());
  ASSERT_TRUE(WaitFor([&] { return RefusedInput(**z) > before; }));
  EXPECT_THAT((*z)->Peers(), ::testing::Contains("rx"));

  wire::Envelope call;
  call.set_version(bus::kWireVersion);
  call.set_kind(wire::KIND_CALL);
  call.set_type(google::protobuf::StringValue::descriptor()->full_name());
  call.mutable_sender()->set_node("rx");
  call.mutable_reply_to()->set_node("rx");
  call.mutable_recipient()->set_name("rzname");
  call.set_ref(78);
  call.set_timeout_us(5'000'000);
  call.set_payload(Str("from-revoked").SerializeAsString());
  ASSERT_THAT((*revoked)->Send((*z)->endpoint(), bus::EnvelopeView(call)), IsOk());
  testing::RecordingHandler answers;
  std::optional<wire::Envelope> reply;
  ASSERT_TRUE(testing::PollUntil({{revoked->get(), &answers}}, [&] {
    for (const auto& [r, path] : answers.envelopes) {
      if (r.kind() == wire::KIND_REPLY && r.ref() == 78) reply = r;
    }
    return reply.has_value();
  }));
  EXPECT_EQ(reply->status_code(), static_cast<int>(absl::StatusCode::kPermissionDenied))
      << reply->status_message();
  // An info is dropped and counted.
  const uint64_t refused = (*z)->Metrics().refused_by_trust;
  wire::Envelope info = call;
  info.set_kind(wire::KIND_INFO);
  info.clear_ref();
  info.clear_reply_to();
  info.set_payload(Str("from-revoked").SerializeAsString());
  ASSERT_THAT((*revoked)->Send((*z)->endpoint(), bus::EnvelopeView(info)), IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*z)->Metrics().refused_by_trust > refused; }));
  EXPECT_FALSE(j.Has("info:from-revoked"));
  (*x)->Shutdown();
  (*z)->Shutdown();
}

}  // namespace
}  // namespace polis
