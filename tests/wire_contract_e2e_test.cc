// tests/wire_contract_e2e_test.cc — what a bare ZeroMQ client sees of the
// wire contract (bus/WIRE.md, issue 16), against real `polis node`
// processes over tcp. A raw DEALER (tests/raw_client.h) sends frames built
// by hand, with no polis code in between, as a client in another language
// would:
//   * KIND_UNSPECIFIED, kind 9 and an unknown system message, each with a
//     ref, are answered with a REPLY carrying that ref and INVALID_ARGUMENT
//     (not left to the caller's deadline); the node serves on.
//   * A client Hello with wire_version 2 is answered with a Hello saying
//     wire_version 1 (no view), and the connection stays usable.
//   * A client Hello naming itself like the node is answered.
//   * A call for a name another node hosts says which node and endpoint.
// The same rules in process, with more cases: wire_contract_test.cc.
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "examples/examples.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "polis/envelope.pb.h"
#include "tests/node_fixtures.h"
#include "tests/node_process.h"
#include "tests/raw_client.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"
#include "zmq.hpp"

namespace polis::testing {
namespace {

using ::polis::examples::CounterReply;
using ::polis::examples::CounterRequest;
using ::testing::HasSubstr;

// How long a raw client waits for an answer that must come.
const int kAnswerMs = static_cast<int>(absl::ToInt64Milliseconds(kWaitTimeout));

wire::Envelope Env(wire::Kind kind, uint64_t ref, const std::string& type,
                   const std::string& payload = "") {
  wire::Envelope e;
  e.set_version(1);
  e.set_kind(kind);
  e.set_type(type);
  e.set_payload(payload);
  e.mutable_sender()->set_node("raw");
  e.set_ref(ref);
  e.mutable_reply_to()->set_node("raw");
  return e;
}

wire::Envelope AddCall(const std::string& name, uint64_t ref, int64_t n) {
  CounterRequest req;
  req.set_add(n);
  wire::Envelope e =
      Env(wire::KIND_CALL, ref, CounterRequest::descriptor()->full_name(), req.SerializeAsString());
  e.mutable_recipient()->set_name(name);
  return e;
}

wire::Envelope HelloEnvelope(const wire::Hello& h) {
  wire::Envelope e = Env(wire::KIND_SYSTEM, 0, wire::Hello::descriptor()->full_name(),
                         h.SerializeAsString());
  e.clear_reply_to();
  return e;
}

auto IsReplyTo(uint64_t ref) {
  return [ref](const wire::Envelope& e) { return e.kind() == wire::KIND_REPLY && e.ref() == ref; };
}

bool IsHello(const wire::Envelope& e) { return e.type() == wire::Hello::descriptor()->full_name(); }

class WireContractE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto node = NodeProcess::Start(
        {.name = "target", .listen = "tcp://127.0.0.1:*", .serve = {"counter"}});
    ASSERT_THAT(node, IsOk());
    node_ = *std::move(node);
  }
  void TearDown() override {
    if (node_) {
      EXPECT_THAT(node_->Stop(), IsOk()) << node_->Stderr().substr(0, 4000);
    }
  }

  // The raw client's call adding `n` to "counter" is answered with a value.
  void ExpectCounterAnswers(RawClient& raw, uint64_t ref) {
    raw.Send(Frame(AddCall("counter", ref, 1)));
    std::optional<wire::Envelope> r = raw.WaitFor(IsReplyTo(ref), kAnswerMs);
    ASSERT_TRUE(r.has_value()) << "the call was not answered";
    EXPECT_EQ(r->status_code(), 0) << r->status_message();
    CounterReply reply;
    EXPECT_TRUE(reply.ParseFromString(r->payload()));
    EXPECT_GE(reply.value(), 1);
  }

  zmq::context_t ctx_;
  std::unique_ptr<NodeProcess> node_;
};

TEST_F(WireContractE2eTest, RefusedRequestsWithARefGetAnInvalidArgumentReplyAndTheNodeServesOn) {
  RawClient raw(ctx_, node_->endpoint());
  struct Case {
    wire::Envelope envelope;
    std::string message;
  };
  const Case cases[] = {
      {Env(wire::KIND_UNSPECIFIED, 11, "polis.examples.CounterRequest"),
       "envelope of unknown kind 0"},
      {Env(static_cast<wire::Kind>(9), 12, "polis.examples.CounterRequest"),
       "envelope of unknown kind 9"},
      {Env(wire::KIND_SYSTEM, 13, "polis.wire.NoSuchRequest"),
       "unknown system message \"polis.wire.NoSuchRequest\""},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(raw.Send(Frame(c.envelope)));
    std::optional<wire::Envelope> r = raw.WaitFor(IsReplyTo(c.envelope.ref()), kAnswerMs);
    ASSERT_TRUE(r.has_value()) << "no answer to " << c.message;
    EXPECT_EQ(r->status_code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(r->status_message(), c.message);
  }
  ExpectCounterAnswers(raw, 14);

  // The node counted them as bad input.
  ProcessResult nodes = Polis({"nodes", "--json", "--seed=" + node_->endpoint()});
  EXPECT_EQ(nodes.exit_code, 0) << nodes.Summary();
  EXPECT_THAT(nodes.out, HasSubstr("\"unknown_kind\":2")) << nodes.out;
  EXPECT_THAT(nodes.out, HasSubstr("\"unknown_system\":1")) << nodes.out;
}

TEST_F(WireContractE2eTest, AHelloOfWireVersionTwoIsAnsweredWithVersionOneAndTheConnectionStays) {
  RawClient raw(ctx_, node_->endpoint());
  wire::Hello hello;
  hello.set_node("py-client");
  hello.set_client(true);
  hello.set_wire_version(2);
  ASSERT_TRUE(raw.Send(Frame(HelloEnvelope(hello))));
  std::optional<wire::Envelope> answer = raw.WaitFor(IsHello, kAnswerMs);
  ASSERT_TRUE(answer.has_value()) << "a Hello of wire version 2 was not answered";
  wire::Hello h;
  ASSERT_TRUE(h.ParseFromString(answer->payload()));
  EXPECT_EQ(h.wire_version(), 1u);
  EXPECT_EQ(h.node(), "target");
  EXPECT_NE(h.incarnation(), 0u);
  EXPECT_TRUE(h.view().empty()) << h.DebugString();
  EXPECT_FALSE(h.has_self()) << h.DebugString();
  // The connection is not banned: a call on it is answered.
  ExpectCounterAnswers(raw, 21);
  // And a Hello of version 1 on it is answered with the view.
  ASSERT_TRUE(raw.Sync("py-client", [](const wire::Envelope&) {}));
}

TEST_F(WireContractE2eTest, AClientHelloNamedLikeTheNodeIsAnswered) {
  RawClient raw(ctx_, node_->endpoint());
  wire::Hello hello;
  hello.set_node("target");  // The node's own name: informational in a client Hello.
  hello.set_client(true);
  hello.set_wire_version(1);
  ASSERT_TRUE(raw.Send(Frame(HelloEnvelope(hello))));
  std::optional<wire::Envelope> answer = raw.WaitFor(IsHelloAnswer, kAnswerMs);
  ASSERT_TRUE(answer.has_value()) << "a client Hello named like the node was not answered";
  wire::Hello h;
  ASSERT_TRUE(h.ParseFromString(answer->payload()));
  EXPECT_EQ(h.wire_version(), 1u);
  // The node's envelope size limit (the default, 64 MiB): a client refuses
  // larger requests itself.
  EXPECT_EQ(h.max_message_bytes(), int64_t{64} << 20);
  bool lists_counter = false;
  for (const wire::NodeEntry& n : h.view()) {
    for (const wire::NameEntry& name : n.names()) lists_counter |= name.name() == "counter";
  }
  EXPECT_TRUE(lists_counter) << h.DebugString();
}

TEST_F(WireContractE2eTest, ACallForANameOnAnotherNodeSaysWhichNodeHostsIt) {
  auto b = NodeProcess::Start({.name = "bnode",
                               .listen = "tcp://127.0.0.1:*",
                               .seeds = {node_->endpoint()},
                               .serve = {"counter:bee"}});
  ASSERT_THAT(b, IsOk());
  // A client of `target` sees "bee" once `target` knows where it is.
  auto client = StartJoinedNode({.name = "watch", .seeds = {node_->endpoint()}, .client = true});
  ASSERT_THAT(client, IsOk());
  ASSERT_THAT(AwaitName(**client, "bee", absl::Seconds(15)), IsOk());

  RawClient raw(ctx_, node_->endpoint());
  ASSERT_TRUE(raw.Send(Frame(AddCall("bee", 31, 1))));
  std::optional<wire::Envelope> r = raw.WaitFor(IsReplyTo(31), kAnswerMs);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status_code(), static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_EQ(r->status_message(),
            absl::StrCat("no server named \"bee\" on node target; it is on node bnode (",
                         (*b)->endpoint(), "): a client connects to the node that hosts a name"));
  // At the hosting node the same call is answered.
  RawClient at_b(ctx_, (*b)->endpoint());
  ASSERT_TRUE(at_b.Send(Frame(AddCall("bee", 32, 1))));
  r = at_b.WaitFor(IsReplyTo(32), kAnswerMs);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status_code(), 0) << r->status_message();
  client->reset();
  EXPECT_THAT((*b)->Stop(), IsOk());
}

}  // namespace
}  // namespace polis::testing
