// tests/node_fixtures.h — nodes for tests: one local node per test, or
// several nodes in this process connected over inproc, tcp or ipc.
//
// LocalNodeTest is a fixture with one node that listens nowhere (no
// sockets: local names only). TestNodes starts nodes over one transport,
// each on a fresh endpoint (TestEndpoint: "tcp://127.0.0.1:*" with the port
// read back from Node::endpoint(), or an inproc/ipc name no other test
// uses); StartMesh seeds the others with the first and joins them with a
// deadline. AwaitName waits for gossip to spread a name. Test nodes run 2 scheduler threads unless
// told otherwise: tests running in parallel share the machine's cores.
//
// For node/ and higher tests (target polis::testing_node).
//
// Thread-safety: StartNode, StartJoinedNode, TestEndpoint and AwaitName are
// thread-safe; a TestNodes is used by the test's thread.
//
// Example:
//   class ClusterTest : public ::testing::TestWithParam<std::string> {
//     TestNodes nodes_{GetParam()};  // "inproc", "tcp" or "ipc"
//   };
//   ASSERT_THAT(nodes_.StartMesh({"a", "b", "c"}), IsOk());
//   ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<Rec>(), {.name = "rec"}), IsOk());
//   ASSERT_THAT(AwaitName(*nodes_[1], "rec"), IsOk());
#ifndef POLIS_TESTS_NODE_FIXTURES_H_
#define POLIS_TESTS_NODE_FIXTURES_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/wait.h"

namespace polis::testing {

// How long a test node waits for its seed's handshake (Node::Join).
inline constexpr absl::Duration kJoinTimeout = absl::Seconds(10);

// A fresh endpoint for node `node` to listen on over `transport`:
//   "inproc": inproc://polis-test-PID-NODE-N
//   "tcp":    tcp://127.0.0.1:*  (a free port, chosen when bound: read the
//             endpoint back from Node::endpoint())
//   "ipc":    ipc://IPC_DIR/polis-test-PID-NODE-N
// N counts the endpoints made in this process, PID tells apart test
// processes running at once: no two calls return the same inproc or ipc
// name. Another `transport` is a test failure (and returns "").
std::string TestEndpoint(const std::string& transport, const std::string& node,
                         const std::string& ipc_dir = "/tmp");

// Node::Create for a test: `options` as given, except that a
// scheduler_threads of 0 becomes 2. Node::Create's error.
absl::StatusOr<std::unique_ptr<Node>> StartNode(NodeOptions options);

// StartNode, then Join within `join_timeout`: a node whose handshake with a
// seed has finished. The error of either, naming the node.
absl::StatusOr<std::unique_ptr<Node>> StartJoinedNode(NodeOptions options,
                                                      absl::Duration join_timeout = kJoinTimeout);

// Waits until `node` resolves `name`, here or on a peer (gossip is
// asynchronous). DEADLINE_EXCEEDED ("node A never learnt of NAME") if it
// does not within `timeout`.
absl::Status AwaitName(const Node& node, const std::string& name,
                       absl::Duration timeout = kWaitTimeout);

// A fixture with one local node, `node_` (named as the constructor says;
// it listens nowhere), started before each test and shut down after it, in
// TearDown: every server's Terminate has run before the derived fixture's
// members (a Journal the servers write to) are destroyed.
//
//   class CounterTest : public LocalNodeTest {};
//   TEST_F(CounterTest, X) { ASSERT_THAT(node_->Spawn(...), IsOk()); }
//
// A fixture with more to set up calls ASSERT_NO_FATAL_FAILURE(
// LocalNodeTest::SetUp()) first.
class LocalNodeTest : public ::testing::Test {
 protected:
  explicit LocalNodeTest(std::string name = "t") : name_(std::move(name)) {}

  void SetUp() override;
  void TearDown() override;

  std::unique_ptr<Node> node_;

 private:
  std::string name_;
};

// Nodes in this process over one transport ("inproc", "tcp", "ipc"), each
// listening on a fresh TestEndpoint. Owns them: they are shut down when the
// group is destroyed (or by the test, with Node::Shutdown).
class TestNodes {
 public:
  explicit TestNodes(std::string transport) : transport_(std::move(transport)) {}
  TestNodes(const TestNodes&) = delete;
  TestNodes& operator=(const TestNodes&) = delete;

  const std::string& transport() const { return transport_; }
  // A fresh endpoint for node `node` over this group's transport.
  std::string Endpoint(const std::string& node) const { return TestEndpoint(transport_, node); }

  // Starts node `name` listening on Endpoint(name), seeded by `seeds`,
  // without waiting for its handshake (see Node::Join). Node::Create's
  // error. The node stays valid as long as the group.
  absl::StatusOr<Node*> Start(const std::string& name, std::vector<std::string> seeds = {});

  // Starts a client node (NodeOptions::client: not listening, never a
  // member) named `name`, seeded by `seeds`, without waiting for its view.
  absl::StatusOr<Node*> StartClient(const std::string& name, std::vector<std::string> seeds);

  // Starts names[0], then every other name seeded by names[0], then joins
  // each of those within `join_timeout`: all connected through the first
  // (each learns of the others from it). The first error.
  absl::Status StartMesh(const std::vector<std::string>& names,
                         absl::Duration join_timeout = kJoinTimeout);

  // The i-th node started (0-based).
  Node* operator[](size_t i) const { return nodes_.at(i).get(); }
  size_t size() const { return nodes_.size(); }

 private:
  std::string transport_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace polis::testing

#endif  // POLIS_TESTS_NODE_FIXTURES_H_
