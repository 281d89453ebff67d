// tests/node_fixtures.cc — see node_fixtures.h.
#include "tests/node_fixtures.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "tests/status_matchers.h"

namespace polis::testing {

std::string TestEndpoint(const std::string& transport, const std::string& node,
                         const std::string& ipc_dir) {
  static std::atomic<int> counter{0};
  if (transport == "tcp") return "tcp://127.0.0.1:*";
  const std::string unique = absl::StrCat("polis-test-", getpid(), "-", node, "-", counter++);
  if (transport == "inproc") return absl::StrCat("inproc://", unique);
  if (transport == "ipc") return absl::StrCat("ipc://", ipc_dir, "/", unique);
  ADD_FAILURE() << "unknown transport \"" << transport << "\" (inproc, tcp or ipc)";
  return "";
}

absl::StatusOr<std::unique_ptr<Node>> StartNode(NodeOptions options) {
  if (options.scheduler_threads == 0) options.scheduler_threads = 2;
  return Node::Create(std::move(options));
}

absl::StatusOr<std::unique_ptr<Node>> StartJoinedNode(NodeOptions options,
                                                      absl::Duration join_timeout) {
  const std::string name = options.name;
  absl::StatusOr<std::unique_ptr<Node>> node = StartNode(std::move(options));
  if (!node.ok()) return node.status();
  if (absl::Status joined = (*node)->Join(join_timeout); !joined.ok()) {
    return absl::Status(joined.code(), absl::StrCat("node ", name, ": ", joined.message()));
  }
  return node;
}

absl::Status AwaitName(const Node& node, const std::string& name, absl::Duration timeout) {
  if (node.AwaitName(name, timeout).ok()) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat("node ", node.name(), " never learnt of ", name,
                                                  " within ", absl::FormatDuration(timeout)));
}

void LocalNodeTest::SetUp() {
  absl::StatusOr<std::unique_ptr<Node>> node = StartNode({.name = name_});
  ASSERT_THAT(node, IsOk());
  node_ = *std::move(node);
}

void LocalNodeTest::TearDown() {
  if (node_ != nullptr) node_->Shutdown();
}

absl::StatusOr<Node*> TestNodes::Start(const std::string& name, std::vector<std::string> seeds) {
  NodeOptions options;
  options.name = name;
  options.listen = Endpoint(name);
  options.seeds = std::move(seeds);
  absl::StatusOr<std::unique_ptr<Node>> node = StartNode(std::move(options));
  if (!node.ok()) return node.status();
  nodes_.push_back(*std::move(node));
  return nodes_.back().get();
}

absl::StatusOr<Node*> TestNodes::StartClient(const std::string& name,
                                             std::vector<std::string> seeds) {
  NodeOptions options;
  options.name = name;
  options.client = true;
  options.seeds = std::move(seeds);
  absl::StatusOr<std::unique_ptr<Node>> node = StartNode(std::move(options));
  if (!node.ok()) return node.status();
  nodes_.push_back(*std::move(node));
  return nodes_.back().get();
}

absl::Status TestNodes::StartMesh(const std::vector<std::string>& names,
                                  absl::Duration join_timeout) {
  if (names.empty()) return absl::OkStatus();
  absl::StatusOr<Node*> seed = Start(names[0]);
  if (!seed.ok()) return seed.status();
  std::vector<Node*> joining;
  for (size_t i = 1; i < names.size(); ++i) {
    absl::StatusOr<Node*> node = Start(names[i], {(*seed)->endpoint()});
    if (!node.ok()) return node.status();
    joining.push_back(*node);
  }
  for (Node* node : joining) {
    if (absl::Status joined = node->Join(join_timeout); !joined.ok()) {
      return absl::Status(joined.code(),
                          absl::StrCat("node ", node->name(), ": ", joined.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace polis::testing
