// `polis nodes`, `polis ps` and `polis describe` against three real `polis
// node` processes on loopback: every member listed "up", every name with
// the node, kind and pid a client node resolves it to, a restart counted
// after a supervised crash, a server's types and .proto definitions, a
// frozen member reported without hanging, and bad input: usage errors exit
// 2, an unreachable seed exits 1 with UNAVAILABLE within --timeout.
//
// No sleeps: what spreads by gossip (members, names, a restart) is awaited
// by running the command again, bounded (tests/wait.h).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/node_fixtures.h"
#include "tests/node_process.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis::testing {
namespace {

using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Bound on the cluster (or a restart) being visible everywhere.
constexpr absl::Duration kConverge = absl::Seconds(15);
// "Within the timeout": the command's own --timeout plus room for process
// start-up and shutdown on a loaded machine.
constexpr absl::Duration kSlack = absl::Seconds(5);

google::protobuf::Struct ParseJson(const std::string& text) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &s).ok()) << text;
  return s;
}

const google::protobuf::ListValue& List(const google::protobuf::Struct& s, const std::string& key) {
  static const google::protobuf::ListValue* empty = new google::protobuf::ListValue;
  auto it = s.fields().find(key);
  return it == s.fields().end() ? *empty : it->second.list_value();
}

const google::protobuf::Value& Field(const google::protobuf::Value& v, const std::string& key) {
  static const google::protobuf::Value* none = new google::protobuf::Value;
  auto it = v.struct_value().fields().find(key);
  return it == v.struct_value().fields().end() ? *none : it->second;
}

// The row of `names` (polis ps --json) for `name`, or null.
const google::protobuf::Value* Row(const google::protobuf::Struct& ps, const std::string& name) {
  for (const google::protobuf::Value& row : List(ps, "names").values()) {
    if (Field(row, "name").string_value() == name) return &row;
  }
  return nullptr;
}

// Whether `polis nodes --json` output lists `n` nodes, all up and answering.
bool AllUp(const ProcessResult& r, int n) {
  if (r.exit_code != 0) return false;
  const google::protobuf::Struct s = ParseJson(r.out);
  if (List(s, "nodes").values_size() != n) return false;
  for (const google::protobuf::Value& node : List(s, "nodes").values()) {
    if (Field(node, "state").string_value() != "up" ||
        Field(node, "error").kind_case() != google::protobuf::Value::kNullValue) {
      return false;
    }
  }
  return true;
}

class ClusterCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = NodeProcess::Start(
        {.name = "a", .listen = "tcp://127.0.0.1:*", .serve = {"counter:counter_a"}});
    ASSERT_THAT(a, IsOk());
    a_ = std::move(*a);
    auto b = NodeProcess::Start({.name = "b",
                                 .listen = "tcp://127.0.0.1:*",
                                 .seeds = {a_->endpoint()},
                                 .serve = {"counter:counter_b", "kv:kv_b"}});
    ASSERT_THAT(b, IsOk());
    b_ = std::move(*b);
    auto c = NodeProcess::Start({.name = "c",
                                 .listen = "tcp://127.0.0.1:*",
                                 .seeds = {a_->endpoint()},
                                 .serve = {"echo:echo_c"}});
    ASSERT_THAT(c, IsOk());
    c_ = std::move(*c);
    ProcessResult r = RetryUntil(
        [&] {
          return Polis({"nodes", Seed(), "--json"});
        },
        [](const ProcessResult& r) { return AllUp(r, 3); }, kConverge);
    ASSERT_TRUE(AllUp(r, 3)) << r.Summary();
  }

  std::string Seed() const { return "--seed=" + a_->endpoint(); }

  // `polis ps --json`, run again (bounded) until `done` holds for its output.
  template <typename Done>
  google::protobuf::Struct PsUntil(Done done) {
    ProcessResult r = RetryUntil(
        [&] {
          return Polis({"ps", Seed(), "--json"});
        },
        [&](const ProcessResult& r) { return r.exit_code == 0 && done(ParseJson(r.out)); },
        kConverge);
    EXPECT_EQ(r.exit_code, 0) << r.Summary();
    return ParseJson(r.out);
  }

  std::unique_ptr<NodeProcess> a_, b_, c_;
};

TEST_F(ClusterCliTest, NodesListsEveryMemberUpWithItsOwnEndpointAndServers) {
  ProcessResult r = Polis({"nodes", Seed(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  const google::protobuf::Struct s = ParseJson(r.out);
  ASSERT_EQ(List(s, "nodes").values_size(), 3) << r.out;
  const NodeProcess* procs[] = {a_.get(), b_.get(), c_.get()};
  for (int i = 0; i < 3; ++i) {  // Sorted by name: a, b, c.
    const google::protobuf::Value& n = List(s, "nodes").values(i);
    EXPECT_EQ(Field(n, "name").string_value(), procs[i]->name()) << r.out;
    EXPECT_EQ(Field(n, "endpoint").string_value(), procs[i]->endpoint()) << r.out;
    EXPECT_EQ(Field(n, "state").string_value(), "up") << r.out;
    EXPECT_EQ(Field(n, "seed").bool_value(), i == 0) << r.out;
    EXPECT_FALSE(Field(n, "incarnation").string_value().empty()) << r.out;  // a decimal string
    EXPECT_GE(Field(n, "servers").number_value(), 2) << r.out;              // root + its servers
    EXPECT_GE(Field(n, "uptime_ms").number_value(), 0) << r.out;
  }

  ProcessResult table = Polis({"nodes", Seed()});
  ASSERT_EQ(table.exit_code, 0) << table.Summary();
  EXPECT_THAT(table.out, StartsWith("NODE  ENDPOINT "));
  EXPECT_THAT(table.out, AllOf(HasSubstr("INCARNATION"), HasSubstr("STATE"), HasSubstr("UPTIME"),
                               HasSubstr("SERVERS"), HasSubstr("LAST_HEARD")));
  EXPECT_THAT(table.out, HasSubstr(c_->endpoint()));
  EXPECT_THAT(table.out, ::testing::Not(HasSubstr("ERROR")));
}

TEST_F(ClusterCliTest, PsListsEveryNameWithTheNodeKindAndPidAClientResolves) {
  NodeOptions options;
  options.name = "probe";
  options.client = true;
  options.seeds = {a_->endpoint()};
  auto probe = StartJoinedNode(std::move(options));
  ASSERT_THAT(probe, IsOk());
  const std::vector<std::pair<std::string, std::string>> names = {
      {"counter_a", "counter"}, {"counter_b", "counter"}, {"kv_b", "kv"}, {"echo_c", "echo"}};
  for (const auto& [name, kind] : names) ASSERT_THAT(AwaitName(**probe, name), IsOk());

  const google::protobuf::Struct ps = PsUntil([&](const google::protobuf::Struct& s) {
    for (const auto& [name, kind] : names) {
      if (Row(s, name) == nullptr) return false;
    }
    return true;
  });
  for (const auto& [name, kind] : names) {
    const google::protobuf::Value* row = Row(ps, name);
    ASSERT_NE(row, nullptr) << name;
    absl::StatusOr<Pid> pid = (*probe)->WhereIs(name);
    ASSERT_THAT(pid, IsOk());
    EXPECT_EQ(Field(*row, "node").string_value(), pid->node) << name;
    EXPECT_EQ(Field(*row, "pid").number_value(), static_cast<double>(pid->id)) << name;
    EXPECT_EQ(Field(*row, "kind").string_value(), kind) << name;
    EXPECT_EQ(Field(*row, "restarts").number_value(), 0) << name;
    EXPECT_GE(Field(*row, "mailbox").number_value(), 0) << name;
  }
  EXPECT_NE(Row(ps, "root@b"), nullptr);
  EXPECT_EQ(Row(ps, ""), nullptr) << "unregistered processes only with --all";
  EXPECT_EQ(List(ps, "unreachable").values_size(), 0);

  ProcessResult all = Polis({"ps", Seed(), "--json", "--all"});
  ASSERT_EQ(all.exit_code, 0) << all.Summary();
  EXPECT_NE(Row(ParseJson(all.out), ""), nullptr) << all.out;

  ProcessResult table = Polis({"ps", Seed()});
  ASSERT_EQ(table.exit_code, 0) << table.Summary();
  EXPECT_THAT(table.out, StartsWith("NAME "));
  EXPECT_THAT(table.out, AllOf(HasSubstr("NODE"), HasSubstr("PID"), HasSubstr("KIND"),
                               HasSubstr("MAILBOX"), HasSubstr("RESTARTS"), HasSubstr("kv_b")));
}

TEST_F(ClusterCliTest, RestartsGoUpAfterASupervisedCrash) {
  const std::vector<std::string> crash = {"call", "--seed=" + b_->endpoint(), "counter_b",
                                          R"({"crash": {}})"};
  ProcessResult r = RetryUntil([&] { return Polis(crash); },
                               [](const ProcessResult& r) {
                                 return !FailedWith(r, {"NOT_FOUND", "ABORTED"});
                               },
                               kConverge);
  EXPECT_THAT(r.err, StartsWith("INTERNAL: ")) << r.Summary();

  const google::protobuf::Struct ps = PsUntil([](const google::protobuf::Struct& s) {
    const google::protobuf::Value* row = Row(s, "counter_b");
    return row != nullptr && Field(*row, "restarts").number_value() == 1;
  });
  const google::protobuf::Value* row = Row(ps, "counter_b");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(Field(*row, "restarts").number_value(), 1);
  EXPECT_EQ(Field(*row, "node").string_value(), "b");
  const google::protobuf::Value* other = Row(ps, "counter_a");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(Field(*other, "restarts").number_value(), 0);
}

TEST_F(ClusterCliTest, DescribePrintsTheRequestTypeAndItsProtoDefinition) {
  ProcessResult r = Polis({"describe", "--seed=" + c_->endpoint(), "counter_a"});
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.out, AllOf(HasSubstr("KIND  counter"), HasSubstr("NODE  a"),
                           HasSubstr("CALL  polis.examples.CounterRequest -> "
                                     "polis.examples.CounterReply\n"),
                           HasSubstr("polis.examples.CounterReply is a message:\n"),
                           HasSubstr("polis.examples.CounterRequest is a message:\n"
                                     "message CounterRequest {"),
                           HasSubstr("int64 add = 1;"), HasSubstr("message AddLater {")));

  ProcessResult json = Polis({"describe", "--seed=" + c_->endpoint(), "--json", "counter_a"});
  ASSERT_EQ(json.exit_code, 0) << json.Summary();
  const google::protobuf::Struct d = ParseJson(json.out);
  EXPECT_EQ(d.fields().at("kind").string_value(), "counter");
  EXPECT_EQ(d.fields().at("node").string_value(), "a");
  ASSERT_EQ(List(d, "call_types").values_size(), 1) << json.out;
  EXPECT_EQ(List(d, "call_types").values(0).string_value(), "polis.examples.CounterRequest");
  ASSERT_EQ(List(d, "calls").values_size(), 1) << json.out;
  const google::protobuf::Value& call = List(d, "calls").values(0);
  EXPECT_EQ(Field(call, "request_type").string_value(), "polis.examples.CounterRequest");
  ASSERT_EQ(Field(call, "reply_types").list_value().values_size(), 1) << json.out;
  EXPECT_EQ(Field(call, "reply_types").list_value().values(0).string_value(),
            "polis.examples.CounterReply");
  EXPECT_THAT(d.fields()
                  .at("definitions")
                  .struct_value()
                  .fields()
                  .at("polis.examples.CounterRequest")
                  .string_value(),
              HasSubstr("int64 add = 1;"));
  EXPECT_EQ(d.fields().count("file_descriptor_set"), 0u);

  ProcessResult missing = Polis({"describe", Seed(), "no_such_server"});
  EXPECT_EQ(missing.exit_code, 1) << missing.Summary();
  EXPECT_THAT(missing.err, StartsWith("NOT_FOUND: ")) << missing.Summary();
}

TEST_F(ClusterCliTest, AFrozenMemberIsReportedWithAnErrorWithinTheTimeout) {
  ASSERT_THAT(c_->Pause(), IsOk());
  ProcessResult r = Polis({"nodes", Seed(), "--json", "--timeout=2s"});
  ASSERT_THAT(c_->Resume(), IsOk());
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_LT(r.elapsed, absl::Seconds(2) + kSlack) << r.Summary();
  const google::protobuf::Struct s = ParseJson(r.out);
  ASSERT_GE(List(s, "nodes").values_size(), 2) << r.out;
  EXPECT_EQ(Field(List(s, "nodes").values(0), "error").kind_case(),
            google::protobuf::Value::kNullValue)
      << r.out;  // a, the seed, answered
  // c did not answer: late, or (if the seed declared it down meanwhile, and
  // lists it as a former member) down.
  bool listed = false;
  for (const google::protobuf::Value& n : List(s, "nodes").values()) {
    if (Field(n, "name").string_value() != "c") continue;
    listed = true;
    EXPECT_THAT(Field(n, "error").string_value(),
                AnyOf(StartsWith("DEADLINE_EXCEEDED: "), StartsWith("UNAVAILABLE: ")))
        << r.out;
  }
  EXPECT_TRUE(listed) << r.out;
}

TEST(ClusterCliUsageTest, BadArgumentsExitTwoWithAClearMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"nodes"}, "--seed=ENDPOINT is required"},
      {{"ps", "--json"}, "--seed=ENDPOINT is required"},
      {{"describe", "counter"}, "--seed=ENDPOINT is required"},
      {{"nodes", "--seed=tcp://127.0.0.1:1", "--bogus"}, "unknown flag --bogus"},
      {{"nodes", "--seed=tcp://127.0.0.1:1", "--all"}, "unknown flag --all"},
      {{"ps", "--seed=tcp://127.0.0.1:1", "extra"}, "takes no positional arguments"},
      {{"nodes", "--seed=tcp://127.0.0.1:1", "extra"}, "takes no positional arguments"},
      {{"describe", "--seed=tcp://127.0.0.1:1"}, "takes one NAME"},
      {{"describe", "--seed=tcp://127.0.0.1:1", "a", "b"}, "takes one NAME"},
      {{"ps", "--seed=tcp://127.0.0.1:1", "--timeout=soon"}, "bad duration"},
  };
  for (const Case& c : cases) {
    ProcessResult r = Polis(c.args);
    EXPECT_EQ(r.exit_code, 2) << r.Summary();
    EXPECT_THAT(r.err, AllOf(StartsWith("INVALID_ARGUMENT: "), HasSubstr(c.message)))
        << r.Summary();
    EXPECT_EQ(r.out, "") << r.Summary();
  }
}

TEST(ClusterCliUsageTest, AnUnreachableSeedIsUnavailableWithinTheTimeout) {
  auto dir = ScratchDir::Create("polis-cli");
  ASSERT_THAT(dir, IsOk());
  const std::string seed = "--seed=ipc://" + (*dir)->File("nobody-listens");
  for (const char* command : {"nodes", "ps"}) {
    ProcessResult r = Polis({command, seed, "--timeout=1s"});
    EXPECT_EQ(r.exit_code, 1) << r.Summary();
    EXPECT_THAT(r.err, StartsWith("UNAVAILABLE: ")) << r.Summary();
    EXPECT_LT(r.elapsed, absl::Seconds(1) + kSlack) << r.Summary();
  }
  ProcessResult d = Polis({"describe", seed, "--timeout=1s", "counter"});
  EXPECT_EQ(d.exit_code, 1) << d.Summary();
  EXPECT_THAT(d.err, StartsWith("UNAVAILABLE: ")) << d.Summary();
}

}  // namespace
}  // namespace polis::testing
