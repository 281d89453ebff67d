// Node::Metrics (node/metrics.h) on nodes in this process: what a server
// counts (messages by kind, calls by the code they were answered with,
// sampled handler durations, restarts), unnamed processes summed per kind,
// the node's own figures, and per-peer traffic and state over tcp.
// (The Prometheus text and a real Prometheus: telemetry/ and
// metrics_e2e_test.cc.)
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "genserver/genserver.h"
#include "gtest/gtest.h"
#include "node/metrics.h"
#include "node/node.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"
#include "tests/test_values.h"
#include "tests/wait.h"

namespace polis::testing {
namespace {

using google::protobuf::Int64Value;
using google::protobuf::StringValue;

// Casts (Int64Value) store a value under its decimal key; calls
// (StringValue) get it back, or NOT_FOUND; infos (StringValue) are counted.
class Store : public GenServer {
 public:
  Store() {
    OnCall(&Store::Get);
    OnCast(&Store::Put);
    OnInfo(&Store::Note);
  }

 private:
  Task<absl::StatusOr<Int64Value>> Get(const StringValue& key) {
    auto it = values_.find(key.value());
    if (it == values_.end()) co_return absl::NotFoundError(absl::StrCat("no ", key.value()));
    co_return Int(it->second);
  }
  Task<absl::Status> Put(const Int64Value& v) {
    values_[absl::StrCat(v.value())] = v.value();
    co_return absl::OkStatus();
  }
  Task<absl::Status> Note(const StringValue&) { co_return absl::OkStatus(); }

  std::map<std::string, int64_t> values_;
};

// Copies (a NodeMetrics is often a temporary).
std::optional<ServerMetrics> Named(const NodeMetrics& m, const std::string& server) {
  for (const ServerMetrics& s : m.servers) {
    if (!s.server.empty() && s.server == server) return s;
  }
  return std::nullopt;
}

std::optional<ServerMetrics> Unnamed(const NodeMetrics& m, const std::string& kind) {
  for (const ServerMetrics& s : m.servers) {
    if (s.server.empty() && s.kind == kind) return s;
  }
  return std::nullopt;
}

std::optional<PeerMetrics> Peer(const NodeMetrics& m, const std::string& node) {
  for (const PeerMetrics& p : m.peers) {
    if (p.node == node) return p;
  }
  return std::nullopt;
}

uint64_t Answered(const ServerMetrics& s, absl::StatusCode code) {
  return s.answered[static_cast<int>(code)];
}

class NodeMetricsTest : public LocalNodeTest {};

TEST_F(NodeMetricsTest, AServerCountsExactlyTheCallsCastsAndInfosItHandled) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Store>(), {.name = "store", .kind = "store"}), IsOk());
  constexpr int kCasts = 250;
  constexpr int kInfos = 7;
  constexpr int kCalls = 37;
  for (int i = 0; i < kCasts; ++i) ASSERT_THAT(node_->Cast("store", Int(i)), IsOk());
  for (int i = 0; i < kInfos; ++i) ASSERT_THAT(node_->Send("store", Str("note")), IsOk());
  // Calls come after, from the same thread: once they are answered, every
  // cast and info before them has been handled.
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_THAT(node_->Call<Int64Value>("store", Str(absl::StrCat(i))), IsOk());
  }
  const NodeMetrics m = node_->Metrics();
  const std::optional<ServerMetrics> s = Named(m, "store");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->kind, "store");
  EXPECT_EQ(s->processes, 1);
  EXPECT_EQ(s->calls, uint64_t{kCalls});
  EXPECT_EQ(s->casts, uint64_t{kCasts});
  EXPECT_EQ(s->infos, uint64_t{kInfos});
  EXPECT_EQ(Answered(*s, absl::StatusCode::kOk), uint64_t{kCalls});
  EXPECT_EQ(s->mailbox, 0);
  EXPECT_EQ(s->restarts, 0);
}

TEST_F(NodeMetricsTest, CallsAreCountedByTheCodeTheyWereAnsweredWith) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Store>(), {.name = "store", .kind = "store"}), IsOk());
  ASSERT_THAT(node_->Cast("store", Int(1)), IsOk());
  ASSERT_THAT(node_->Call<Int64Value>("store", Str("1")), IsOk());
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(node_->Call<Int64Value>("store", Str("missing")),
                StatusIs(absl::StatusCode::kNotFound));
  }
  // A type the server does not take: refused by the runtime, no handler ran.
  EXPECT_THAT(node_->Call<Int64Value>("store", Int(5)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  const std::optional<ServerMetrics> s = Named(node_->Metrics(), "store");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->calls, 4u);
  EXPECT_EQ(Answered(*s, absl::StatusCode::kOk), 1u);
  EXPECT_EQ(Answered(*s, absl::StatusCode::kNotFound), 3u);
  EXPECT_EQ(Answered(*s, absl::StatusCode::kInvalidArgument), 1u);
}

// Sends `messages` to a fresh "store" on `node` (casts, then a call) and
// waits until `timed` handler durations are recorded (a handler's end is
// recorded just after it answered); the server's metrics then.
ServerMetrics TimeHandlers(Node& node, int messages, uint64_t timed) {
  EXPECT_THAT(node.Spawn(std::make_unique<Store>(), {.name = "store", .kind = "store"}), IsOk());
  for (int i = 0; i < messages - 1; ++i) EXPECT_THAT(node.Cast("store", Int(i)), IsOk());
  EXPECT_THAT(node.Call<Int64Value>("store", Str("0")), IsOk());
  ServerMetrics s;
  EXPECT_TRUE(WaitFor([&] {
    s = Named(node.Metrics(), "store").value_or(ServerMetrics());
    return s.latency.count == timed;
  })) << s.latency.count << " timed, want " << timed;
  uint64_t in_buckets = 0;
  for (uint64_t n : s.latency.counts) in_buckets += n;
  EXPECT_EQ(in_buckets, s.latency.count);
  EXPECT_GT(s.latency.sum_ns, 0);
  EXPECT_LT(s.latency.sum_ns, int64_t{10'000'000'000});
  return s;
}

TEST_F(NodeMetricsTest, EveryHandlerOfASampledTraceIsTimedByItsSpan) {
  // The test node samples every trace (the default): each message's span
  // times its handler.
  TimeHandlers(*node_, 100, 100);
}

TEST(NodeMetricsUntracedTest, OneUntracedHandlerInSixtyFourIsTimedTheFirstIncluded) {
  absl::StatusOr<std::unique_ptr<Node>> node =
      StartNode({.name = "u", .trace = {.sampler = Sampler::Never()}});
  ASSERT_THAT(node, IsOk());
  constexpr int kMessages = 130;  // Timed: the 1st, 65th and 129th.
  static_assert(kLatencySampleEvery == 64);
  TimeHandlers(**node, kMessages, 3);
  (*node)->Shutdown();
}

TEST_F(NodeMetricsTest, UnnamedProcessesAreSummedPerKindAndKeepTheirCountsWhenTheyEnd) {
  std::vector<Pid> workers;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Pid> p = node_->Spawn(std::make_unique<Store>(), {.kind = "worker"});
    ASSERT_THAT(p, IsOk());
    workers.push_back(*p);
  }
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j <= i; ++j) ASSERT_THAT(node_->Cast(workers[i], Int(j)), IsOk());
    ASSERT_THAT(node_->Call<Int64Value>(workers[i], Str("0")), IsOk());
  }
  NodeMetrics m = node_->Metrics();
  std::optional<ServerMetrics> w = Unnamed(m, "worker");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->processes, 3);
  EXPECT_EQ(w->casts, 6u);  // 1 + 2 + 3
  EXPECT_EQ(w->calls, 3u);
  EXPECT_EQ(m.servers.size(), 1u);  // No entry per process.

  // Two end: their counts stay in the kind's sums (counters never go down).
  ASSERT_THAT(node_->Stop(workers[0]), IsOk());
  ASSERT_THAT(node_->Stop(workers[2]), IsOk());
  m = node_->Metrics();
  w = Unnamed(m, "worker");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->processes, 1);
  EXPECT_EQ(w->casts, 6u);
  EXPECT_EQ(w->calls, 3u);
  EXPECT_EQ(Answered(*w, absl::StatusCode::kOk), 3u);
}

TEST_F(NodeMetricsTest, RestartsCountTheNameRegisteredAgain) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Store>(), {.name = "s", .kind = "store"}), IsOk());
  ASSERT_THAT(node_->Stop("s"), IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<Store>(), {.name = "s", .kind = "store"}), IsOk());
  ASSERT_THAT(node_->Stop("s"), IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<Store>(), {.name = "s", .kind = "store"}), IsOk());
  const std::optional<ServerMetrics> s = Named(node_->Metrics(), "s");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->restarts, 2);
  EXPECT_EQ(s->calls + s->casts + s->infos, 0u);  // A new process: fresh counts.
}

TEST_F(NodeMetricsTest, TheNodeReportsItsProcessesMemoryRunQueuesAndStart) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Store>(), {.name = "a", .kind = "store"}), IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<Store>(), {.kind = "store"}), IsOk());
  const NodeMetrics m = node_->Metrics();
  EXPECT_EQ(m.node, "t");
  EXPECT_EQ(m.processes, 2);
  EXPECT_GT(m.resident_bytes, 1 << 20);
  EXPECT_EQ(m.run_queues.size(), 2u);  // The test node's 2 workers.
  EXPECT_GT(m.started_unix_ns, 0);
  EXPECT_TRUE(m.peers.empty());  // In-process, alone: no transport counts.
}

// Two nodes over tcp: traffic and state per peer.
TEST(PeerMetricsTest, MembersHaveTrafficAndStateAndClientsCountAsOther) {
  TestNodes nodes("tcp");
  ASSERT_THAT(nodes.StartMesh({"a", "b"}), IsOk());
  Node& a = *nodes[0];
  Node& b = *nodes[1];
  ASSERT_THAT(b.Spawn(std::make_unique<Store>(), {.name = "store", .kind = "store"}), IsOk());
  ASSERT_THAT(AwaitName(a, "store"), IsOk());
  ASSERT_THAT(b.Cast("store", Int(1)), IsOk());
  constexpr int kCalls = 20;
  for (int i = 0; i < kCalls; ++i) ASSERT_THAT(a.Call<Int64Value>("store", Str("1")), IsOk());

  const std::optional<PeerMetrics> b_at_a = Peer(a.Metrics(), "b");
  ASSERT_TRUE(b_at_a.has_value());
  EXPECT_TRUE(b_at_a->member);
  EXPECT_TRUE(b_at_a->up);
  EXPECT_EQ(b_at_a->endpoint, b.endpoint());
  // The calls and their replies, besides membership's own messages.
  EXPECT_GE(b_at_a->messages_out, uint64_t{kCalls});
  EXPECT_GE(b_at_a->messages_in, uint64_t{kCalls});
  EXPECT_GT(b_at_a->bytes_out, b_at_a->messages_out);
  EXPECT_EQ(b_at_a->dropped + b_at_a->refused, 0u);
  const std::optional<PeerMetrics> a_at_b = Peer(b.Metrics(), "a");
  ASSERT_TRUE(a_at_b.has_value());
  EXPECT_GE(a_at_b->messages_in, uint64_t{kCalls});

  // A client's calls count as "other" at b (clients come and go under
  // fresh names; they get no series of their own).
  absl::StatusOr<std::unique_ptr<Node>> client =
      StartJoinedNode({.name = "client-1", .seeds = {b.endpoint()}, .client = true});
  ASSERT_THAT(client, IsOk());
  ASSERT_THAT(AwaitName(**client, "store"), IsOk());
  const uint64_t other_before = Peer(b.Metrics(), "").value_or(PeerMetrics()).messages_in;
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_THAT((*client)->Call<Int64Value>("store", Str("1")), IsOk());
  }
  const NodeMetrics at_b = b.Metrics();
  EXPECT_FALSE(Peer(at_b, "client-1").has_value());
  const std::optional<PeerMetrics> other = Peer(at_b, "");
  ASSERT_TRUE(other.has_value());
  EXPECT_GE(other->messages_in, other_before + kCalls);
  EXPECT_FALSE(other->member);
  (*client)->Shutdown();

  // b leaves (Goodbye): no longer a member, its traffic counts stay. (A
  // member that dies is "down" while it is greeted again:
  // metrics_e2e_test.cc.)
  const uint64_t sent_to_b = Peer(a.Metrics(), "b")->messages_out;
  b.Shutdown();
  ASSERT_TRUE(WaitFor([&] { return !Peer(a.Metrics(), "b").value_or(PeerMetrics()).member; }));
  const std::optional<PeerMetrics> gone = Peer(a.Metrics(), "b");
  ASSERT_TRUE(gone.has_value());
  EXPECT_GE(gone->messages_out, sent_to_b);
}

}  // namespace
}  // namespace polis::testing
