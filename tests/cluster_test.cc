// Several nodes in one process, over each transport (inproc, tcp, ipc):
// call/cast/send/send_after by name across nodes, ordering, NOT_FOUND,
// deadlines, node failure, error details. The same suite runs on every
// transport.
#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "genserver/genserver.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "node/status_details.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"
#include "tests/test_values.h"
#include "tests/wait.h"

namespace polis {
namespace {

using ::google::protobuf::Empty;
using ::google::protobuf::Int64Value;
using ::google::protobuf::StringValue;
using ::polis::testing::IsOk;
using ::polis::testing::StatusIs;
using ::polis::testing::TestNodes;
using ::polis::testing::WaitFor;
using ::testing::HasSubstr;

using ::polis::testing::Int;
using ::polis::testing::Str;

// Records every cast/info value in arrival order; call Int64Value n:
// replies with the number of values seen; call StringValue "defer": never
// replies; call StringValue "forward:<name>": calls <name> from the handler;
// call StringValue "fail-bytes": fails with INTERNAL and a message that is
// not UTF-8.
class Recorder : public GenServer {
 public:
  Recorder() {
    AcceptCall<Int64Value, Int64Value>();
    AcceptCall<StringValue, Int64Value>();
    AcceptCast<Int64Value>();
    AcceptInfo<Int64Value>();
    AcceptInfo<StringValue>();
  }
  Task<absl::StatusOr<Reply>> HandleCall(const Message& m, const From& from) override {
    if (m.Is<StringValue>()) {
      std::string cmd = m.As<StringValue>()->value();
      if (cmd == "defer") {
        ++deferred_;
        co_return Reply::Deferred();
      }
      if (cmd == "fail-bytes") co_return Reply::Error(absl::InternalError("bad \xFF\xC0 bytes"));
      if (cmd.rfind("forward:", 0) == 0) {
        absl::StatusOr<Int64Value> r = co_await Call<Int64Value>(cmd.substr(8), Int(0));
        if (!r.ok()) co_return Reply::Error(r.status());
        co_return *r;
      }
      if (cmd.rfind("cast:", 0) == 0) {
        // Casts 1..n to another server (possibly remote), in order.
        std::string target = cmd.substr(5);
        for (int i = 1; i <= 100; ++i) {
          absl::Status s = Cast(target, Int(i));
          if (!s.ok()) co_return Reply::Error(s);
        }
        co_return Int(100);
      }
      if (cmd.rfind("after:", 0) == 0) {
        absl::StatusOr<TimerRef> t =
            SendAfter(absl::Milliseconds(20), cmd.substr(6), Str("tick"));
        if (!t.ok()) co_return Reply::Error(t.status());
        co_return Int(1);
      }
    }
    if (m.As<Int64Value>()->value() == -1) co_return Int(deferred_);
    co_return Int(static_cast<int64_t>(seen_.size()));
  }
  Task<absl::Status> HandleCast(const Message& m) override {
    // Each sender counts 1, 2, 3, ...; senders do not interleave in these tests.
    int64_t v = m.As<Int64Value>()->value();
    if (v != 1 && (seen_.empty() || seen_.back() + 1 != v)) out_of_order_->store(true);
    seen_.push_back(v);
    co_return absl::OkStatus();
  }
  Task<absl::Status> HandleInfo(const Message& m) override {
    seen_.push_back(m.Is<Int64Value>() ? m.As<Int64Value>()->value() : -1);
    co_return absl::OkStatus();
  }
  Task<absl::Status> Init() override { co_return absl::OkStatus(); }

  // Only read after the node stopped.
  std::vector<int64_t> seen_;
  // Shared with the test, so it can be read after the node (and this
  // server) are gone.
  std::shared_ptr<std::atomic<bool>> out_of_order_ = std::make_shared<std::atomic<bool>>(false);
  int64_t deferred_ = 0;
};

// The trace contexts a TraceProbe saw (and, for calls, how long their
// callers would still wait), shared with the test.
struct SeenTraces {
  absl::Mutex mu;
  std::vector<TraceContext> traces ABSL_GUARDED_BY(mu);
  std::vector<absl::Duration> call_time_left ABSL_GUARDED_BY(mu);
  void Add(const TraceContext& t) {
    absl::MutexLock lock(&mu);
    traces.push_back(t);
  }
};

// Records the trace context of every cast and call it handles.
class TraceProbe : public GenServer {
 public:
  explicit TraceProbe(std::shared_ptr<SeenTraces> seen) : seen_(std::move(seen)) {
    AcceptCall<Int64Value, Int64Value>();
    AcceptCast<Int64Value>();
  }
  Task<absl::StatusOr<Reply>> HandleCall(const Message& m, const From& from) override {
    seen_->Add(context().trace());
    absl::MutexLock lock(&seen_->mu);
    seen_->call_time_left.push_back(from.deadline - absl::Now());
    co_return Int(0);
  }
  Task<absl::Status> HandleCast(const Message&) override {
    seen_->Add(context().trace());
    co_return absl::OkStatus();
  }

 private:
  std::shared_ptr<SeenTraces> seen_;
};

// On a call: records its own trace context, casts twice and calls once to
// "probe" (wherever it is, with a 7 s timeout), then replies.
class TraceRelay : public GenServer {
 public:
  explicit TraceRelay(std::shared_ptr<SeenTraces> seen) : seen_(std::move(seen)) {
    AcceptCall<Int64Value, Int64Value>();
  }
  Task<absl::StatusOr<Reply>> HandleCall(const Message&, const From&) override {
    seen_->Add(context().trace());
    for (int i = 0; i < 2; ++i) {
      if (absl::Status s = Cast("probe", Int(i)); !s.ok()) co_return Reply::Error(s);
    }
    absl::StatusOr<Int64Value> r = co_await Call<Int64Value>("probe", Int(0), absl::Seconds(7));
    if (!r.ok()) co_return Reply::Error(r.status());
    co_return *r;
  }

 private:
  std::shared_ptr<SeenTraces> seen_;
};

class ClusterTest : public ::testing::TestWithParam<std::string> {
 protected:
  Node& Start(const std::string& name, std::vector<std::string> seeds = {}) {
    absl::StatusOr<Node*> n = nodes_.Start(name, std::move(seeds));
    EXPECT_THAT(n, IsOk());
    return **n;
  }

  // Waits until `node` can resolve `name` (gossip is asynchronous).
  void AwaitName(Node& node, const std::string& name) {
    ASSERT_THAT(testing::AwaitName(node, name), IsOk());
  }

  // Three connected nodes a, b, c (b and c joined through a only).
  void StartThree() { ASSERT_THAT(nodes_.StartMesh({"a", "b", "c"}), IsOk()); }

  TestNodes nodes_{GetParam()};  // Over the transport this suite runs on.
};

TEST_P(ClusterTest, CallsAServerOnAnotherNodeByName) {
  StartThree();
  ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<Recorder>(), {.name = "rec"}), IsOk());
  AwaitName(*nodes_[1], "rec");  // b learns of a name on c (full mesh via a).
  auto r = nodes_[1]->Call<Int64Value>("rec", Int(1));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 0);
}

TEST_P(ClusterTest, AnErrorMessageThatIsNotUtf8ReachesTheRemoteCaller) {
  StartThree();
  ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<Recorder>(), {.name = "rec"}), IsOk());
  AwaitName(*nodes_[1], "rec");
  // The wire's status_message is a proto3 string: raw bytes would make the
  // reply unparsable, and the caller would wait out its deadline.
  EXPECT_THAT(nodes_[1]->Call<Int64Value>("rec", Str("fail-bytes"), absl::Seconds(20)),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("bad \xEF\xBF\xBD\xEF\xBF\xBD bytes")));
}

// (And a call's deadline travels with it.)
TEST_P(ClusterTest, RemoteCastsAndCallsFromAHandlerCarryItsTrace) {
  StartThree();
  auto relay_seen = std::make_shared<SeenTraces>();
  auto probe_seen = std::make_shared<SeenTraces>();
  ASSERT_THAT(nodes_[0]->Spawn(std::make_unique<TraceRelay>(relay_seen), {.name = "relay"}),
              IsOk());
  ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<TraceProbe>(probe_seen), {.name = "probe"}),
              IsOk());
  AwaitName(*nodes_[0], "probe");
  AwaitName(*nodes_[1], "relay");
  // Twice: the second time the relay's node has the probe's route cached.
  for (int round = 0; round < 2; ++round) {
    ASSERT_THAT(nodes_[1]->Call<Int64Value>("relay", Int(round)), IsOk());
  }
  absl::MutexLock relay_lock(&relay_seen->mu);
  absl::MutexLock probe_lock(&probe_seen->mu);
  // The call is answered after the casts were sent, and casts from one
  // sender arrive in order before its call: all six are in.
  ASSERT_EQ(relay_seen->traces.size(), 2u);
  ASSERT_EQ(probe_seen->traces.size(), 6u);
  std::vector<uint64_t> spans;
  for (int round = 0; round < 2; ++round) {
    const TraceContext& relay = relay_seen->traces[round];
    EXPECT_FALSE(relay.trace_id.empty());
    EXPECT_NE(relay.span_id, 0u);
    spans.push_back(relay.span_id);
    for (int i = 0; i < 3; ++i) {
      const TraceContext& probe = probe_seen->traces[3 * round + i];
      EXPECT_EQ(probe.trace_id, relay.trace_id) << "round " << round << " message " << i;
      if (i < 2) {  // the casts: children of the relay's span
        EXPECT_EQ(probe.parent_span_id, relay.span_id) << "round " << round << " message " << i;
      } else {
        // The call: a child of the relay's side of it (its reply span, on
        // the relay's node), itself a child of the relay's span.
        wire::SpanQuery q;
        q.add_trace_ids(std::string(relay.trace_id.view()));
        absl::StatusOr<wire::SpanQueryReply> r = nodes_[0]->QuerySpans("", q);
        ASSERT_THAT(r, IsOk());
        bool found = false;
        for (const wire::Span& span : r->spans()) {
          if (span.span_id() != probe.parent_span_id) continue;
          found = true;
          EXPECT_EQ(span.kind(), wire::SPAN_KIND_REPLY);
          EXPECT_EQ(span.parent_span_id(), relay.span_id);
        }
        EXPECT_TRUE(found) << "round " << round;
      }
      spans.push_back(probe.span_id);
    }
  }
  EXPECT_NE(relay_seen->traces[0].trace_id, relay_seen->traces[1].trace_id);
  // The probe knows when each caller gives up: in under 7 s (the relay's
  // timeout), and not long under (a missing deadline would be infinite).
  ASSERT_EQ(probe_seen->call_time_left.size(), 2u);
  for (absl::Duration left : probe_seen->call_time_left) {
    EXPECT_LE(left, absl::Seconds(7));
    EXPECT_GT(left, absl::Seconds(2));
  }
  std::sort(spans.begin(), spans.end());
  EXPECT_EQ(std::adjacent_find(spans.begin(), spans.end()), spans.end()) << "a span id repeats";
  EXPECT_EQ(std::count(spans.begin(), spans.end(), 0u), 0);
}

TEST_P(ClusterTest, NameThatExistsNowhereIsNotFoundAtOnce) {
  StartThree();
  absl::Time start = absl::Now();
  EXPECT_THAT(nodes_[1]->Call<Int64Value>("ghost", Int(1), absl::Seconds(30)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ghost")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_P(ClusterTest, CastsFromOneSenderArriveInOrderAcrossNodes) {
  StartThree();
  auto rec = std::make_unique<Recorder>();
  std::shared_ptr<std::atomic<bool>> out_of_order = rec->out_of_order_;
  ASSERT_THAT(nodes_[0]->Spawn(std::move(rec), {.name = "rec"}), IsOk());
  AwaitName(*nodes_[1], "rec");
  for (int i = 1; i <= 2000; ++i) ASSERT_THAT(nodes_[1]->Cast("rec", Int(i)), IsOk());
  auto r = nodes_[1]->Call<Int64Value>("rec", Int(0));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 2000);
  // And from a GenServer on another node (its sends are pinned to one socket).
  ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<Recorder>(), {.name = "sender"}), IsOk());
  AwaitName(*nodes_[2], "rec");
  ASSERT_THAT(nodes_[2]->Call<Int64Value>("sender", Str("cast:rec")), IsOk());
  WaitFor([&] { return nodes_[2]->Call<Int64Value>("rec", Int(0))->value() >= 2100; });
  EXPECT_EQ(nodes_[2]->Call<Int64Value>("rec", Int(0))->value(), 2100);
  nodes_[0]->Shutdown();
  EXPECT_FALSE(out_of_order->load());
}

// Senders remember where a remote name lives (RouteCache); a name that
// moves must be followed at once, by the same thread and by a process.
TEST_P(ClusterTest, ANameThatMovesIsFollowedBySendersThatUsedIt) {
  StartThree();
  Node& a = *nodes_[0];
  Node& b = *nodes_[1];
  Node& c = *nodes_[2];
  ASSERT_THAT(b.Spawn(std::make_unique<Recorder>(), {.name = "sender"}), IsOk());
  auto served_by = [&](const std::string& where) {
    // One cast from this thread and 100 from a process on b: a fresh "rec"
    // sees exactly those. (The two senders use different connections, so
    // their casts may arrive after the call below: poll for the count.)
    EXPECT_THAT(b.Cast("rec", Int(1)), IsOk()) << where;
    EXPECT_THAT(b.Call<Int64Value>("sender", Str("cast:rec")), IsOk()) << where;
    int64_t seen = 0;
    absl::Status call;
    WaitFor([&] {
      absl::StatusOr<Int64Value> r = b.Call<Int64Value>("rec", Int(0));
      call = r.status();
      if (r.ok()) seen = r->value();
      return !r.ok() || seen >= 101;
    });
    ASSERT_THAT(call, IsOk()) << where;
    EXPECT_EQ(seen, 101) << where;
    EXPECT_EQ(b.WhereIs("rec")->node, where);
  };
  auto move_away = [&](Node& from) {
    ASSERT_THAT(from.Stop(Target("rec")), IsOk());
    // Until every node has heard (a new "rec" must not look like a duplicate).
    auto known = [&] {
      return a.WhereIs("rec").ok() || b.WhereIs("rec").ok() || c.WhereIs("rec").ok();
    };
    WaitFor([&] { return !known(); });
    ASSERT_FALSE(known());
  };
  auto rec = [] { return std::make_unique<Recorder>(); };  // its order flag is not read
  ASSERT_THAT(c.Spawn(rec(), {.name = "rec"}), IsOk());
  AwaitName(b, "rec");
  served_by("c");
  move_away(c);
  ASSERT_THAT(a.Spawn(rec(), {.name = "rec"}), IsOk());
  AwaitName(b, "rec");
  served_by("a");
  move_away(a);
  ASSERT_THAT(b.Spawn(rec(), {.name = "rec"}), IsOk());  // now local to the senders
  served_by("b");
}

TEST_P(ClusterTest, HandlerCallsRemoteServer) {
  StartThree();
  ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<Recorder>(), {.name = "far"}), IsOk());
  ASSERT_THAT(nodes_[1]->Spawn(std::make_unique<Recorder>(), {.name = "near"}), IsOk());
  AwaitName(*nodes_[1], "far");
  AwaitName(*nodes_[0], "near");
  // a -> near (on b) -> far (on c), reply back along the chain.
  EXPECT_THAT(nodes_[0]->Call<Int64Value>("near", Str("forward:far")), IsOk());
  EXPECT_THAT(nodes_[0]->Call<Int64Value>("near", Str("forward:ghost")),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(ClusterTest, RemoteDeadlineIsDeadlineExceeded) {
  StartThree();
  ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<Recorder>(), {.name = "slow"}), IsOk());
  AwaitName(*nodes_[1], "slow");
  EXPECT_THAT(nodes_[1]->Call<Int64Value>("slow", Str("defer"), absl::Milliseconds(100)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  // The next call gets its own answer.
  auto r = nodes_[1]->Call<Int64Value>("slow", Int(0));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 0);
}

TEST_P(ClusterTest, SendAfterToARemoteName) {
  StartThree();
  ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<Recorder>(), {.name = "target"}), IsOk());
  ASSERT_THAT(nodes_[0]->Spawn(std::make_unique<Recorder>(), {.name = "timer"}), IsOk());
  AwaitName(*nodes_[0], "target");
  AwaitName(*nodes_[1], "target");
  // From a plain thread, and from a server; one cancelled.
  auto t1 = nodes_[1]->SendAfter(absl::Milliseconds(10), "target", Int(7));
  auto t2 = nodes_[1]->SendAfter(absl::Milliseconds(10), "target", Int(8));
  ASSERT_THAT(t1, IsOk());
  ASSERT_THAT(t2, IsOk());
  EXPECT_TRUE(nodes_[1]->CancelTimer(*t2));
  ASSERT_THAT(nodes_[0]->Call<Int64Value>("timer", Str("after:target")), IsOk());
  int64_t seen = 0;
  WaitFor([&] {
    seen = nodes_[2]->Call<Int64Value>("target", Int(0))->value();
    return seen >= 2;
  });
  EXPECT_EQ(seen, 2);  // 7 and the tick; never 8.
}

TEST_P(ClusterTest, DeadNodeFailsWaitingCallsAtOnce) {
  StartThree();
  ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<Recorder>(), {.name = "doomed"}), IsOk());
  AwaitName(*nodes_[1], "doomed");
  absl::Status status;
  std::thread caller([&] {
    status = nodes_[1]->Call<Int64Value>("doomed", Str("defer"), absl::Seconds(30)).status();
  });
  // Wait until the call is inside the server (it counts deferred calls).
  EXPECT_TRUE(
      WaitFor([&] { return nodes_[2]->Call<Int64Value>("doomed", Int(-1))->value() >= 1; }));
  absl::Time start = absl::Now();
  nodes_[2]->Shutdown();
  caller.join();
  EXPECT_FALSE(status.ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  // Its names are gone from the survivors' view.
  WaitFor([&] { return !nodes_[1]->WhereIs("doomed").ok(); });
  EXPECT_THAT(nodes_[1]->Call<Int64Value>("doomed", Int(0)),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(ClusterTest, NamesRegisteredBeforeTheSeedAnsweredReachTheSeed) {
  Node& a = Start("a");
  Node& b = Start("b", {a.endpoint()});
  // Registered before b's handshake with a can have finished.
  ASSERT_THAT(b.Spawn(std::make_unique<Recorder>(), {.name = "early"}), IsOk());
  AwaitName(a, "early");
  EXPECT_THAT(a.Call<Int64Value>("early", Int(0)), IsOk());
}

TEST_P(ClusterTest, WhereIsGivesTheRealPidOfARemoteServer) {
  StartThree();
  absl::StatusOr<Pid> pid = nodes_[2]->Spawn(std::make_unique<Recorder>(), {.name = "rec"});
  ASSERT_THAT(pid, IsOk());
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Pid> seen = nodes_[i]->AwaitName("rec", absl::Seconds(10));
    ASSERT_THAT(seen, IsOk());
    EXPECT_EQ(*seen, *pid) << nodes_[i]->name();
    EXPECT_TRUE(seen->valid());
  }
  // The pid works as a target from another node.
  EXPECT_THAT(nodes_[1]->Call<Int64Value>(*pid, Int(0)), IsOk());
}

TEST_P(ClusterTest, AClientNodeSeesNamesRegisteredAfterItJoined) {
  Node& a = Start("a");
  absl::StatusOr<Node*> client = nodes_.StartClient("web", {a.endpoint()});
  ASSERT_THAT(client, IsOk());
  ASSERT_THAT((*client)->Join(absl::Seconds(10)), IsOk());
  EXPECT_THAT((*client)->Call<Int64Value>("late", Int(0)), StatusIs(absl::StatusCode::kNotFound));
  // A server registered later, on a node that joins later, is callable
  // from the client without it joining again.
  Node& b = Start("b", {a.endpoint()});
  ASSERT_THAT(b.Spawn(std::make_unique<Recorder>(), {.name = "late"}), IsOk());
  AwaitName(**client, "late");
  EXPECT_THAT((*client)->Call<Int64Value>("late", Int(0)), IsOk());
  // And it sees it go.
  ASSERT_THAT(b.Stop(Target("late")), IsOk());
  EXPECT_TRUE(WaitFor([&] { return !(*client)->WhereIs("late").ok(); }));
  EXPECT_THAT((*client)->WhereIs("late"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(ClusterTest, TwoClaimsToOneNameEndWithTheOlderOneEverywhere) {
  // a and b do not know each other when each registers "dup"; a's claim is
  // the older. c then introduces them.
  Node& a = Start("a");
  ASSERT_THAT(a.Spawn(std::make_unique<Recorder>(), {.name = "dup"}), IsOk());
  Node& b = Start("b");
  ASSERT_THAT(b.Spawn(std::make_unique<Recorder>(), {.name = "dup"}), IsOk());
  const Pid winner = *a.WhereIs("dup");
  Node& c = Start("c", {a.endpoint(), b.endpoint()});
  ASSERT_THAT(c.Join(absl::Seconds(10)), IsOk());
  for (Node* n : {&a, &b, &c}) {
    ASSERT_TRUE(WaitFor([&] {
      absl::StatusOr<Pid> p = n->WhereIs("dup");
      return p.ok() && *p == winner;
    })) << n->name();
  }
  // b gave its claim up: "dup" is no longer registered there.
  ASSERT_TRUE(WaitFor([&] { return b.RegisteredNames().empty(); }));
  EXPECT_THAT(a.RegisteredNames(), ::testing::ElementsAre("dup"));
  for (Node* n : {&a, &b, &c}) {
    EXPECT_THAT(n->Call<Int64Value>("dup", Int(0)), IsOk()) << n->name();
  }
}

TEST_P(ClusterTest, ANodeSeededByTwoNodesThatDoNotKnowEachOtherJoinsAllThree) {
  // Two nodes alone (each the first of its cluster)...
  Node& x = Start("x");
  Node& y = Start("y");
  ASSERT_THAT(x.Spawn(std::make_unique<Recorder>(), {.name = "on_x"}), IsOk());
  ASSERT_THAT(y.Spawn(std::make_unique<Recorder>(), {.name = "on_y"}), IsOk());
  // ...and a node seeded by both: its Hellos to them went out before it
  // knew either, yet the three end up in one mesh.
  Node& z = Start("z", {x.endpoint(), y.endpoint()});
  ASSERT_THAT(z.Join(testing::kJoinTimeout), IsOk());
  const bool mesh = WaitFor([&] {
    return x.Peers().size() == 2 && y.Peers().size() == 2 && z.Peers().size() == 2;
  });
  ASSERT_TRUE(mesh) << "peers: x " << x.Peers().size() << ", y " << y.Peers().size() << ", z "
                    << z.Peers().size();
  AwaitName(x, "on_y");
  AwaitName(y, "on_x");
  EXPECT_THAT(x.Call<Int64Value>("on_y", Int(0)), IsOk());
}

TEST_P(ClusterTest, DuplicateNameAcrossNodesIsRefused) {
  StartThree();
  ASSERT_THAT(nodes_[0]->Spawn(std::make_unique<Recorder>(), {.name = "solo"}), IsOk());
  AwaitName(*nodes_[1], "solo");
  EXPECT_THAT(nodes_[1]->Spawn(std::make_unique<Recorder>(), {.name = "solo"}),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_P(ClusterTest, OversizedMessageIsRefusedAtTheSender) {
  NodeOptions o;
  o.name = "small";
  o.scheduler_threads = 1;
  o.listen = nodes_.Endpoint("small");
  o.max_message_bytes = 1024;
  auto n = Node::Create(std::move(o));
  ASSERT_THAT(n, IsOk());
  ASSERT_THAT((*n)->Spawn(std::make_unique<Recorder>(), {.name = "rec"}), IsOk());
  EXPECT_THAT((*n)->Call<Int64Value>("rec", Str(std::string(4096, 'x'))),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT((*n)->Cast("rec", Str(std::string(4096, 'x'))),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT((*n)->SendAfter(absl::Milliseconds(1), "rec", Str(std::string(4096, 'x'))),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT((*n)->Call<Int64Value>("rec", Int(1)), IsOk());
}

TEST_P(ClusterTest, UnreachableSeedIsUnavailableWithinTimeout) {
  NodeOptions o;
  o.name = "lonely";
  o.scheduler_threads = 1;
  o.seeds = {GetParam() == "inproc" ? "inproc://nobody-here"
             : GetParam() == "tcp"  ? "tcp://127.0.0.1:1"
                                    : "ipc:///tmp/polis-nobody-here"};
  auto n = Node::Create(std::move(o));
  ASSERT_THAT(n, IsOk());
  EXPECT_THAT((*n)->Join(absl::Milliseconds(300)), StatusIs(absl::StatusCode::kUnavailable));
}

// --- Status details across nodes ---

// A retry delay: the second typed detail Bank attaches.
google::protobuf::Duration RetryAfter() {
  google::protobuf::Duration d;
  d.set_seconds(3);
  d.set_nanos(500);
  return d;
}

// The error Bank fails every call with: FAILED_PRECONDITION, a message, the
// balance (Int64Value 42) and a retry delay (Duration) as typed details, and
// a plain absl payload of raw bytes.
absl::Status BankError(std::string_view message = "balance too low") {
  absl::Status s = absl::FailedPreconditionError(absl::string_view(message.data(), message.size()));
  s = WithDetail(std::move(s), Int(42));
  s = WithDetail(std::move(s), RetryAfter());
  s.SetPayload("urn:polis-test:raw", absl::Cord(std::string("raw \x00\xFF bytes", 12)));
  return s;
}

// Fails every call with BankError(); a StringValue "bytes" also makes the
// message not UTF-8 (it arrives with U+FFFD, the details intact).
// Call Int64Value n: a StringValue of n bytes.
class Grower : public GenServer {
 public:
  Grower() { OnCall(&Grower::Grow); }

 private:
  Task<absl::StatusOr<StringValue>> Grow(const Int64Value& n) {
    co_return Str(std::string(static_cast<size_t>(n.value()), 'x'));
  }
};

TEST_P(ClusterTest, AReplyOverTheServersSizeLimitIsAnErrorNotASilence) {
  NodeOptions big;
  big.name = "a";
  big.listen = testing::TestEndpoint(GetParam(), "a");
  big.max_message_bytes = 4096;
  absl::StatusOr<std::unique_ptr<Node>> a = testing::StartNode(std::move(big));
  ASSERT_THAT(a, IsOk());
  NodeOptions caller;
  caller.name = "b";
  caller.listen = testing::TestEndpoint(GetParam(), "b");
  caller.seeds = {(*a)->endpoint()};
  absl::StatusOr<std::unique_ptr<Node>> b = testing::StartJoinedNode(std::move(caller));
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT((*a)->Spawn(std::make_unique<Grower>(), {.name = "grower"}), IsOk());
  AwaitName(**b, "grower");
  EXPECT_THAT((*b)->Call<StringValue>("grower", Int(100)), IsOk());
  // Dropped, the reply would leave the caller waiting out its 60 s.
  EXPECT_THAT((*b)->Call<StringValue>("grower", Int(10000), absl::Seconds(60)),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("over the limit")));
  EXPECT_THAT((*b)->Call<StringValue>("grower", Int(100)), IsOk());  // Still serving.
}

class Bank : public GenServer {
 public:
  Bank() { AcceptCall<StringValue, Int64Value>(); }
  Task<absl::StatusOr<Reply>> HandleCall(const Message& m, const From&) override {
    if (m.As<StringValue>()->value() == "bytes") co_return Reply::Error(BankError("bad \xFF balance"));
    co_return Reply::Error(BankError());
  }
};

// Calls a Bank from its handler (co_await, suspending). On StringValue
// "check:<name>": replies Int64Value with the balance detail if the error it
// got is BankError() exactly (code, message, every detail), else fails the
// call with INTERNAL saying what it got. On "relay:<name>": replies with the
// error it got, as it is.
class Teller : public GenServer {
 public:
  Teller() { AcceptCall<StringValue, Int64Value>(); }
  Task<absl::StatusOr<Reply>> HandleCall(const Message& m, const From&) override {
    const std::string cmd = m.As<StringValue>()->value();
    const bool check = cmd.rfind("check:", 0) == 0;
    const std::string bank = cmd.substr(6);  // after "check:" or "relay:"
    absl::StatusOr<Int64Value> r = co_await Call<Int64Value>(bank, Str("withdraw"));
    if (r.ok()) co_return Reply::Error(absl::InternalError("the bank said yes"));
    if (!check) co_return Reply::Error(r.status());
    std::optional<Int64Value> balance = GetDetail<Int64Value>(r.status());
    if (r.status() != BankError() || !balance.has_value()) {
      co_return Reply::Error(absl::InternalError(absl::StrCat("got ", r.status().ToString())));
    }
    co_return *balance;
  }
};

// What every caller of a Bank must see.
void ExpectBankError(const absl::Status& got, std::string_view message = "balance too low") {
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kFailedPrecondition, std::string(message)));
  EXPECT_EQ(got, BankError(message)) << got;  // code, message, every payload
  std::optional<Int64Value> balance = GetDetail<Int64Value>(got);
  ASSERT_TRUE(balance.has_value()) << got;
  EXPECT_EQ(balance->value(), 42);
  std::optional<google::protobuf::Duration> retry = GetDetail<google::protobuf::Duration>(got);
  ASSERT_TRUE(retry.has_value()) << got;
  EXPECT_EQ(retry->seconds(), 3);
  EXPECT_EQ(retry->nanos(), 500);
}

TEST_P(ClusterTest, ErrorDetailsReachAPlainThreadCallerOnAnotherNode) {
  StartThree();
  ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<Bank>(), {.name = "bank"}), IsOk());
  AwaitName(*nodes_[1], "bank");
  for (int round = 0; round < 2; ++round) {  // the second with the route cached
    ExpectBankError(nodes_[1]->CallRaw("bank", Str("withdraw")).status());
  }
  // Typed calls see the same.
  ExpectBankError(nodes_[1]->Call<Int64Value>("bank", Str("withdraw")).status());
  // A message that is not UTF-8 is mended on the way; the details are kept.
  ExpectBankError(nodes_[1]->CallRaw("bank", Str("bytes")).status(), "bad \xEF\xBF\xBD balance");
  // And on the bank's own node (no wire): the status as the handler made it.
  ExpectBankError(nodes_[2]->CallRaw("bank", Str("withdraw")).status());
}

TEST_P(ClusterTest, ErrorDetailsReachACallerInsideAHandlerOnAnotherNode) {
  StartThree();
  ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<Bank>(), {.name = "bank"}), IsOk());
  ASSERT_THAT(nodes_[1]->Spawn(std::make_unique<Teller>(), {.name = "teller"}), IsOk());
  ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<Teller>(), {.name = "local-teller"}), IsOk());
  AwaitName(*nodes_[1], "bank");
  AwaitName(*nodes_[0], "teller");
  AwaitName(*nodes_[0], "local-teller");
  for (int round = 0; round < 2; ++round) {  // the second with the route cached
    SCOPED_TRACE(round);
    // a -> teller (b) -> bank (c): the teller's handler sees code, message
    // and details of the remote bank's error.
    absl::StatusOr<Int64Value> r = nodes_[0]->Call<Int64Value>("teller", Str("check:bank"));
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->value(), 42);
    // A handler calling the bank on its own node sees the same.
    r = nodes_[0]->Call<Int64Value>("local-teller", Str("check:bank"));
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->value(), 42);
    // And an error a handler passes on crosses a second hop intact.
    ExpectBankError(nodes_[0]->CallRaw("teller", Str("relay:bank")).status());
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, ClusterTest, ::testing::Values("inproc", "tcp", "ipc"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace polis
