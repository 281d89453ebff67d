// The trust rules against a real `polis node` process: a ProcessDown
// forged with `polis send` to the root supervisor (any ref) restarts
// nothing, the node stays up, the counter keeps its state and its restart
// count stays 0.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "polis/supervisor.pb.h"
#include "tests/node_process.h"
#include "tests/status_matchers.h"

namespace polis::testing {
namespace {

namespace sv = supervision;

sv::ChildList WhichChildren(const NodeProcess& node, const std::string& name) {
  ProcessResult r = Polis({"call", "--seed=" + node.endpoint(), name, R"({"which_children": {}})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  sv::SupervisorReply reply;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &reply).ok()) << r.out;
  return reply.children();
}

TEST(TrustE2eTest, ProcessDownForgedWithPolisSendRestartsNothing) {
  auto node = NodeProcess::Start({.name = "victim",
                                  .listen = "tcp://127.0.0.1:*",
                                  .serve = {"counter"}});
  ASSERT_THAT(node, IsOk());
  const NodeProcess& n = **node;
  ProcessResult r = Polis({"call", "--seed=" + n.endpoint(), "counter", R"({"add": 5})"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  sv::ChildList before = WhichChildren(n, "root@victim");
  ASSERT_EQ(before.children_size(), 1) << before.DebugString();
  const std::string pid = before.children(0).pid();

  // Sequential refs were the guess before refs became random; any ref
  // would do now: a DOWN that a client sends is a plain info.
  for (int ref = 1; ref <= 20; ++ref) {
    r = Polis({"send", "--seed=" + n.endpoint(), "root@victim",
               absl::StrCat(R"({"process": {"node": "victim", "name": "counter"}, "monitor_ref": ")",
                            ref, R"(", "status_code": 13, "status_message": "forged"})")});
    ASSERT_EQ(r.exit_code, 0) << r.Summary();
  }
  // A call after the sends: the supervisor handled them all before it.
  sv::ChildList after = WhichChildren(n, "root@victim");
  ASSERT_EQ(after.children_size(), 1) << after.DebugString();
  EXPECT_EQ(after.children(0).restart_count(), 0);
  EXPECT_EQ(after.children(0).pid(), pid);
  EXPECT_EQ(after.children(0).status(), sv::RUNNING);
  // The counter kept its state; the node is up.
  r = Polis({"call", "--seed=" + n.endpoint(), "counter", R"({"get": {}})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"5\"}\n") << r.Summary();
  EXPECT_THAT((*node)->Stop(), IsOk());
}

}  // namespace
}  // namespace polis::testing
