// examples/relay_test.cc — the relay server: chains of relays on one node
// and across nodes, its errors, and that it never holds a scheduler thread
// while the next hop answers.
#include "examples/relay.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "examples/counter.h"
#include "genserver/server_kinds.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "node/status_details.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"

namespace polis::examples {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::LocalNodeTest;
using ::polis::testing::StatusIs;
using ::testing::HasSubstr;

RelayRequest Via(std::vector<std::string> via, CounterRequest request) {
  RelayRequest r;
  for (std::string& hop : via) r.add_via(std::move(hop));
  *r.mutable_request() = std::move(request);
  return r;
}

class RelayTest : public LocalNodeTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(LocalNodeTest::SetUp());
    for (const char* name : {"relay_a", "relay_b"}) {
      auto relay = ServerKinds::Create("relay");
      ASSERT_THAT(relay, IsOk());
      ASSERT_THAT(node_->Spawn(std::move(*relay), {.name = name, .kind = "relay"}), IsOk());
    }
    ASSERT_THAT(node_->Spawn(std::make_unique<Counter>(), {.name = "counter_c"}), IsOk());
  }
};

TEST_F(RelayTest, OneHopCallsTheCounterAndAnswersItsReply) {
  auto r = node_->Call<CounterReply>("relay_a", Via({"counter_c"}, CounterAdd(4)));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 4);
}

TEST_F(RelayTest, AChainOfRelaysEndsAtTheCounter) {
  auto r = node_->Call<CounterReply>("relay_a", Via({"relay_b", "counter_c"}, CounterAdd(1)));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 1);
  // The relays are free again once they answered.
  r = node_->Call<CounterReply>("relay_b", Via({"relay_a", "counter_c"}, CounterGet()));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 1);
}

TEST_F(RelayTest, EmptyViaIsInvalidAndTheRelayKeepsRunning) {
  EXPECT_THAT(node_->Call<CounterReply>("relay_a", Via({}, CounterAdd(1))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("via is empty")));
  EXPECT_THAT(node_->Call<CounterReply>("relay_a", Via({"counter_c"}, CounterGet())), IsOk());
}

TEST_F(RelayTest, DownstreamErrorsComeBackWithEveryHopInTheMessage) {
  // A name that exists nowhere, two hops down.
  EXPECT_THAT(node_->Call<CounterReply>("relay_a", Via({"relay_b", "ghost"}, CounterAdd(1))),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("relay_a -> relay_b -> ghost: ")));
  // The counter's own error (a request with no op).
  EXPECT_THAT(
      node_->Call<CounterReply>("relay_a", Via({"relay_b", "counter_c"}, CounterRequest())),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("relay_a -> relay_b -> counter_c: CounterRequest: no op set")));
  // An empty via further down is the downstream relay's error.
  EXPECT_THAT(node_->Call<CounterReply>("relay_a", Via({"relay_b"}, CounterAdd(1))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("relay_a -> relay_b: ")));
}

TEST_F(RelayTest, KindTakesNoArgs) {
  google::protobuf::Struct args;
  (*args.mutable_fields())["bogus"].set_number_value(1);
  EXPECT_THAT(ServerKinds::Create("relay", args),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bogus")));
}

TEST(RelayHopTest, KeepsTheCodeAndDetailsAndPrefixesTheHop) {
  google::protobuf::StringValue detail;
  detail.set_value("why");
  const absl::Status error = WithDetail(absl::FailedPreconditionError("no"), detail);
  const absl::Status hop = AddHop(error, "relay_b", "counter_c");
  EXPECT_THAT(hop, StatusIs(absl::StatusCode::kFailedPrecondition, "relay_b -> counter_c: no"));
  auto kept = GetDetail<google::protobuf::StringValue>(hop);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->value(), "why");
  EXPECT_EQ(AddHop(hop, "relay_a", "relay_b").message(), "relay_a -> relay_b -> counter_c: no");
  // A message that only looks like a hop of another server gets the full prefix.
  EXPECT_EQ(AddHop(hop, "relay_a", "relay_x").message(),
            "relay_a -> relay_x: relay_b -> counter_c: no");
}

// 30 relays in a row on a node with a single scheduler thread: each waits
// for the next without holding the thread, or the chain could not finish.
TEST(RelayThreadsTest, ALongChainCompletesOnOneSchedulerThread) {
  auto node = Node::Create({.name = "one", .scheduler_threads = 1});
  ASSERT_THAT(node, IsOk());
  std::vector<std::string> via;
  for (int i = 0; i < 30; ++i) {
    const std::string name = absl::StrCat("r", i);
    ASSERT_THAT((*node)->Spawn(std::make_unique<Relay>(), {.name = name}), IsOk());
    if (i > 0) via.push_back(name);
  }
  ASSERT_THAT((*node)->Spawn(std::make_unique<Counter>(41), {.name = "c"}), IsOk());
  via.push_back("c");
  auto r = (*node)->Call<CounterReply>("r0", Via(via, CounterAdd(1)));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 42);
  (*node)->Shutdown();
}

// relay_a on node a, relay_b on b, the counter on c.
TEST(RelayClusterTest, AChainCrossesNodes) {
  testing::TestNodes nodes("inproc");
  ASSERT_THAT(nodes.StartMesh({"a", "b", "c"}), IsOk());
  ASSERT_THAT(nodes[0]->Spawn(std::make_unique<Relay>(), {.name = "relay_a"}), IsOk());
  ASSERT_THAT(nodes[1]->Spawn(std::make_unique<Relay>(), {.name = "relay_b"}), IsOk());
  ASSERT_THAT(nodes[2]->Spawn(std::make_unique<Counter>(), {.name = "counter_c"}), IsOk());
  for (const char* name : {"relay_b", "counter_c"}) {
    ASSERT_THAT(testing::AwaitName(*nodes[0], name), IsOk());
    ASSERT_THAT(testing::AwaitName(*nodes[1], name), IsOk());
  }
  ASSERT_THAT(testing::AwaitName(*nodes[2], "relay_a"), IsOk());
  auto r = nodes[2]->Call<CounterReply>("relay_a", Via({"relay_b", "counter_c"}, CounterAdd(3)));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 3);
}

}  // namespace
}  // namespace polis::examples
