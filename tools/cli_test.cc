// tools/cli_test.cc — the pieces of the `polis` CLI that need no cluster:
// argument parsing, durations, config files, JSON <-> messages, results.
#include <string>
#include <vector>

#include "examples/examples.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tools/args.h"
#include "tools/bench.h"
#include "tools/bench_stats.h"
#include "tools/client_command.h"
#include "tools/dynamic_types.h"
#include "tools/node_config.h"

namespace polis::tools {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::IsOkAndHolds;
using ::polis::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::map<std::string, FlagKind> kClientFlags = {
    {"seed", FlagKind::kValue}, {"timeout", FlagKind::kValue}, {"json", FlagKind::kBool}};

TEST(ArgsTest, ParsesFlagsInBothFormsAndPositionals) {
  auto a = ParseArgs({"--seed=tcp://h:1", "--timeout", "2s", "--json", "counter", "{}"},
                     kClientFlags);
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->Get("seed"), "tcp://h:1");
  EXPECT_EQ(a->Get("timeout"), "2s");
  EXPECT_TRUE(a->Has("json"));
  EXPECT_THAT(a->positional, ElementsAre("counter", "{}"));
}

TEST(ArgsTest, UnknownFlagIsRefusedByName) {
  EXPECT_THAT(ParseArgs({"--sead=x"}, kClientFlags),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown flag --sead")));
  EXPECT_THAT(ParseArgs({"-s"}, kClientFlags),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("-s")));
}

TEST(ArgsTest, MissingRepeatedAndUnexpectedValuesAreRefused) {
  EXPECT_THAT(ParseArgs({"--seed"}, kClientFlags),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a value")));
  EXPECT_THAT(ParseArgs({"--seed=a", "--seed=b"}, kClientFlags),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("twice")));
  EXPECT_THAT(ParseArgs({"--json=yes"}, kClientFlags),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("takes no value")));
}

TEST(ArgsTest, DoubleDashEndsFlags) {
  auto a = ParseArgs({"--", "--not-a-flag"}, kClientFlags);
  ASSERT_THAT(a, IsOk());
  EXPECT_THAT(a->positional, ElementsAre("--not-a-flag"));
}

TEST(ArgsTest, ParsesDurations) {
  EXPECT_THAT(ParseTimeout("500ms"), IsOkAndHolds(absl::Milliseconds(500)));
  EXPECT_THAT(ParseTimeout("5s"), IsOkAndHolds(absl::Seconds(5)));
  EXPECT_THAT(ParseTimeout("1m30s"), IsOkAndHolds(absl::Seconds(90)));
  EXPECT_THAT(ParseTimeout("5"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"5\"")));
  EXPECT_THAT(ParseTimeout("-1s"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTimeout("inf"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ArgsTest, SplitsListsAndParsesCounts) {
  EXPECT_THAT(SplitList("a,,b"), ElementsAre("a", "b"));
  EXPECT_THAT(ParsePositiveInt("--threads", "4"), IsOkAndHolds(4));
  EXPECT_THAT(ParsePositiveInt("--threads", "0"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--threads")));
}

TEST(NodeConfigTest, ParsesTextFormat) {
  auto c = ParseNodeConfig(R"(
    name: "a"
    listen: "tcp://127.0.0.1:*"
    seeds: "tcp://127.0.0.1:7102"
    serve { kind: "counter" name: "c" args { fields { key: "initial" value { number_value: 3 } } } }
  )",
                           "a.textproto");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->name(), "a");
  ASSERT_EQ(c->serve_size(), 1);
  EXPECT_EQ(c->serve(0).args().fields().at("initial").number_value(), 3);
}

TEST(NodeConfigTest, SyntaxErrorNamesFileAndLine) {
  EXPECT_THAT(ParseNodeConfig("name: \"a\"\nlisten \"x\"\n", "bad.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad.textproto:2:")));
}

TEST(NodeConfigTest, UnknownFieldNamesFileLineAndField) {
  EXPECT_THAT(ParseNodeConfig("name: \"a\"\n\nbogus: 1\n", "c.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("c.textproto:3:"), HasSubstr("bogus"))));
}

TEST(NodeConfigTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadNodeConfig("/nonexistent/polis.textproto"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/polis.textproto")));
}

TEST(NodeConfigTest, FlagsOverrideTheFile) {
  auto c = ParseNodeConfig("name: \"a\" threads: 1 serve { kind: \"kv\" }", "f");
  ASSERT_THAT(c, IsOk());
  auto args = ParseArgs({"--name=b", "--serve=counter,echo:e", "--threads=3"},
                        {{"name", FlagKind::kValue},
                         {"serve", FlagKind::kValue},
                         {"threads", FlagKind::kValue}});
  ASSERT_THAT(args, IsOk());
  ASSERT_THAT(ApplyNodeFlags(*args, &*c), IsOk());
  EXPECT_EQ(c->name(), "b");
  EXPECT_EQ(c->threads(), 3);
  ASSERT_EQ(c->serve_size(), 2);
  EXPECT_EQ(c->serve(0).kind(), "counter");
  EXPECT_EQ(c->serve(0).name(), "");
  EXPECT_EQ(c->serve(1).kind(), "echo");
  EXPECT_EQ(c->serve(1).name(), "e");
}

TEST(NodeConfigTest, NameIsRequiredAndServeSpecsAreChecked) {
  NodeConfig c;
  EXPECT_THAT(ApplyNodeFlags(ParsedArgs{}, &c),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--name")));
  EXPECT_THAT(ParseServeSpec(":x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseServeSpec("kv:"), StatusIs(absl::StatusCode::kInvalidArgument));
}

// The set a counter server would describe: examples.proto alone; its
// dependencies (empty.proto) are filled in by DynamicTypes.
std::string ExamplesDescriptorSet() {
  google::protobuf::FileDescriptorSet set;
  examples::CounterRequest::descriptor()->file()->CopyTo(set.add_file());
  return set.SerializeAsString();
}

TEST(DynamicTypesTest, JsonBecomesARequestTheServerCanParse) {
  auto types = DynamicTypes::Create(ExamplesDescriptorSet());
  ASSERT_THAT(types, IsOk());
  auto m = (*types)->FromJson("polis.examples.CounterRequest", R"({"add": 5})");
  ASSERT_THAT(m, IsOk());
  examples::CounterRequest req;
  ASSERT_TRUE(req.ParseFromString((*m)->SerializeAsString()));
  EXPECT_EQ(req.add(), 5);

  auto get = (*types)->FromJson("polis.examples.CounterRequest", R"({"get": {}})");
  ASSERT_THAT(get, IsOk());
  ASSERT_TRUE(req.ParseFromString((*get)->SerializeAsString()));
  EXPECT_TRUE(req.has_get());
}

TEST(DynamicTypesTest, BadJsonAndUnknownFieldsAreInvalidArgument) {
  auto types = DynamicTypes::Create(ExamplesDescriptorSet());
  ASSERT_THAT(types, IsOk());
  EXPECT_THAT((*types)->FromJson("polis.examples.CounterRequest", "{add: "),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad JSON")));
  EXPECT_THAT((*types)->FromJson("polis.examples.CounterRequest", R"({"sub": 1})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sub")));
  EXPECT_THAT((*types)->FromJson("polis.examples.Nope", "{}"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(DynamicTypesTest, ReplyPrintsEveryFieldEvenZero) {
  auto types = DynamicTypes::Create(ExamplesDescriptorSet());
  ASSERT_THAT(types, IsOk());
  examples::CounterReply reply;
  EXPECT_THAT((*types)->ToJson("polis.examples.CounterReply", reply.SerializeAsString()),
              IsOkAndHolds(R"({"value":"0"})"));
  reply.set_value(5);
  EXPECT_THAT((*types)->ToJson("polis.examples.CounterReply", reply.SerializeAsString()),
              IsOkAndHolds(R"({"value":"5"})"));
}

TEST(DynamicTypesTest, WellKnownTypesAreAlwaysAvailable) {
  auto types = DynamicTypes::Create(ExamplesDescriptorSet());
  ASSERT_THAT(types, IsOk());
  auto s = (*types)->FromJson("google.protobuf.Struct", R"({"hello": "world"})");
  ASSERT_THAT(s, IsOk());
  EXPECT_THAT((*types)->ToJson("google.protobuf.Struct", (*s)->SerializeAsString()),
              IsOkAndHolds(R"({"hello":"world"})"));
}

TEST(DynamicTypesTest, GarbageDescriptorSetIsInvalidArgument) {
  EXPECT_THAT(DynamicTypes::Create("\xff\xff garbage"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PickRequestTypeTest, FirstDeclaredOrTheNamedOne) {
  wire::ServerDescription d;
  d.set_name("c");
  d.add_call_types("a.A");
  d.add_call_types("b.B");
  EXPECT_THAT(PickRequestType(d, wire::KIND_CALL, ""), IsOkAndHolds("a.A"));
  EXPECT_THAT(PickRequestType(d, wire::KIND_CALL, "b.B"), IsOkAndHolds("b.B"));
  EXPECT_THAT(PickRequestType(d, wire::KIND_CALL, "c.C"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a.A, b.B")));
  EXPECT_THAT(PickRequestType(d, wire::KIND_CAST, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--type")));
  EXPECT_THAT(PickRequestType(d, wire::KIND_CAST, "x.X"), IsOkAndHolds("x.X"));
}

TEST(BenchTest, OnlyTakesTheRemoteBenchNames) {
  EXPECT_THAT(CheckRemoteBenchName(""), IsOk());
  for (const char* name : kRemoteBenches) EXPECT_THAT(CheckRemoteBenchName(name), IsOk());
  EXPECT_THAT(CheckRemoteBenchName("remote"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("remote_cast")));
  // Refused before a peer process is started.
  EXPECT_THAT(RunRemoteBench(/*json=*/true, "local_call"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(BenchStatsTest, PercentilesAndLines) {
  std::vector<double> v = {5, 1, 4, 2, 3};
  EXPECT_EQ(Percentile(v, 0.5), 3);
  EXPECT_EQ(Percentile(v, 0.99), 5);
  EXPECT_EQ(BenchLine("x").Add("p50_us", 1.5).Add("calls", 10).Add("t", "tcp").Format(true),
            R"({"bench":"x","p50_us":1.5,"calls":10,"t":"tcp"})");
  EXPECT_EQ(BenchLine("x").Add("rate", 2500000.4).Add("t", "ipc").Format(false),
            "x: rate=2500000 t=ipc");
}

}  // namespace
}  // namespace polis::tools
