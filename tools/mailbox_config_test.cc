// tools/mailbox_config_test.cc — `max_mailbox` in `polis node`'s config
// file: on a serve entry and on a supervision child, passed to the child
// spec the root supervisor starts; bad values refused naming the file and
// the field. (The bound at work, with real processes:
// tests/mailbox_e2e_test.cc.)
#include <string>

#include "genserver/supervisor_child.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tools/node_config.h"

namespace polis::tools {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(MailboxConfigTest, ServeAndSupervisionChildrenCarryTheirBound) {
  auto c = ParseNodeConfig(R"(
    name: "a"
    serve { kind: "counter" name: "slow" max_mailbox: 100 }
    serve { kind: "echo" max_mailbox: 0 }
    serve { kind: "kv" }
    supervision { children { id: "hits" kind: "counter" name: "hits" max_mailbox: 5000 } }
  )",
                           "a.textproto");
  ASSERT_THAT(c, IsOk());
  auto root = RootSupervisorSpec(*c);
  ASSERT_THAT(root, IsOk());
  ASSERT_EQ(root->children_size(), 4);
  EXPECT_EQ(root->children(0).max_mailbox(), 5000);
  EXPECT_EQ(root->children(1).name(), "slow");
  EXPECT_EQ(root->children(1).max_mailbox(), 100);
  EXPECT_EQ(MaxMailboxOf(root->children(1)), 100);
  EXPECT_TRUE(root->children(2).has_max_mailbox());  // 0 = no bound, not "unset".
  EXPECT_EQ(MaxMailboxOf(root->children(2)), 0);
  EXPECT_FALSE(root->children(3).has_max_mailbox());
  EXPECT_EQ(MaxMailboxOf(root->children(3)), SpawnOptions::kDefaultMaxMailbox);
}

TEST(MailboxConfigTest, TheLargestBoundIsAccepted) {
  EXPECT_THAT(
      ParseNodeConfig(absl::StrCat("serve { kind: \"echo\" max_mailbox: ", kMaxMailboxLimit, " }"),
                      "f"),
      IsOk());
}

TEST(MailboxConfigTest, NegativeOrTooBigServeBoundNamesTheFileEntryAndField) {
  EXPECT_THAT(ParseNodeConfig("name: \"a\"\nserve { kind: \"echo\" }\n"
                              "serve { kind: \"counter\" max_mailbox: -1 }\n",
                              "m.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("m.textproto: serve[1] (kind 'counter'): max_mailbox"),
                             HasSubstr("got -1"))));
  EXPECT_THAT(
      ParseNodeConfig(
          absl::StrCat("serve { kind: \"echo\" max_mailbox: ", kMaxMailboxLimit + 1, " }"),
          "m.textproto"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("m.textproto: serve[0] (kind 'echo'): max_mailbox must be in [0, "
                               "1000000000]"),
                     HasSubstr("got 1000000001"))));
}

TEST(MailboxConfigTest, BadBoundInTheSupervisionTreeNamesTheChild) {
  EXPECT_THAT(
      ParseNodeConfig("supervision { children { id: \"w\" supervisor { children { id: \"c\" "
                      "kind: \"counter\" max_mailbox: -5 } } } }",
                      "t.textproto"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("t.textproto: supervision.children[0] (id 'w').supervisor."
                               "children[0] (id 'c'): max_mailbox"),
                     HasSubstr("got -5"))));
}

TEST(MailboxConfigTest, NonIntegerOrOutOfRangeNumberNamesFileLineAndField) {
  EXPECT_THAT(
      ParseNodeConfig("name: \"a\"\nserve { kind: \"echo\" max_mailbox: 1.5 }\n", "n.textproto"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("n.textproto:2:35: field max_mailbox: ")));
  EXPECT_THAT(
      ParseNodeConfig("serve {\n  kind: \"echo\"\n  max_mailbox:  \"many\"\n}\n", "n.textproto"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("n.textproto:3:17: field max_mailbox: ")));
  EXPECT_THAT(ParseNodeConfig("serve {\n\tkind: \"echo\"\n\tmax_mailbox:\t-2.5\n}\n", "tabs"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("tabs:3:"), HasSubstr(": field max_mailbox: "))));
  EXPECT_THAT(
      ParseNodeConfig("serve { kind: \"echo\" max_mailbox: 99999999999999999999 }", "n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("n:1:35: field max_mailbox: ")));
  EXPECT_THAT(ParseNodeConfig(
                  "supervision { children { id: \"c\" kind: \"counter\" max_mailbox: 1e3 } }", "n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field max_mailbox: ")));
}

TEST(MailboxConfigTest, StartChildAtRunTimeChecksTheBoundToo) {
  supervision::ChildSpec spec;
  spec.set_id("c");
  spec.set_kind("counter");
  spec.set_max_mailbox(-1);
  EXPECT_THAT(ChildFromSpec(spec).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("child 'c'"), HasSubstr("max_mailbox"))));
  spec.set_max_mailbox(10);
  EXPECT_THAT(ChildFromSpec(spec).status(), IsOk());
}

}  // namespace
}  // namespace polis::tools
