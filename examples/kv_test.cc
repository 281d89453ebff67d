// examples/kv_test.cc — the kv server on a local node.
#include "examples/kv.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"

namespace polis::examples {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::LocalNodeTest;
using ::polis::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

KvRequest Put(const std::string& k, const std::string& v) {
  KvRequest r;
  r.mutable_put()->set_key(k);
  r.mutable_put()->set_value(v);
  return r;
}
KvRequest GetKey(const std::string& k) {
  KvRequest r;
  r.mutable_get()->set_key(k);
  return r;
}
KvRequest Delete(const std::string& k) {
  KvRequest r;
  r.mutable_delete_()->set_key(k);
  return r;
}

class KvTest : public LocalNodeTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(LocalNodeTest::SetUp());
    ASSERT_THAT(node_->Spawn(std::make_unique<Kv>(), {.name = "kv"}), IsOk());
  }
  absl::StatusOr<KvReply> Do(const KvRequest& r) { return node_->Call<KvReply>("kv", r); }
};

TEST_F(KvTest, PutThenGetReturnsTheValue) {
  EXPECT_FALSE(Do(Put("a", "1"))->existed());
  EXPECT_TRUE(Do(Put("a", "2"))->existed());
  EXPECT_EQ(Do(GetKey("a"))->value(), "2");
}

TEST_F(KvTest, GetOfAMissingKeyIsNotFoundAndTheServerKeepsRunning) {
  EXPECT_THAT(Do(GetKey("nope")), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
  ASSERT_THAT(Do(Put("a", "1")), IsOk());
  EXPECT_EQ(Do(GetKey("a"))->value(), "1");
}

TEST_F(KvTest, DeleteRemovesAndSaysWhetherTheKeyExisted) {
  ASSERT_THAT(Do(Put("a", "1")), IsOk());
  EXPECT_TRUE(Do(Delete("a"))->existed());
  EXPECT_FALSE(Do(Delete("a"))->existed());
  EXPECT_THAT(Do(GetKey("a")), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(KvTest, ListReturnsSortedKeys) {
  ASSERT_THAT(Do(Put("b", "")), IsOk());
  ASSERT_THAT(Do(Put("a", "")), IsOk());
  KvRequest list;
  list.mutable_list();
  EXPECT_THAT(Do(list)->keys(), ElementsAre("a", "b"));
}

TEST_F(KvTest, EmptyRequestIsInvalid) {
  EXPECT_THAT(Do(KvRequest()), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace polis::examples
