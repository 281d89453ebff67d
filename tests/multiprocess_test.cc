// Real `polis node` processes on loopback, over tcp and over ipc: calls by
// name across processes (from a Node in the test and from the `polis call`
// CLI), ordering, NOT_FOUND, deadlines (also across a paused node), remote
// send_after, a killed node, bad CLI input and config files, and clean
// shutdown on SIGTERM.
//
// Each test starts its own cluster: node a, node b seeded by a, node c
// seeded by b, each serving example servers (counter, kv, echo) under
// different names. Every process is stopped by the fixture, and every node
// still running must exit 0 on SIGTERM.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "bus/envelope.h"
#include "examples/counter.h"
#include "examples/examples.pb.h"
#include "genserver/genserver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/node_fixtures.h"
#include "tests/node_process.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis {
namespace {

using ::polis::examples::CounterAdd;
using ::polis::examples::CounterGet;
using ::polis::examples::CounterReply;
using ::polis::examples::CounterRequest;
using ::polis::examples::KvReply;
using ::polis::examples::KvRequest;
using ::polis::testing::AwaitName;
using ::polis::testing::FailedWith;
using ::polis::testing::IsOk;
using ::polis::testing::NodeProcess;
using ::polis::testing::NodeProcessOptions;
using ::polis::testing::Polis;
using ::polis::testing::ProcessResult;
using ::polis::testing::RetryUntil;
using ::polis::testing::ScratchDir;
using ::polis::testing::StartJoinedNode;
using ::polis::testing::StatusIs;
using ::polis::testing::TestEndpoint;
using ::polis::testing::WaitFor;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// "At once": well under every timeout these tests give (30 s), with room
// for a loaded 2-core machine and process start-up.
constexpr absl::Duration kFast = absl::Seconds(5);
constexpr absl::Duration kLongTimeout = absl::Seconds(30);
// How long gossip may take to spread a name.
constexpr absl::Duration kConverge = absl::Seconds(10);


// Defers every `add` call; `get` replies at once with the number of calls
// deferred so far; any cast answers every deferred call, late, with -1.
class Sleeper : public GenServer {
 public:
  Sleeper() {
    AcceptCall<CounterRequest, CounterReply>();
    AcceptCast<CounterRequest>();
  }
  Task<absl::StatusOr<Reply>> HandleCall(const Message& m,
                                         const From& from) override {
    CounterReply reply;
    if (m.As<CounterRequest>()->has_get()) {
      reply.set_value(deferred_);
      co_return reply;
    }
    ++deferred_;
    waiting_.push_back(from);
    co_return Reply::Deferred();
  }
  Task<absl::Status> HandleCast(const Message&) override {
    CounterReply late;
    late.set_value(-1);
    for (const From& from : waiting_) ReplyTo(from, late);
    waiting_.clear();
    co_return absl::OkStatus();
  }

 private:
  int64_t deferred_ = 0;
  std::vector<From> waiting_;
};

// Names served by StartCluster(), and where.
const std::vector<std::string> kClusterNames = {
    "counter_a", "echo_a", "counter_b", "kv_b", "counter_c", "kv_c", "echo_c"};

class MultiProcessTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto dir = ScratchDir::Create("polis-mp");
    ASSERT_THAT(dir, IsOk());
    dir_ = std::move(*dir);
  }

  void TearDown() override {
    // In-test nodes first; then every process still running must shut down
    // cleanly (exit code 0) on SIGTERM, newest first.
    client_.reset();
    host_.reset();
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
      NodeProcess& p = *procs_.at(*it);
      if (p.running()) {
        EXPECT_THAT(p.Stop(), IsOk()) << "node " << *it;
      }
    }
  }

  // Where node `name` listens: a free loopback port, or a socket file in
  // this test's scratch directory.
  std::string Listen(const std::string& name) {
    return TestEndpoint(GetParam(), name, dir_->path());
  }

  void StartNode(const std::string& name, std::vector<std::string> seeds,
                 std::vector<std::string> serve) {
    NodeProcessOptions o;
    o.name = name;
    o.listen = Listen(name);
    o.seeds = std::move(seeds);
    o.serve = std::move(serve);
    auto p = NodeProcess::Start(o);
    ASSERT_THAT(p, IsOk());
    procs_[name] = std::move(*p);
    started_.push_back(name);
  }

  NodeProcess& proc(const std::string& name) { return *procs_.at(name); }
  std::string Seed(const std::string& name) {
    return "--seed=" + proc(name).endpoint();
  }

  // a; b seeded by a; c seeded by b.
  void StartCluster() {
    ASSERT_NO_FATAL_FAILURE(
        StartNode("a", {}, {"counter:counter_a", "echo:echo_a"}));
    ASSERT_NO_FATAL_FAILURE(StartNode("b", {proc("a").endpoint()},
                                      {"counter:counter_b", "kv:kv_b"}));
    ASSERT_NO_FATAL_FAILURE(
        StartNode("c", {proc("b").endpoint()},
                  {"counter:counter_c", "kv:kv_c", "echo:echo_c"}));
  }

  // A client node in this process (hosts nothing), joined through node a,
  // that has learnt every name of the cluster.
  void StartClient() {
    auto n =
        StartJoinedNode({.name = "test-client", .seeds = {proc("a").endpoint()}, .client = true});
    ASSERT_THAT(n, IsOk());
    client_ = std::move(*n);
    for (const std::string& name : kClusterNames)
      ASSERT_THAT(AwaitName(*client_, name, kConverge), IsOk());
  }

  // Cluster + client.
  void StartAll() {
    ASSERT_NO_FATAL_FAILURE(StartCluster());
    ASSERT_NO_FATAL_FAILURE(StartClient());
  }

  // Calls counter `name` (get) until it reads `want` or `timeout` passes;
  // returns the last value read (-1 if no call succeeded).
  int64_t AwaitCounter(const std::string& name, int64_t want, absl::Duration timeout = kConverge) {
    int64_t value = -1;
    WaitFor(
        [&] {
          absl::StatusOr<CounterReply> r = client_->Call<CounterReply>(name, CounterGet());
          if (r.ok()) value = r->value();
          return value == want;
        },
        timeout);
    return value;
  }

  // As Polis, for a request that must succeed, run again while it fails
  // with NOT_FOUND: the CLI sees the cluster through its seed, which may
  // not have heard of the name yet. NOT_FOUND means nothing was delivered,
  // so a retry never applies a request twice.
  ProcessResult PolisOnceFound(const std::vector<std::string>& args) {
    return RetryUntil([&] { return Polis(args); },
                      [](const ProcessResult& r) { return !FailedWith(r, {"NOT_FOUND"}); },
                      kConverge);
  }

  // A call to `name` with `timeout` from the client node, then the same
  // request from `polis call` through `seed` (run again on NOT_FOUND if
  // `seed_may_lag`: see PolisOnceFound): both fail with DEADLINE_EXCEEDED,
  // not before the timeout and well before kFast. With `node_paused` the
  // server's node is frozen: once that outlasts the failure timeout (a slow
  // machine, a sanitizer build) the node is declared down, and UNAVAILABLE
  // (or, for the later `polis call`, NOT_FOUND: its names left the view) is
  // as right an answer.
  void ExpectCallsTimeOut(const std::string& name, const google::protobuf::Message& request,
                          const std::string& json, absl::Duration timeout,
                          const std::string& seed, bool seed_may_lag, bool node_paused = false) {
    const absl::Time start = absl::Now();
    absl::StatusOr<CounterReply> first = client_->Call<CounterReply>(name, request, timeout);
    const absl::Duration took = absl::Now() - start;
    if (node_paused && absl::IsUnavailable(first.status())) {
      EXPECT_LT(took, kFast);
    } else {
      EXPECT_THAT(first, StatusIs(absl::StatusCode::kDeadlineExceeded));
      EXPECT_GE(took, timeout);
      EXPECT_LT(took, kFast);
    }
    const std::vector<std::string> args = {
        "call", seed, absl::StrCat("--timeout=", absl::ToInt64Milliseconds(timeout), "ms"), name,
        json};
    ProcessResult r = seed_may_lag ? PolisOnceFound(args) : Polis(args);
    EXPECT_EQ(r.exit_code, 1) << r.Summary();
    if (node_paused) {
      EXPECT_TRUE(FailedWith(r, {"DEADLINE_EXCEEDED", "UNAVAILABLE", "NOT_FOUND"})) << r.Summary();
    } else {
      EXPECT_THAT(r.err, StartsWith("DEADLINE_EXCEEDED: ")) << r.Summary();
    }
    EXPECT_LT(r.elapsed, kFast) << r.Summary();
  }

  std::unique_ptr<ScratchDir> dir_;
  std::map<std::string, std::unique_ptr<NodeProcess>> procs_;
  std::vector<std::string> started_;  // Names in start order.
  std::unique_ptr<Node>
      host_;  // A listening node in this process (some tests).
  std::unique_ptr<Node> client_;
};

TEST_P(MultiProcessTest, ClientNodeCallsServersOnOtherProcessesByName) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  // The client joined through a; the servers live on b and c.
  auto b = client_->Call<CounterReply>("counter_b", CounterAdd(5));
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(b->value(), 5);
  auto c = client_->Call<CounterReply>("counter_c", CounterAdd(2));
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->value(), 2);
  KvRequest put;
  put.mutable_put()->set_key("greeting");
  put.mutable_put()->set_value("hello");
  ASSERT_THAT(client_->Call<KvReply>("kv_c", put), IsOk());
  KvRequest get;
  get.mutable_get()->set_key("greeting");
  auto v = client_->Call<KvReply>("kv_c", get);
  ASSERT_THAT(v, IsOk());
  EXPECT_EQ(v->value(), "hello");
  // A missing key is the server's own NOT_FOUND, with its message, and the
  // server keeps running.
  get.mutable_get()->set_key("nope");
  EXPECT_THAT(client_->Call<KvReply>("kv_b", get),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->Call<KvReply>("kv_b", put), IsOk());
}

TEST_P(MultiProcessTest, CliCallsServersAnywhereInTheCluster) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  // Joined through a, the server on c; and the other way round.
  ProcessResult r =
      PolisOnceFound({"call", Seed("a"), "counter_c", R"({"add": 5})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"5\"}\n") << r.Summary();
  r = PolisOnceFound({"call", Seed("c"), "counter_a", R"({"add": 2})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"2\"}\n") << r.Summary();
  // Written through one node, read through another.
  r = PolisOnceFound(
      {"call", Seed("c"), "kv_b", R"({"put": {"key": "k", "value": "v"}})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  r = PolisOnceFound({"call", Seed("a"), "kv_b", R"({"get": {"key": "k"}})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.out, StartsWith(R"({"value":"v")")) << r.Summary();
  // echo declares google.protobuf.Struct: any JSON object comes back.
  r = PolisOnceFound(
      {"call", Seed("b"), "echo_c", R"({"any": ["json", 1, true]})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"any\":[\"json\",1,true]}\n") << r.Summary();
  // stderr carries only the trace id of the call (polis trace shows it).
  EXPECT_THAT(r.err, ::testing::MatchesRegex("trace_id=[0-9a-f]{32}\n")) << r.Summary();
}

TEST_P(MultiProcessTest, CastsFromOneSenderAreAllSeenByItsNextCall) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  for (int i = 0; i < 1000; ++i)
    ASSERT_THAT(client_->Cast("counter_c", CounterAdd(1)), IsOk());
  auto r = client_->Call<CounterReply>("counter_c", CounterGet());
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 1000);
  // Casts of 1..N with a call every 50: each call sees exactly the casts
  // sent before it, never fewer (order between casts and calls of one
  // sender) — so the running sum is exact.
  int64_t expected = 1000;
  for (int i = 1; i <= 500; ++i) {
    ASSERT_THAT(client_->Cast("counter_c", CounterAdd(i)), IsOk());
    expected += i;
    if (i % 50 == 0) {
      auto v = client_->Call<CounterReply>("counter_c", CounterGet());
      ASSERT_THAT(v, IsOk());
      ASSERT_EQ(v->value(), expected) << "after the cast of " << i;
    }
  }
  EXPECT_EQ(expected, 1000 + 500 * 501 / 2);
  // Info messages (Send) too, to a server on another node.
  for (int i = 0; i < 100; ++i)
    ASSERT_THAT(client_->Send("counter_b", CounterAdd(2)), IsOk());
  auto b = client_->Call<CounterReply>("counter_b", CounterGet());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(b->value(), 200);
}

TEST_P(MultiProcessTest, CliCastAndSendAreDelivered) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ProcessResult r =
      PolisOnceFound({"cast", Seed("c"), "counter_a", R"({"add": 10})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "");
  r = PolisOnceFound({"send", Seed("b"), "counter_a", R"({"add": 1})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  // Each command has exited before the next starts: what it sent is out.
  r = PolisOnceFound({"call", Seed("c"), "counter_a", R"({"get": {}})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"11\"}\n") << r.Summary();
}

TEST_P(MultiProcessTest, NameThatExistsNowhereIsNotFoundAtOnce) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  absl::Time start = absl::Now();
  EXPECT_THAT(client_->Call<CounterReply>("ghost", CounterGet(), kLongTimeout),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ghost")));
  EXPECT_THAT(client_->Cast("ghost", CounterGet()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_LT(absl::Now() - start, kFast);

  for (const char* command : {"call", "cast", "send"}) {
    ProcessResult r =
        Polis({command, Seed("b"), "--timeout=30s", "ghost", R"({"add": 1})"});
    EXPECT_NE(r.exit_code, 0) << command << ": " << r.Summary();
    EXPECT_THAT(r.err, StartsWith("NOT_FOUND: "))
        << command << ": " << r.Summary();
    EXPECT_THAT(r.err, HasSubstr("ghost")) << command;
    EXPECT_EQ(r.out, "") << command;
    EXPECT_LT(r.elapsed, kFast) << command << ": " << r.Summary();
  }
}

TEST_P(MultiProcessTest, CallToAServerThatDefersItsReplyIsDeadlineExceeded) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  // A listening node in this process hosts the server that never answers
  // in time; the callers are the client node and a `polis call` process.
  auto host =
      StartJoinedNode({.name = "host", .listen = Listen("host"), .seeds = {proc("b").endpoint()}});
  ASSERT_THAT(host, IsOk());
  host_ = std::move(*host);
  ASSERT_THAT(host_->Spawn(std::make_unique<Sleeper>(), {.name = "sleeper"}),
              IsOk());
  ASSERT_NO_FATAL_FAILURE(StartClient());
  ASSERT_THAT(AwaitName(*client_, "sleeper", kConverge), IsOk());

  ExpectCallsTimeOut("sleeper", CounterAdd(1), R"({"add": 1})", absl::Milliseconds(300),
                     Seed("c"), /*seed_may_lag=*/true);

  // Both calls reached the server. Its late replies (one to a client that
  // has gone away) are dropped; the next call gets its own answer.
  ASSERT_THAT(client_->Cast("sleeper", CounterGet()), IsOk());
  auto n = client_->Call<CounterReply>("sleeper", CounterGet());
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(n->value(), 2);
}

TEST_P(MultiProcessTest,
       CallToAStoppedProcessIsDeadlineExceededAndItsLateReplyIsDropped) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  // SIGSTOP: node c keeps its sockets open but answers nothing.
  ASSERT_THAT(proc("c").Pause(), IsOk());
  ExpectCallsTimeOut("counter_c", CounterAdd(100), R"({"add": 1})", absl::Milliseconds(300),
                     Seed("a"), /*seed_may_lag=*/false, /*node_paused=*/true);
  ASSERT_THAT(proc("c").Resume(), IsOk());
  // If the pause outlasted the failure timeout, c was declared down; it
  // rejoins by itself.
  ASSERT_THAT(testing::AwaitName(*client_, "counter_c"), IsOk());

  // The add of 100 may or may not be applied once c runs again (at most
  // once), but its late reply never answers a later call.
  auto v = client_->Call<CounterReply>("counter_c", CounterAdd(1));
  ASSERT_THAT(v, IsOk());
  EXPECT_THAT(v->value(), AnyOf(1, 101));
  auto again = client_->Call<CounterReply>("counter_c", CounterGet());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->value(), v->value());
}

TEST_P(MultiProcessTest, ACallThatOutlivedItsCallerInAPausedNodesSocketNeverRuns) {
  ASSERT_NO_FATAL_FAILURE(StartNode("a", {}, {"counter:counter_a"}));
  auto n = StartJoinedNode(
      {.name = "test-client", .seeds = {proc("a").endpoint()}, .client = true});
  ASSERT_THAT(n, IsOk());
  client_ = std::move(*n);
  ASSERT_THAT(AwaitName(*client_, "counter_a", kConverge), IsOk());
  auto one = client_->Call<CounterReply>("counter_a", CounterAdd(1));  // connected
  ASSERT_THAT(one, IsOk());
  ASSERT_EQ(one->value(), 1);

  // SIGSTOP: the call waits in node a's socket, unread; its caller gives up
  // (or learns that a is down, if the cluster declares it so first).
  ASSERT_THAT(proc("a").Pause(), IsOk());
  constexpr absl::Duration kTimeout = absl::Milliseconds(150);
  const absl::Status timed_out =
      client_->Call<CounterReply>("counter_a", CounterAdd(100), kTimeout).status();
  const absl::Time returned = absl::Now();
  EXPECT_THAT(timed_out.code(), AnyOf(absl::StatusCode::kDeadlineExceeded,
                                      absl::StatusCode::kUnavailable))
      << timed_out;
  // The call's deadline is at most `returned` (DEADLINE_EXCEEDED comes no
  // earlier), else at most `returned` + kTimeout (it began before it
  // returned). Node a, on this machine's clock, reads it only once that
  // deadline is more than kClockSkewAllowance past: the call must then be
  // dropped unprocessed, although timeout_us counted from the read would
  // still leave it 150 ms. (A wait for the clock itself, not for an event:
  // the length of the pause is what is tested.)
  const absl::Time deadline_at_most =
      timed_out.code() == absl::StatusCode::kDeadlineExceeded ? returned : returned + kTimeout;
  const absl::Time drop_from = deadline_at_most + bus::kClockSkewAllowance;
  ASSERT_TRUE(WaitFor([&] { return absl::Now() > drop_from; }));
  ASSERT_THAT(proc("a").Resume(), IsOk());

  // The add of 100 never ran. This thread's calls share one connection, so
  // node a reads (and drops) it before these. The get is retried while the
  // client still counts a down (UNAVAILABLE): reading twice changes nothing.
  auto get = RetryUntil([&] { return client_->Call<CounterReply>("counter_a", CounterGet()); },
                        [](const absl::StatusOr<CounterReply>& r) {
                          return r.status().code() != absl::StatusCode::kUnavailable;
                        },
                        kConverge);
  ASSERT_THAT(get, IsOk());
  EXPECT_EQ(get->value(), 1);
  auto two = client_->Call<CounterReply>("counter_a", CounterAdd(1));
  ASSERT_THAT(two, IsOk());
  EXPECT_EQ(two->value(), 2);
}

TEST_P(MultiProcessTest, RemoteSendAfterAddsToACounterOnAnotherNode) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  // counter_a (node a) schedules an add of 7 to counter_b (node b); the
  // timer lives on node a.
  ProcessResult r = PolisOnceFound(
      {"call", Seed("c"), "counter_a",
       R"({"add_later": {"n": 7, "delay_ms": 100, "target": "counter_b"}})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"0\"}\n") << r.Summary();
  EXPECT_EQ(AwaitCounter("counter_b", 7), 7);
  auto a = client_->Call<CounterReply>("counter_a", CounterGet());
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->value(), 0);

  // From the client node's own timers: a cancelled one never fires (it was
  // due before the other, whose add is seen).
  auto cancelled =
      client_->SendAfter(absl::Milliseconds(30), "counter_c", CounterAdd(100));
  ASSERT_THAT(cancelled, IsOk());
  auto kept = client_->SendAfter(absl::Milliseconds(100), "counter_c", CounterAdd(3));
  ASSERT_THAT(kept, IsOk());
  EXPECT_TRUE(client_->CancelTimer(*cancelled));
  EXPECT_EQ(AwaitCounter("counter_c", 3), 3);
  EXPECT_FALSE(client_->CancelTimer(*kept));  // Already fired.
  auto c = client_->Call<CounterReply>("counter_c", CounterGet());
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->value(), 3);
}

TEST_P(MultiProcessTest, KilledNodeFailsCallsFastAndTheRestKeepsWorking) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_THAT(client_->Call<CounterReply>("counter_b", CounterAdd(1)), IsOk());
  // Node b (c's seed) stops answering, so a call to it stays in flight;
  // then b dies. The call fails with UNAVAILABLE well before its timeout.
  ASSERT_THAT(proc("b").Pause(), IsOk());
  absl::Status pending;
  absl::Time failed_at;
  absl::Notification done;
  std::thread caller([&] {
    pending =
        client_->Call<CounterReply>("counter_b", CounterGet(), kLongTimeout).status();
    failed_at = absl::Now();
    done.Notify();
  });
  // Not a sleep: a stopped node must not answer; meanwhile the call is sent.
  EXPECT_FALSE(done.WaitForNotificationWithTimeout(absl::Milliseconds(200)))
      << "a stopped node answered: " << pending;
  const absl::Time killed_at = absl::Now();
  proc("b").Kill();
  caller.join();
  EXPECT_THAT(pending, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_LT(failed_at - killed_at, kFast);

  // The next call, too (b may or may not have left the client's view yet).
  absl::Time start = absl::Now();
  EXPECT_THAT(client_->Call<CounterReply>("counter_b", CounterGet(), kLongTimeout),
              AnyOf(StatusIs(absl::StatusCode::kUnavailable),
                    StatusIs(absl::StatusCode::kNotFound)));
  EXPECT_LT(absl::Now() - start, kFast);

  // The survivors keep working, also with each other (c had joined via b).
  EXPECT_THAT(client_->Call<CounterReply>("counter_a", CounterAdd(1)), IsOk());
  EXPECT_THAT(client_->Call<CounterReply>("counter_c", CounterAdd(1)), IsOk());
  ProcessResult r = Polis({"call", Seed("c"), "counter_a", R"({"add": 1})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"2\"}\n") << r.Summary();
  // And b's names leave the cluster's view.
  WaitFor([&] { return !client_->WhereIs("counter_b").ok(); }, kConverge);
  EXPECT_THAT(client_->Call<CounterReply>("counter_b", CounterGet()),
              StatusIs(absl::StatusCode::kNotFound));
  r = Polis({"call", Seed("a"), "counter_b", R"({"get": {}})"});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_THAT(r.err, StartsWith("NOT_FOUND: ")) << r.Summary();
}

TEST_P(MultiProcessTest, CliRefusesBadInputClearlyAndLosesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ProcessResult ok =
      PolisOnceFound({"call", Seed("a"), "counter_b", R"({"add": 3})"});
  ASSERT_EQ(ok.exit_code, 0) << ok.Summary();

  struct Case {
    const char* command;
    const char* json;
    const char* mentions;
  };
  for (const Case& c :
       {Case{"call", R"({"add": )", ""}, Case{"call", "not json", ""},
        Case{"call", R"({"bogus": 1})", "bogus"},
        Case{"call", R"({"add": "x"})", "add"},
        Case{"cast", R"({"add": 1)", ""},
        Case{"send", R"({"nope": {}})", "nope"}}) {
    ProcessResult r = Polis({c.command, Seed("a"), "counter_b", c.json});
    EXPECT_EQ(r.exit_code, 1)
        << c.command << " " << c.json << ": " << r.Summary();
    EXPECT_THAT(r.err, StartsWith("INVALID_ARGUMENT: "))
        << c.json << ": " << r.Summary();
    EXPECT_THAT(r.err, HasSubstr(c.mentions)) << c.json;
    EXPECT_EQ(r.out, "") << c.json;
  }
  // Usage errors: exit code 2.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"call", "counter_b", R"({"add": 1})"},
        std::vector<std::string>{"bench", "remote", "--only=nope"},
        std::vector<std::string>{"bench", "local", "--only=remote_cast"},
        std::vector<std::string>{"bench", "scale", "--only=bogus"},
        std::vector<std::string>{"bench", "scale", "--only=remote_call"}}) {
    ProcessResult usage = Polis(args);
    EXPECT_EQ(usage.exit_code, 2) << usage.Summary();
    EXPECT_THAT(usage.err, StartsWith("INVALID_ARGUMENT: ")) << usage.Summary();
    EXPECT_EQ(usage.out, "") << usage.Summary();
  }
  ProcessResult bogus = Polis({"bench", "scale", "--only=bogus"});
  EXPECT_THAT(bogus.err, StartsWith("INVALID_ARGUMENT: --only: one of size, pairs, callers, "
                                    "idle, not \"bogus\""))
      << bogus.Summary();

  // Nothing was applied, and the server is still there.
  ProcessResult get = Polis({"call", Seed("c"), "counter_b", R"({"get": {}})"});
  EXPECT_EQ(get.exit_code, 0) << get.Summary();
  EXPECT_EQ(get.out, "{\"value\":\"3\"}\n") << get.Summary();
}

TEST_P(MultiProcessTest, UnreachableSeedIsUnavailableWithinTheTimeout) {
  std::string seed;
  int port_holder = -1;
  if (GetParam() == "tcp") {
    // A port bound but not listening: connections to it are refused, and
    // no other process can take it meanwhile.
    port_holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(port_holder, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(
        bind(port_holder, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ASSERT_EQ(
        getsockname(port_holder, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    seed = absl::StrCat("tcp://127.0.0.1:", ntohs(addr.sin_port));
  } else {
    seed = "ipc://" + dir_->File("nobody.sock");
  }
  ProcessResult r = Polis({"call", "--seed=" + seed, "--timeout=500ms",
                           "counter", R"({"add": 1})"});
  if (port_holder >= 0) close(port_holder);
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_THAT(r.err, StartsWith("UNAVAILABLE: ")) << r.Summary();
  EXPECT_LT(r.elapsed, absl::Seconds(3)) << r.Summary();
}

TEST_P(MultiProcessTest,
       NodeConfigFileIsReadAndAMalformedOneIsExitCode2WithFileAndLine) {
  // A good file; the flags (--name, from NodeProcess) override it.
  const std::string good = dir_->File("good.textproto");
  std::ofstream(good) << "name: \"from_file\"\n"
                      << "listen: \"" << Listen("d") << "\"\n"
                      << "serve { kind: \"counter\" name: \"counter_d\"\n"
                      << "  args { fields { key: \"initial\" value { "
                         "number_value: 10 } } } }\n";
  NodeProcessOptions o;
  o.name = "d";
  o.extra_args = {"--config=" + good};
  auto d = NodeProcess::Start(o);
  ASSERT_THAT(d, IsOk());
  procs_["d"] = std::move(*d);
  started_.push_back("d");
  ProcessResult r = Polis({"call", Seed("d"), "counter_d", R"({"get": {}})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"10\"}\n") << r.Summary();

  // Malformed: a syntax error on line 3, an unknown field on line 2.
  const std::string syntax = dir_->File("syntax.textproto");
  std::ofstream(syntax) << "name: \"x\"\nthreads: 2\nlisten = \"oops\"\n"
                        << "serve { kind: \"counter\" }\n";
  const std::string unknown = dir_->File("unknown.textproto");
  std::ofstream(unknown) << "name: \"x\"\nbogus_field: 1\n";
  for (const auto& [path, where] : {std::pair{syntax, syntax + ":3:"},
                                    std::pair{unknown, unknown + ":2:"}}) {
    ProcessResult bad = Polis({"node", "--config=" + path}, absl::Seconds(10));
    EXPECT_EQ(bad.exit_code, 2) << bad.Summary();
    EXPECT_THAT(bad.err, StartsWith("INVALID_ARGUMENT: ")) << bad.Summary();
    EXPECT_THAT(bad.err, HasSubstr(where)) << bad.Summary();
    EXPECT_EQ(bad.out, "")
        << bad.Summary();  // It never got as far as listening.
  }
}

TEST_P(MultiProcessTest, EveryNodeExitsZeroOnSigterm) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_THAT(client_->Call<CounterReply>("counter_c", CounterAdd(1)), IsOk());
  // The seed of the cluster goes first; the others keep serving.
  EXPECT_THAT(proc("a").Stop(), IsOk());
  EXPECT_THAT(client_->Call<CounterReply>("counter_c", CounterAdd(1)), IsOk());
  ProcessResult r = Polis({"call", Seed("c"), "counter_b", R"({"add": 1})"});
  EXPECT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(proc("b").Stop(), IsOk());
  EXPECT_THAT(proc("c").Stop(), IsOk());
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_THAT(proc(name).Stderr(), HasSubstr("SIGTERM")) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, MultiProcessTest,
                         ::testing::Values("tcp", "ipc"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace polis
