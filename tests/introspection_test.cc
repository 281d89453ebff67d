// Node::Info across nodes in this process: a node describes itself (its
// entry, its members, its servers with kind, pid and restarts), and a member
// asked by name answers with its own view; a node that is not a member is
// UNAVAILABLE. (`polis nodes` / `polis ps` on real processes: tools/
// cluster_commands_test.cc.)
#include <memory>
#include <string>

#include "examples/counter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"

namespace polis::testing {
namespace {

using ::testing::HasSubstr;

const wire::ServerInfo* Server(const wire::NodeInfo& info, const std::string& name) {
  for (const wire::ServerInfo& s : info.servers()) {
    if (s.name() == name) return &s;
  }
  return nullptr;
}

class IntrospectionTest : public ::testing::TestWithParam<std::string> {
 protected:
  TestNodes nodes_{GetParam()};
};

TEST_P(IntrospectionTest, NodeDescribesItselfItsMembersAndItsServersSorted) {
  ASSERT_THAT(nodes_.StartMesh({"a", "b"}), IsOk());
  Node& a = *nodes_[0];
  absl::StatusOr<Pid> zed =
      a.Spawn(std::make_unique<examples::Counter>(), {.name = "zed", .kind = "counter"});
  ASSERT_THAT(zed, IsOk());
  ASSERT_THAT(a.Spawn(std::make_unique<examples::Counter>(), {.name = "abe", .kind = "counter"}),
              IsOk());
  ASSERT_TRUE(WaitFor([&] { return nodes_[1]->Peers().size() == 1; }));

  absl::StatusOr<wire::NodeInfo> info = a.Info();
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->self().node(), "a");
  EXPECT_EQ(info->self().endpoint(), a.endpoint());
  EXPECT_EQ(info->self().incarnation(), a.incarnation());
  EXPECT_GT(info->self().started_unix_ns(), 0);
  ASSERT_EQ(info->members_size(), 1) << info->DebugString();
  EXPECT_EQ(info->members(0).node(), "b");
  EXPECT_EQ(info->members(0).state(), "up");
  EXPECT_EQ(info->members(0).incarnation(), nodes_[1]->incarnation());
  ASSERT_EQ(info->servers_size(), 2) << info->DebugString();
  EXPECT_EQ(info->servers(0).name(), "abe");  // sorted by name
  EXPECT_EQ(info->servers(1).name(), "zed");
  EXPECT_EQ(info->servers(1).pid(), zed->id);
  EXPECT_EQ(info->servers(1).kind(), "counter");
  EXPECT_EQ(info->servers(1).restarts(), 0);
  EXPECT_GE(info->servers(1).mailbox(), 0);

  // The same, asked of a by name from b: a's own answer.
  absl::StatusOr<wire::NodeInfo> remote = nodes_[1]->Info("a");
  ASSERT_THAT(remote, IsOk());
  EXPECT_EQ(remote->self().node(), "a");
  ASSERT_NE(Server(*remote, "zed"), nullptr) << remote->DebugString();
  EXPECT_EQ(Server(*remote, "zed")->pid(), zed->id);
}

TEST_P(IntrospectionTest, RestartsCountTheNameRegisteredAgain) {
  ASSERT_THAT(nodes_.StartMesh({"a"}), IsOk());
  Node& a = *nodes_[0];
  ASSERT_THAT(a.Spawn(std::make_unique<examples::Counter>(), {.name = "c", .kind = "counter"}),
              IsOk());
  ASSERT_THAT(a.Stop("c"), IsOk());
  absl::StatusOr<Pid> again =
      a.Spawn(std::make_unique<examples::Counter>(), {.name = "c", .kind = "counter"});
  ASSERT_THAT(again, IsOk());
  ASSERT_THAT(a.Spawn(std::make_unique<examples::Counter>(), {}), IsOk());  // unnamed

  absl::StatusOr<wire::NodeInfo> info = a.Info("a");  // its own name: local
  ASSERT_THAT(info, IsOk());
  ASSERT_EQ(info->servers_size(), 2) << info->DebugString();
  EXPECT_EQ(info->servers(0).name(), "");  // unnamed first
  EXPECT_EQ(info->servers(0).restarts(), 0);
  const wire::ServerInfo* c = Server(*info, "c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->pid(), again->id);
  EXPECT_EQ(c->restarts(), 1);
}

TEST_P(IntrospectionTest, ANodeThatIsNotAMemberIsUnavailable) {
  ASSERT_THAT(nodes_.StartMesh({"a"}), IsOk());
  EXPECT_THAT(nodes_[0]->Info("nobody", absl::Seconds(1)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("nobody")));
}

INSTANTIATE_TEST_SUITE_P(Transports, IntrospectionTest, ::testing::Values("inproc", "tcp"));

}  // namespace
}  // namespace polis::testing
