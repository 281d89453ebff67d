// The wire contract as a bare peer sees it (bus/WIRE.md, issue 16), in
// process over inproc: a raw InProcTransport sends envelopes built by hand
// to a node and reads what comes back.
//   * A refused envelope that has a ref and is not a REPLY, CAST or INFO is
//     answered with a REPLY carrying that ref and the refusal; casts and
//     infos never are. A call with ref 0 is refused and never runs.
//   * A call is answered on the connection it came on, whatever its
//     reply_to says (empty, or naming the node itself).
//   * A call or describe for a name another member hosts says where it is.
//   * A reply carries a whole W3C trace context or none.
// What a raw ZeroMQ client sees of the same rules, with a real `polis
// node`: wire_contract_e2e_test.cc.
//
// No sleeps: a client Hello sent last is answered only after everything
// sent before it was handled (one connection is handled in order), so
// "nothing came" is checked after that answer.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "bus/envelope.h"
#include "bus/inproc_transport.h"
#include "bus/peer.h"
#include "genserver/genserver.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/node.h"
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
using ::polis::testing::StatusIs;
using ::polis::testing::Str;
using ::polis::testing::WaitFor;
using ::testing::HasSubstr;

using Count = ::polis::testing::HeldCall;  // Int64Value adds; StringValue held until a cast.

// An envelope as a bare peer "raw" would send it to node "srv".
wire::Envelope Env(wire::Kind kind, uint64_t ref, const std::string& type,
                   const std::string& payload = "") {
  wire::Envelope e;
  e.set_version(bus::kWireVersion);
  e.set_kind(kind);
  e.set_type(type);
  e.set_payload(payload);
  e.mutable_sender()->set_node("raw");
  e.mutable_recipient()->set_node("srv");
  e.set_ref(ref);
  if (ref != 0) e.mutable_reply_to()->set_node("raw");
  return e;
}

wire::Envelope CallTo(const std::string& name, uint64_t ref, const google::protobuf::Message& m) {
  wire::Envelope e = Env(wire::KIND_CALL, ref, m.GetDescriptor()->full_name(),
                         m.SerializeAsString());
  e.mutable_recipient()->set_name(name);
  return e;
}

// A bare transport talking to one node; the test's thread polls it.
class RawPeer {
 public:
  RawPeer(std::string endpoint, bus::InProcTransportOptions options = {})
      : endpoint_(std::move(endpoint)) {
    auto t = bus::InProcTransport::Create(options);
    EXPECT_THAT(t, IsOk());
    if (t.ok()) t_ = *std::move(t);
  }

  void Send(const wire::Envelope& e) { EXPECT_THAT(t_->Send(endpoint_, bus::EnvelopeView(e)), IsOk()); }

  // The REPLY with `ref`, waiting for it up to kWaitTimeout.
  std::optional<wire::Envelope> Reply(uint64_t ref) {
    std::optional<wire::Envelope> found;
    testing::PollUntil({{t_.get(), &in_}}, [&] {
      found = Find(ref);
      return found.has_value();
    });
    return found;
  }

  // Sends a client Hello asking for an answer and waits for the answer (a
  // Hello with a view): everything sent before it has been handled.
  bool Sync() {
    wire::Hello ask;
    ask.set_node("raw");
    ask.set_incarnation(7);
    ask.set_wire_version(bus::kWireVersion);
    ask.set_client(true);
    ask.set_reply_requested(true);
    Send(Env(wire::KIND_SYSTEM, 0, wire::Hello::descriptor()->full_name(),
             ask.SerializeAsString()));
    const size_t seen = in_.envelopes.size();
    return testing::PollUntil({{t_.get(), &in_}}, [&] {
      for (size_t i = seen; i < in_.envelopes.size(); ++i) {
        wire::Hello h;
        const wire::Envelope& e = in_.envelopes[i].first;
        if (e.type() == wire::Hello::descriptor()->full_name() &&
            h.ParseFromString(e.payload()) && !h.view().empty()) {
          return true;
        }
      }
      return false;
    });
  }

  // Every REPLY received so far.
  std::vector<wire::Envelope> Replies() const {
    std::vector<wire::Envelope> out;
    for (const auto& [e, path] : in_.envelopes) {
      if (e.kind() == wire::KIND_REPLY) out.push_back(e);
    }
    return out;
  }

 private:
  std::optional<wire::Envelope> Find(uint64_t ref) const {
    for (const auto& [e, path] : in_.envelopes) {
      if (e.kind() == wire::KIND_REPLY && e.ref() == ref) return e;
    }
    return std::nullopt;
  }

  std::string endpoint_;
  std::unique_ptr<bus::InProcTransport> t_;
  testing::RecordingHandler in_;
};

uint64_t BadInput(const Node& node, const std::string& reason) {
  for (const auto& [r, n] : node.Metrics().bad_input) {
    if (r == reason) return n;
  }
  return 0;
}

absl::StatusCode Code(const wire::Envelope& reply) {
  return static_cast<absl::StatusCode>(reply.status_code());
}

class WireContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto srv = testing::StartNode({.name = "srv", .listen = testing::TestEndpoint("inproc", "srv")});
    ASSERT_THAT(srv, IsOk());
    srv_ = *std::move(srv);
    ASSERT_THAT(srv_->Spawn(std::make_unique<Count>(&held_ref_), {.name = "count"}), IsOk());
  }
  void TearDown() override {
    if (srv_) srv_->Shutdown();
  }

  std::atomic<uint64_t> held_ref_{0};
  std::unique_ptr<Node> srv_;
};

// --- Refused requests are answered ---

TEST_F(WireContractTest, RefusedRequestsWithARefAreAnsweredWithThatRefAndCounted) {
  RawPeer raw(srv_->endpoint());
  const uint64_t kinds_before = BadInput(*srv_, "unknown_kind");
  const uint64_t system_before = BadInput(*srv_, "unknown_system");
  raw.Send(Env(wire::KIND_UNSPECIFIED, 101, "google.protobuf.StringValue"));
  raw.Send(Env(static_cast<wire::Kind>(9), 102, "google.protobuf.StringValue"));
  raw.Send(Env(wire::KIND_SYSTEM, 103, "polis.wire.NoSuchRequest"));

  std::optional<wire::Envelope> r = raw.Reply(101);
  ASSERT_TRUE(r.has_value()) << "KIND_UNSPECIFIED with a ref was not answered";
  EXPECT_EQ(Code(*r), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r->status_message(), "envelope of unknown kind 0");
  r = raw.Reply(102);
  ASSERT_TRUE(r.has_value()) << "kind 9 with a ref was not answered";
  EXPECT_EQ(Code(*r), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r->status_message(), "envelope of unknown kind 9");
  r = raw.Reply(103);
  ASSERT_TRUE(r.has_value()) << "an unknown system message with a ref was not answered";
  EXPECT_EQ(Code(*r), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r->status_message(), "unknown system message \"polis.wire.NoSuchRequest\"");
  EXPECT_EQ(BadInput(*srv_, "unknown_kind"), kinds_before + 2);
  EXPECT_EQ(BadInput(*srv_, "unknown_system"), system_before + 1);

  // Without a ref there is no one to answer: counted only.
  raw.Send(Env(wire::KIND_UNSPECIFIED, 0, ""));
  ASSERT_TRUE(raw.Sync());
  EXPECT_EQ(raw.Replies().size(), 3u);
  EXPECT_EQ(BadInput(*srv_, "unknown_kind"), kinds_before + 3);
  // The node serves on.
  raw.Send(CallTo("count", 104, Int(2)));
  r = raw.Reply(104);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Code(*r), absl::StatusCode::kOk) << r->status_message();
}

TEST_F(WireContractTest, RefusedMembershipAndMonitorRequestsWithARefAreAnswered) {
  // A client key may send no membership message but its own Hello.
  static const bus::AuthorizedKey client_key{.role = bus::PeerRole::kClient};
  RawPeer client(srv_->endpoint(),
                 {.sender_role = bus::PeerRole::kClient, .sender_key = &client_key});
  wire::NamesChanged nc;
  nc.set_node("raw");
  nc.set_names_version(1);
  client.Send(Env(wire::KIND_SYSTEM, 201, wire::NamesChanged::descriptor()->full_name(),
                  nc.SerializeAsString()));
  std::optional<wire::Envelope> r = client.Reply(201);
  ASSERT_TRUE(r.has_value()) << "a refused NamesChanged with a ref was not answered";
  EXPECT_EQ(Code(*r), absl::StatusCode::kPermissionDenied) << r->status_message();

  // A membership message that does not parse.
  RawPeer raw(srv_->endpoint());
  raw.Send(Env(wire::KIND_SYSTEM, 202, wire::Goodbye::descriptor()->full_name(), "\xff\xff"));
  r = raw.Reply(202);
  ASSERT_TRUE(r.has_value()) << "an unparsable Goodbye with a ref was not answered";
  EXPECT_EQ(Code(*r), absl::StatusCode::kDataLoss) << r->status_message();

  // A MonitorRequest whose watcher's node is not a member: no DOWN could
  // ever reach it.
  wire::MonitorRequest mon;
  mon.mutable_watcher()->set_node("raw");
  mon.mutable_watcher()->set_pid(1);
  mon.mutable_target()->set_name("count");
  mon.set_ref(5);
  raw.Send(Env(wire::KIND_SYSTEM, 203, wire::MonitorRequest::descriptor()->full_name(),
               mon.SerializeAsString()));
  r = raw.Reply(203);
  ASSERT_TRUE(r.has_value()) << "a refused MonitorRequest with a ref was not answered";
  EXPECT_EQ(Code(*r), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r->status_message(), HasSubstr("\"raw\" is not a member"));
}

TEST_F(WireContractTest, RefusedCastsAndInfosAreNeverAnsweredEvenWithARef) {
  static const bus::AuthorizedKey key{.role = bus::PeerRole::kClient, .name_globs = {"other*"}};
  RawPeer client(srv_->endpoint(), {.sender_role = bus::PeerRole::kClient, .sender_key = &key});
  const uint64_t refused_before = srv_->Metrics().refused_by_trust;
  wire::Envelope cast = CallTo("count", 301, Int(1));
  cast.set_kind(wire::KIND_CAST);
  wire::Envelope info = CallTo("count", 302, Int(1));
  info.set_kind(wire::KIND_INFO);
  client.Send(cast);
  client.Send(info);
  client.Send(CallTo("count", 303, Int(1)));  // The same, as a call: answered.
  ASSERT_TRUE(client.Sync());
  std::vector<wire::Envelope> replies = client.Replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].ref(), 303u);
  EXPECT_EQ(Code(replies[0]), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(srv_->Metrics().refused_by_trust, refused_before + 3);
}

TEST_F(WireContractTest, ACallWithRefZeroIsRefusedAndNeverRunsAsNoAnswerCouldReachItsCaller) {
  RawPeer raw(srv_->endpoint());
  const uint64_t before = BadInput(*srv_, "other");
  raw.Send(CallTo("count", 0, Int(5)));
  ASSERT_TRUE(raw.Sync());
  EXPECT_TRUE(raw.Replies().empty());
  EXPECT_EQ(BadInput(*srv_, "other"), before + 1);
  // The handler never ran: the total is untouched.
  absl::StatusOr<Int64Value> total = srv_->Call<Int64Value>("count", Int(0));
  ASSERT_THAT(total, IsOk());
  EXPECT_EQ(total->value(), 0);
}

// --- Replies go back on the connection ---

TEST_F(WireContractTest, ACallWithoutReplyToIsAnsweredOnItsConnection) {
  RawPeer raw(srv_->endpoint());
  wire::Envelope no_reply_to = CallTo("count", 401, Int(1));
  no_reply_to.clear_reply_to();
  no_reply_to.clear_sender();
  raw.Send(no_reply_to);
  std::optional<wire::Envelope> r = raw.Reply(401);
  ASSERT_TRUE(r.has_value()) << "a call without reply_to was not answered";
  EXPECT_EQ(Code(*r), absl::StatusCode::kOk) << r->status_message();
}

// A call of srv's own is waiting with ref R. A peer's call with ref R whose
// reply_to names srv is answered to the peer; srv's call waits on for its
// real reply.
TEST_F(WireContractTest, APeersCallWhoseReplyToNamesTheNodeIsAnsweredToThePeerNotToTheNode) {
  RawPeer raw(srv_->endpoint());
  std::optional<wire::Envelope> r;
  absl::StatusOr<StringValue> got = absl::UnknownError("not yet");
  std::thread t([&] { got = srv_->Call<StringValue>("count", Str("hold"), absl::Seconds(20)); });
  absl::Cleanup join = [&] {
    (void)srv_->Cast("count", Str("real"));
    t.join();
  };
  ASSERT_TRUE(WaitFor([&] { return held_ref_.load() != 0; }));
  wire::Envelope spoof = CallTo("no_such_server", held_ref_.load(), Int(1));
  spoof.mutable_reply_to()->set_node("srv");
  raw.Send(spoof);
  r = raw.Reply(held_ref_.load());
  EXPECT_TRUE(r.has_value()) << "a call whose reply_to names the node was not answered";
  if (r) {
    EXPECT_EQ(Code(*r), absl::StatusCode::kNotFound);
  }
  std::move(join).Invoke();
  ASSERT_THAT(got, IsOk()) << "the node's own call was completed by the peer's reply";
  EXPECT_EQ(got->value(), "real");
}

// --- A name on another node ---

TEST(WireContractClusterTest, ACallForANameOnAnotherMemberSaysWhereItLives) {
  testing::TestNodes nodes("inproc");
  ASSERT_THAT(nodes.StartMesh({"a", "b"}), IsOk());
  std::atomic<uint64_t> unused{0};
  ASSERT_THAT(nodes[1]->Spawn(std::make_unique<Count>(&unused), {.name = "bee"}), IsOk());
  ASSERT_THAT(testing::AwaitName(*nodes[0], "bee"), IsOk());
  RawPeer raw(nodes[0]->endpoint());
  raw.Send(CallTo("bee", 501, Int(1)));
  std::optional<wire::Envelope> r = raw.Reply(501);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Code(*r), absl::StatusCode::kNotFound);
  EXPECT_EQ(r->status_message(),
            absl::StrCat("no server named \"bee\" on node a; it is on node b (",
                         nodes[1]->endpoint(),
                         "): a client connects to the node that hosts a name"));
  // Describe asked of the wrong node says the same.
  wire::Envelope describe = Env(wire::KIND_SYSTEM, 502, wire::DescribeRequest::descriptor()->full_name());
  describe.mutable_recipient()->set_name("bee");
  raw.Send(describe);
  r = raw.Reply(502);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Code(*r), absl::StatusCode::kNotFound);
  EXPECT_THAT(r->status_message(), HasSubstr("it is on node b"));
  // No member has it: "in the cluster".
  raw.Send(CallTo("nobody", 503, Int(1)));
  r = raw.Reply(503);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status_message(), "no server named \"nobody\" in the cluster");
}

// --- Trace context on replies ---

TEST_F(WireContractTest, AReplyByTheRuntimeToAnUntracedRequestCarriesNoTraceContext) {
  RawPeer raw(srv_->endpoint());
  wire::Envelope describe =
      Env(wire::KIND_SYSTEM, 601, wire::DescribeRequest::descriptor()->full_name());
  describe.mutable_recipient()->set_name("count");
  raw.Send(describe);
  raw.Send(Env(wire::KIND_UNSPECIFIED, 602, ""));
  for (uint64_t ref : {601, 602}) {
    std::optional<wire::Envelope> r = raw.Reply(ref);
    ASSERT_TRUE(r.has_value()) << ref;
    EXPECT_TRUE(r->trace_id().empty()) << ref;
    EXPECT_EQ(r->span_id(), 0u) << ref << ": a span id without a trace id";
    EXPECT_EQ(r->parent_span_id(), 0u) << ref;
    EXPECT_EQ(r->trace_flags(), 0u) << ref;
  }
}

// The rule for the docs: a call that reaches a server without a trace id
// gets a trace started by the receiving node (a new trace id, sampled by
// that node's sampler); the reply carries it: that trace id, a fresh span
// id, the server's call span as parent, the node's sampling decision as
// flags. So does a refusal by the server's process (here NOT_FOUND for no
// such name).
TEST_F(WireContractTest, AnUntracedCallToAServerIsTracedByTheReceiverAndItsReplyCarriesThatTrace) {
  RawPeer raw(srv_->endpoint());
  SpanCursor cursor = srv_->NewSpanCursor();
  raw.Send(CallTo("count", 701, Int(1)));
  std::optional<wire::Envelope> r = raw.Reply(701);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->trace_id().size(), 16u);
  EXPECT_NE(r->span_id(), 0u);
  EXPECT_NE(r->parent_span_id(), 0u);
  EXPECT_EQ(r->trace_flags(), 1u);  // The node samples every trace (the default).
  // The parent is the server's call span, recorded under that trace.
  std::vector<wire::Span> spans;
  ASSERT_TRUE(WaitFor([&] {
    for (wire::Span& s : srv_->ReadSpans(&cursor, 100)) spans.push_back(std::move(s));
    for (const wire::Span& s : spans) {
      if (s.trace_id() == r->trace_id() && s.span_id() == r->parent_span_id()) return true;
    }
    return false;
  }));

  raw.Send(CallTo("nobody", 702, Int(1)));
  r = raw.Reply(702);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Code(*r), absl::StatusCode::kNotFound);
  EXPECT_EQ(r->trace_id().size(), 16u);
  EXPECT_NE(r->span_id(), 0u);
}

TEST_F(WireContractTest, ATracedCallGetsItsReplyInItsOwnTrace) {
  RawPeer raw(srv_->endpoint());
  wire::Envelope call = CallTo("count", 801, Int(1));
  const std::string trace_id(16, '\x42');
  call.set_trace_id(trace_id);
  call.set_span_id(0x1234);
  call.set_trace_flags(1);
  raw.Send(call);
  std::optional<wire::Envelope> r = raw.Reply(801);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->trace_id(), trace_id);
  EXPECT_NE(r->span_id(), 0u);
  EXPECT_NE(r->span_id(), 0x1234u);
  EXPECT_EQ(r->parent_span_id(), 0x1234u);
  EXPECT_EQ(r->trace_flags(), 1u);
}

}  // namespace
}  // namespace polis
