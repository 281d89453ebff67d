// examples/echo_test.cc — the echo server on a local node.
#include "examples/echo.h"

#include <memory>

#include "genserver/server_kinds.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"

namespace polis::examples {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::LocalNodeTest;

class EchoTest : public LocalNodeTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(LocalNodeTest::SetUp());
    auto echo = ServerKinds::Create("echo");
    ASSERT_THAT(echo, IsOk());
    ASSERT_THAT(node_->Spawn(std::move(*echo), {.name = "echo", .kind = "echo"}), IsOk());
  }
};

TEST_F(EchoTest, RepliesWithTheRequestOfAnyType) {
  google::protobuf::StringValue s;
  s.set_value("hi");
  auto r = node_->Call<google::protobuf::StringValue>("echo", s);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), "hi");
}

TEST_F(EchoTest, RepliesWithAStruct) {
  google::protobuf::Struct s;
  (*s.mutable_fields())["hello"].set_string_value("world");
  auto r = node_->Call<google::protobuf::Struct>("echo", s);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->fields().at("hello").string_value(), "world");
}

TEST_F(EchoTest, DeclaresStructSoToolsCanBuildRequests) {
  auto d = node_->Describe("echo");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->kind(), "echo");
  ASSERT_GE(d->call_types_size(), 1);
  EXPECT_EQ(d->call_types(0), "google.protobuf.Struct");
  EXPECT_FALSE(d->file_descriptor_set().empty());
}

TEST_F(EchoTest, CastsAreAcceptedAndDropped) {
  google::protobuf::StringValue s;
  EXPECT_THAT(node_->Cast("echo", s), IsOk());
  EXPECT_THAT(node_->Call<google::protobuf::StringValue>("echo", s), IsOk());
}

}  // namespace
}  // namespace polis::examples
