// tools/node_config_test.cc — the supervision part of `polis node`'s
// config: trees in the file, their checks, and how --serve and --root merge
// into the root supervisor. (Plain settings and flags: cli_test.cc.)
#include "tools/node_config.h"

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tools/args.h"
#include "examples/echo.h"
#include "examples/examples.pb.h"
#include "genserver/server_kinds.h"

namespace polis::tools {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace sv = supervision;

const std::map<std::string, FlagKind> kNodeFlags = {
    {"name", FlagKind::kValue}, {"serve", FlagKind::kValue}, {"root", FlagKind::kValue}};

constexpr char kTree[] = R"(
  name: "a"
  supervision {
    strategy: ONE_FOR_ONE
    intensity: 2
    period_ms: 10000
    backoff { constant { delay_ms: 50 } }
    children { id: "hits" kind: "counter" name: "hits"
               args { fields { key: "initial" value { number_value: 7 } } } }
    children {
      id: "workers" name: "workers" shutdown_timeout_ms: 2000
      supervisor {
        strategy: REST_FOR_ONE
        children { id: "db" kind: "kv" name: "db" restart: TRANSIENT }
        children { id: "echo" kind: "echo" }
      }
    }
    children { id: "sessions" dynamic_supervisor { max_children: 3
                                                   child_template { kind: "counter" } } }
  }
)";

TEST(NodeConfigSupervisionTest, ParsesATreeWithNestedSupervisors) {
  auto c = ParseNodeConfig(kTree, "a.textproto");
  ASSERT_THAT(c, IsOk());
  const sv::SupervisorSpec& tree = c->supervision();
  EXPECT_EQ(tree.intensity(), 2);
  EXPECT_EQ(tree.backoff().constant().delay_ms(), 50);
  ASSERT_EQ(tree.children_size(), 3);
  EXPECT_EQ(tree.children(0).args().fields().at("initial").number_value(), 7);
  const sv::SupervisorSpec& workers = tree.children(1).supervisor();
  EXPECT_EQ(workers.strategy(), sv::REST_FOR_ONE);
  ASSERT_EQ(workers.children_size(), 2);
  EXPECT_EQ(workers.children(0).restart(), sv::TRANSIENT);
  EXPECT_EQ(tree.children(2).dynamic_supervisor().max_children(), 3);
}

TEST(NodeConfigSupervisionTest, UnknownKindNamesTheFileTheFieldAndTheKnownKinds) {
  auto c = ParseNodeConfig(R"(
    name: "a"
    supervision { children { id: "w" supervisor {
      children { id: "ok" kind: "counter" }
      children { id: "x" kind: "nope" } } } }
  )",
                           "bad.textproto");
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument,
                          AllOf(HasSubstr("bad.textproto: supervision.children[0] (id 'w')"
                                          ".supervisor.children[1] (id 'x')"),
                                HasSubstr("unknown server kind \"nope\""), HasSubstr("counter"))));
}

TEST(NodeConfigSupervisionTest, BadArgsOfAKindAreRefusedByField) {
  auto c = ParseNodeConfig(R"(
    supervision { children { id: "c" kind: "counter"
                             args { fields { key: "bogus" value { number_value: 1 } } } } }
  )",
                           "args.textproto");
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument,
                          AllOf(HasSubstr("args.textproto: supervision.children[0] (id 'c')"),
                                HasSubstr("bogus"))));
}

TEST(NodeConfigSupervisionTest, BadStrategyIsRefusedWithFileAndLine) {
  // A name the enum does not have: the parser's error, with a position
  // (where the parser noticed: the token after the value).
  EXPECT_THAT(
      ParseNodeConfig("name: \"a\"\nsupervision {\n  strategy: ONE_FOR_NONE\n}\n", "s.textproto"),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          AllOf(HasSubstr("s.textproto:"), HasSubstr("\"ONE_FOR_NONE\""), HasSubstr("strategy"))));
  // A number the enum does not have is refused too (by the parser or, as
  // proto3 enums are open, by the tree check), naming the file and field.
  EXPECT_THAT(ParseNodeConfig("supervision { children { id: \"w\" supervisor { strategy: 7 } } }",
                              "n.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("n.textproto"), HasSubstr("strategy"))));
}

TEST(NodeConfigSupervisionTest, DuplicateIdsAmongSiblingsAreRefused) {
  EXPECT_THAT(ParseNodeConfig(R"(
    supervision {
      children { id: "c" kind: "counter" name: "c1" }
      children { id: "c" kind: "counter" name: "c2" } }
  )",
                              "dup.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("dup.textproto: supervision.children[1] (id 'c')"),
                             HasSubstr("duplicate child id"))));
}

TEST(NodeConfigSupervisionTest, SameIdUnderDifferentParentsIsFineButNamesAreNodeWide) {
  EXPECT_THAT(ParseNodeConfig(R"(
    supervision {
      children { id: "c" kind: "counter" }
      children { id: "w" supervisor { children { id: "c" kind: "counter" } } } }
  )",
                              "ids.textproto"),
              IsOk());
  EXPECT_THAT(ParseNodeConfig(R"(
    supervision {
      children { id: "c" kind: "counter" name: "hits" }
      children { id: "w" supervisor { children { id: "c" kind: "counter" name: "hits" } } } }
  )",
                              "names.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("names.textproto: supervision.children[1] (id 'w')"),
                             HasSubstr("name 'hits'"))));
}

TEST(NodeConfigSupervisionTest, BadPolicyAndChildSettingsAreRefusedByField) {
  EXPECT_THAT(ParseNodeConfig("supervision { intensity: -1 }", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("f: supervision"), HasSubstr("intensity"))));
  EXPECT_THAT(
      ParseNodeConfig("supervision { backoff { exponential { initial_ms: 1 jitter: 2 } } }", "f"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("f: supervision.backoff")));
  EXPECT_THAT(ParseNodeConfig("supervision { children { kind: \"counter\" } }", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("supervision.children[0]"), HasSubstr("id"))));
  EXPECT_THAT(ParseNodeConfig("supervision { children { id: \"x\" } }", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("set one of kind, supervisor or dynamic_supervisor")));
  EXPECT_THAT(
      ParseNodeConfig("supervision { children { id: \"d\" dynamic_supervisor { "
                      "child_template { kind: \"nope\" } } } }",
                      "f"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("supervision.children[0] (id 'd').dynamic_supervisor.child_template")));
}

TEST(NodeConfigSupervisionTest, ServeFlagsAreAppendedToTheFileTree) {
  auto c = ParseNodeConfig(kTree, "a.textproto");
  ASSERT_THAT(c, IsOk());
  auto args = ParseArgs({"--serve=counter,kv:store"}, kNodeFlags);
  ASSERT_THAT(args, IsOk());
  ASSERT_THAT(ApplyNodeFlags(*args, &*c), IsOk());
  auto root = RootSupervisorSpec(*c);
  ASSERT_THAT(root, IsOk());
  // The file's policy is kept; its children come first.
  EXPECT_EQ(root->intensity(), 2);
  EXPECT_EQ(root->period_ms(), 10000);
  ASSERT_EQ(root->children_size(), 5);
  EXPECT_EQ(root->children(0).id(), "hits");
  EXPECT_EQ(root->children(2).id(), "sessions");
  const sv::ChildSpec& counter = root->children(3);
  EXPECT_EQ(counter.id(), "counter");
  EXPECT_EQ(counter.name(), "counter");
  EXPECT_EQ(counter.kind(), "counter");
  EXPECT_EQ(counter.restart(), sv::PERMANENT);
  EXPECT_EQ(root->children(4).id(), "store");
  EXPECT_EQ(root->children(4).kind(), "kv");
  EXPECT_EQ(RootName(*c), "root@a");
}

TEST(NodeConfigSupervisionTest, WithoutATreeTheRootHasTheNodeDefaults) {
  NodeConfig c;
  auto args = ParseArgs({"--name=n", "--serve=counter", "--root=top"}, kNodeFlags);
  ASSERT_THAT(args, IsOk());
  ASSERT_THAT(ApplyNodeFlags(*args, &c), IsOk());
  EXPECT_EQ(RootName(c), "top");
  auto root = RootSupervisorSpec(c);
  ASSERT_THAT(root, IsOk());
  EXPECT_EQ(root->strategy(), sv::ONE_FOR_ONE);
  EXPECT_EQ(root->intensity(), kRootIntensity);
  EXPECT_EQ(root->period_ms(), kRootPeriodMs);
  EXPECT_FALSE(root->has_backoff());
  ASSERT_EQ(root->children_size(), 1);
  EXPECT_EQ(root->children(0).kind(), "counter");
}

// The merged tree, as RootSupervisorSpec checks it after the flags.
absl::Status MergeError(const NodeConfig& file, const std::vector<std::string>& flags) {
  NodeConfig c = file;
  absl::StatusOr<ParsedArgs> args = ParseArgs(flags, kNodeFlags);
  if (!args.ok()) return args.status();
  if (absl::Status s = ApplyNodeFlags(*args, &c); !s.ok()) return s;
  return RootSupervisorSpec(c).status();
}

TEST(NodeConfigSupervisionTest, ServeEntriesThatCollideOrAreUnknownAreRefused) {
  auto c = ParseNodeConfig(kTree, "a.textproto");
  ASSERT_THAT(c, IsOk());
  // "hits" is a child of the file's tree already.
  EXPECT_THAT(MergeError(*c, {"--serve=counter:hits"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("serve counter:hits"), HasSubstr("'hits'"))));
  // "db" is a name deep in the tree (names are node-wide).
  EXPECT_THAT(MergeError(*c, {"--serve=kv:db"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("serve kv:db"), HasSubstr("name 'db'"))));
  EXPECT_THAT(MergeError(*c, {"--serve=nope"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("serve nope:nope"), HasSubstr("unknown server kind"))));
  // The root's own name is taken too.
  EXPECT_THAT(MergeError(*c, {"--serve=counter:top", "--root=top"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name 'top'")));
  EXPECT_THAT(MergeError(*c, {"--serve=counter,echo:e"}), IsOk());
}

// A free-form kind: takes its args Struct as is.
POLIS_REGISTER_SERVER_KIND(
    "node_config_test_free",
    [](const google::protobuf::Struct&) -> absl::StatusOr<std::unique_ptr<Behaviour>> {
      return std::make_unique<examples::Echo>();
    });

TEST(NodeConfigTypedArgsTest, ExpandedAnySyntaxGivesACounterItsArgsExactly) {
  auto c = ParseNodeConfig(R"(
    serve { kind: "counter" name: "c"
            typed_args { [type.googleapis.com/polis.examples.CounterArgs] { initial: 9007199254740993 } } }
    supervision { children { id: "d" kind: "counter"
      typed_args { [type.googleapis.com/polis.examples.CounterArgs] { initial: -9007199254740993 } } } }
  )",
                           "typed.textproto");
  ASSERT_THAT(c, IsOk());
  examples::CounterArgs args;
  ASSERT_TRUE(c->serve(0).typed_args().UnpackTo(&args));
  EXPECT_EQ(args.initial(), 9007199254740993);
  auto root = RootSupervisorSpec(*c);
  ASSERT_THAT(root, IsOk());
  ASSERT_EQ(root->children_size(), 2);
  ASSERT_TRUE(root->children(0).typed_args().UnpackTo(&args));
  EXPECT_EQ(args.initial(), -9007199254740993);
  ASSERT_TRUE(root->children(1).typed_args().UnpackTo(&args));
  EXPECT_EQ(args.initial(), 9007199254740993);
  EXPECT_FALSE(root->children(1).has_args());
}

TEST(NodeConfigTypedArgsTest, AnUnknownAnyTypeNamesTheFileAndHowToWriteIt) {
  auto c = ParseNodeConfig(R"(
    serve { kind: "counter"
            typed_args { [type.googleapis.com/polis.examples.NoSuchArgs] { initial: 1 } } }
  )",
                           "t.textproto");
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument,
                          AllOf(HasSubstr("t.textproto:3:"), HasSubstr("polis.examples.NoSuchArgs"),
                                HasSubstr("typed_args takes a message type linked into"))));
}

// A file's typed_args may use a type only a plugin it loads defines: the
// plugins are read from it before it is parsed for real.
TEST(NodeConfigTypedArgsTest, PluginsToLoadReadsTheFileDespiteAnAnyTypeNotYetKnown) {
  const std::string path = ::testing::TempDir() + "/plugins_to_load.textproto";
  {
    std::ofstream out(path);
    out << R"(name: "a"
      load: "./liba.so"
      load: "./libb.so"
      serve { kind: "accounts"
              typed_args { [type.googleapis.com/accounts.AccountsArgs] { opening_cents: 7 } } })";
  }
  ASSERT_THAT(LoadNodeConfig(path, TreeCheck::kLater),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("accounts.AccountsArgs")));
  auto args = ParseArgs({"--config=" + path, "--load=./libb.so,./libc.so"},
                        {{"config", FlagKind::kValue}, {"load", FlagKind::kList}});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(PluginsToLoad(*args), ElementsAre("./liba.so", "./libb.so", "./libc.so"));
  auto flags_only = ParseArgs({"--load=./libc.so"}, {{"load", FlagKind::kList}});
  ASSERT_TRUE(flags_only.ok()) << flags_only.status();
  EXPECT_THAT(PluginsToLoad(*flags_only), ElementsAre("./libc.so"));
}

TEST(NodeConfigTypedArgsTest, TypedArgsOfAnotherTypeAreRefusedAtLoad) {
  auto c = ParseNodeConfig(R"(
    supervision { children { id: "c" kind: "counter"
      typed_args { [type.googleapis.com/polis.examples.CounterReply] { value: 1 } } } }
  )",
                           "t.textproto");
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument,
                          AllOf(HasSubstr("t.textproto: supervision.children[0] (id 'c')"),
                                HasSubstr("kind counter takes polis.examples.CounterArgs, got "
                                          "polis.examples.CounterReply"))));
  auto serve = ParseNodeConfig(R"(
    serve { kind: "echo" name: "e"
            typed_args { [type.googleapis.com/polis.examples.CounterArgs] { initial: 1 } } }
  )",
                               "t.textproto");
  ASSERT_THAT(serve, IsOk());  // serve entries are checked with the flags, as the tree.
  EXPECT_THAT(RootSupervisorSpec(*serve),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("serve echo:e"),
                             HasSubstr("kind echo takes google.protobuf.Empty, got "
                                       "polis.examples.CounterArgs"))));
}

TEST(NodeConfigTypedArgsTest, AStructNumberThatADoubleCannotHoldIsRefusedNamingTheField) {
  auto c = ParseNodeConfig(R"(
    serve { kind: "counter" name: "c"
            args { fields { key: "initial" value { number_value: 9007199254740993 } } } }
  )",
                           "t.textproto");
  ASSERT_THAT(c, IsOk());
  EXPECT_THAT(RootSupervisorSpec(*c),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("serve counter:c"), HasSubstr("kind counter: args.initial"),
                             HasSubstr("typed_args"))));
  auto fraction = ParseNodeConfig(R"(
    supervision { children { id: "c" kind: "counter"
      args { fields { key: "initial" value { number_value: 2.5 } } } } }
  )",
                                  "t.textproto");
  EXPECT_THAT(fraction, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("kind counter: args.initial: must be a whole number")));
  auto wrong = ParseNodeConfig(R"(
    supervision { children { id: "c" kind: "counter"
      args { fields { key: "initial" value { bool_value: true } } } } }
  )",
                               "t.textproto");
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kInvalidArgument,
                              HasSubstr("args.initial: expected a whole number, got a bool")));
}

TEST(NodeConfigTypedArgsTest, BothFormsOrTypedArgsForAFreeFormKindAreRefused) {
  auto both = ParseNodeConfig(R"(
    supervision { children { id: "c" kind: "counter"
      args { fields { key: "initial" value { number_value: 1 } } }
      typed_args { [type.googleapis.com/polis.examples.CounterArgs] { initial: 1 } } } }
  )",
                              "t.textproto");
  EXPECT_THAT(both, StatusIs(absl::StatusCode::kInvalidArgument,
                             HasSubstr("give args or typed_args, not both")));
  auto free = ParseNodeConfig(R"(
    supervision { children { id: "f" kind: "node_config_test_free"
      typed_args { [type.googleapis.com/polis.examples.CounterArgs] { initial: 1 } } } }
  )",
                              "t.textproto");
  EXPECT_THAT(free, StatusIs(absl::StatusCode::kInvalidArgument,
                             HasSubstr("kind node_config_test_free takes free-form args")));
}

TEST(NodeConfigTypedArgsTest, ADynamicTemplatesArgsAreCheckedAtLoad) {
  auto good = ParseNodeConfig(R"(
    supervision { children { id: "s" dynamic_supervisor { child_template { kind: "counter"
      typed_args { [type.googleapis.com/polis.examples.CounterArgs] { initial: 3 } } } } } }
  )",
                              "t.textproto");
  EXPECT_THAT(good, IsOk());
  auto bad = ParseNodeConfig(R"(
    supervision { children { id: "s" dynamic_supervisor { child_template { kind: "counter"
      args { fields { key: "bogus" value { number_value: 1 } } } } } } }
  )",
                             "t.textproto");
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument,
                            AllOf(HasSubstr("dynamic_supervisor.child_template"),
                                  HasSubstr("kind counter: args.bogus: no such field"))));
}

TEST(NodeConfigCurveTest, SeedKeySplitsAfterTheScheme) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(SplitSeedKey("tcp://h:1@k.pub"), P("tcp://h:1", "k.pub"));
  EXPECT_EQ(SplitSeedKey("ipc:///tmp/a@b.sock@K"), P("ipc:///tmp/a", "b.sock@K"));
  EXPECT_EQ(SplitSeedKey("dns:polis.svc:7000@/k/a.pub"), P("dns:polis.svc:7000", "/k/a.pub"));
  EXPECT_EQ(SplitSeedKey("tcp://h:1"), P("tcp://h:1", ""));
}

}  // namespace
}  // namespace polis::tools
