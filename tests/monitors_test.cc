// Monitors across nodes (ProcessContext::Monitor / MonitorNode), what a
// server does when it loses its name, and a supervisor whose child's name
// is held on another node. In-process clusters over inproc, tcp and ipc;
// the node-killed cases over inproc (InProcTransport::Kill).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bus/inproc_transport.h"
#include "genserver/genserver.h"
#include "genserver/supervisor.h"
#include "genserver/supervisor_builder.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/journal.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"
#include "tests/test_values.h"
#include "tests/wait.h"

namespace polis {
namespace {

using ::google::protobuf::Int64Value;
using ::google::protobuf::StringValue;
using ::polis::testing::Int;
using ::polis::testing::IsOk;
using ::polis::testing::Journal;
using ::polis::testing::Str;
using ::polis::testing::TestNodes;
using ::polis::testing::WaitFor;

// Places and cancels monitors on command (call StringValue → Int64Value):
//   "monitor:NAME"  "pid:NODE:ID"  "node:NODE"  "demonitor:REF"
//   "stop-demonitor:NAME" (a local server: monitors it, stops it — its DOWN
//   is then in this server's mailbox — demonitors, and sends itself the
//   info "after")
// and writes every DOWN to the journal as "down:REF:CODE" (plus
// "downmsg:REF:MESSAGE") or "nodedown:REF:CODE"; a StringValue info is
// written as "info:VALUE".
class Watcher : public GenServer {
 public:
  explicit Watcher(Journal* j) : j_(j) {
    OnCall(&Watcher::Command);
    OnInfo(&Watcher::Down);
    OnInfo(&Watcher::NodeIsDown);
    OnInfo(&Watcher::Note);
  }

 private:
  Task<absl::StatusOr<Int64Value>> Command(const StringValue& req) {
    std::vector<std::string> parts = absl::StrSplit(req.value(), ':');
    uint64_t n = 0;
    if (parts[0] == "monitor") co_return Int(static_cast<int64_t>(Monitor(parts[1])));
    if (parts[0] == "node") co_return Int(static_cast<int64_t>(MonitorNode(parts[1])));
    if (parts[0] == "pid" && absl::SimpleAtoi(parts[2], &n)) {
      co_return Int(static_cast<int64_t>(Monitor(Pid{parts[1], n})));
    }
    // Refs are 64 random bits, carried as Int64Value: parsed as signed.
    if (int64_t r = 0; parts[0] == "demonitor" && absl::SimpleAtoi(parts[1], &r)) {
      Demonitor(static_cast<uint64_t>(r));
      co_return Int(0);
    }
    if (parts[0] == "stop-demonitor") {
      absl::StatusOr<Pid> pid = node().WhereIs(parts[1]);
      if (!pid.ok()) co_return pid.status();
      const uint64_t ref = Monitor(*pid);
      StopAwaiter stopping = context().StopProcess(*pid);
      absl::Status stopped = co_await stopping;
      if (!stopped.ok()) co_return stopped;
      Demonitor(ref);
      absl::Status s = Send(self(), Str("after"));
      if (!s.ok()) co_return s;
      co_return Int(static_cast<int64_t>(ref));
    }
    co_return absl::InvalidArgumentError(req.value());
  }
  Task<absl::Status> Down(const wire::ProcessDown& d) {
    j_->Add(absl::StrCat("downmsg:", static_cast<int64_t>(d.monitor_ref()), ":", d.status_message()));
    j_->Add(absl::StrCat("down:", static_cast<int64_t>(d.monitor_ref()), ":",
                         absl::StatusCodeToString(static_cast<absl::StatusCode>(d.status_code()))));
    co_return absl::OkStatus();
  }
  Task<absl::Status> NodeIsDown(const wire::NodeDown& d) {
    j_->Add(absl::StrCat("nodedown:", static_cast<int64_t>(d.monitor_ref()), ":",
                         absl::StatusCodeToString(static_cast<absl::StatusCode>(d.status_code()))));
    co_return absl::OkStatus();
  }
  Task<absl::Status> Note(const StringValue& v) {
    j_->Add(absl::StrCat("info:", v.value()));
    co_return absl::OkStatus();
  }

  Journal* j_;
};

// A server to watch (call StringValue → Int64Value): "stop", "fail" (stops
// with INTERNAL "boom"), "watchers" (how many monitors are on it),
// "send:TARGET:VALUE" (a StringValue info from this server). Its
// Terminate writes "terminate:NAME:CODE[:MESSAGE]".
class Watched : public GenServer {
 public:
  explicit Watched(Journal* j) : j_(j) { OnCall(&Watched::Command); }

 private:
  Task<absl::StatusOr<Int64Value>> Command(const StringValue& req) {
    std::vector<std::string> parts = absl::StrSplit(req.value(), ':');
    if (parts[0] == "stop") Stop();
    if (parts[0] == "fail") Stop(absl::InternalError("boom"));
    if (parts[0] == "watchers") co_return Int(static_cast<int64_t>(context().MonitoredByCount()));
    if (parts[0] == "send") {
      absl::Status s = Send(parts[1], Str(parts[2]));
      if (!s.ok()) co_return s;
    }
    co_return Int(0);
  }
  void Terminate(const absl::Status& reason) override {
    j_->Add(absl::StrCat("terminate:", registered_name(), ":",
                         absl::StatusCodeToString(reason.code()),
                         reason.ok() ? "" : absl::StrCat(":", reason.message())));
  }

  Journal* j_;
};

int64_t Ask(Node& node, const Target& target, const std::string& command) {
  absl::StatusOr<Int64Value> r = node.Call<Int64Value>(target, Str(command));
  EXPECT_THAT(r, IsOk()) << command;
  return r.ok() ? r->value() : -1;
}

std::string Down(int64_t ref, absl::string_view code) { return absl::StrCat("down:", ref, ":", code); }

class MonitorsTest : public ::testing::TestWithParam<std::string> {
 protected:
  // a hosts the watcher "w", c the watched "t"; b is a bystander.
  void SetUp() override {
    ASSERT_THAT(nodes_.StartMesh({"a", "b", "c"}), IsOk());
    ASSERT_THAT(nodes_[0]->Spawn(std::make_unique<Watcher>(&j_), {.name = "w"}), IsOk());
    ASSERT_THAT(nodes_[2]->Spawn(std::make_unique<Watched>(&j_), {.name = "t"}), IsOk());
    ASSERT_THAT(testing::AwaitName(*nodes_[0], "t"), IsOk());
    ASSERT_THAT(testing::AwaitName(*nodes_[2], "w"), IsOk());
  }
  Node& a() { return *nodes_[0]; }
  Node& c() { return *nodes_[2]; }
  // Waits until "t" counts `n` monitors on it (a MonitorRequest travels).
  bool WatchersOfTAre(int64_t n) {
    return WaitFor([&] { return Ask(c(), "t", "watchers") == n; });
  }

  Journal j_;  // Outlives the nodes.
  TestNodes nodes_{GetParam()};
};

TEST_P(MonitorsTest, ARemoteServerThatStopsNormallyIsDownWithOk) {
  const int64_t ref = Ask(a(), "w", "monitor:t");
  ASSERT_TRUE(WatchersOfTAre(1));
  Ask(c(), "t", "stop");
  EXPECT_TRUE(j_.WaitFor(Down(ref, "OK")));
}

TEST_P(MonitorsTest, ARemotePidThatFailsIsDownWithItsErrorCodeAndMessage) {
  absl::StatusOr<Pid> t = a().WhereIs("t");
  ASSERT_THAT(t, IsOk());
  const int64_t ref = Ask(a(), "w", absl::StrCat("pid:", t->node, ":", t->id));
  ASSERT_TRUE(WatchersOfTAre(1));
  Ask(c(), "t", "fail");
  EXPECT_TRUE(j_.WaitFor(Down(ref, "INTERNAL")));
  EXPECT_TRUE(j_.Has(absl::StrCat("downmsg:", ref, ":boom")));
}

TEST_P(MonitorsTest, WhatDoesNotExistIsNotFoundAtOnce) {
  // An unknown name, a pid on a node that is not a member, and a pid that
  // is not alive on a member (answered by that member).
  const int64_t by_name = Ask(a(), "w", "monitor:nobody");
  EXPECT_TRUE(j_.WaitFor(Down(by_name, "NOT_FOUND")));
  const int64_t no_node = Ask(a(), "w", "pid:nowhere:5");
  EXPECT_TRUE(j_.WaitFor(Down(no_node, "NOT_FOUND")));
  const int64_t dead = Ask(a(), "w", "pid:c:999999");
  EXPECT_TRUE(j_.WaitFor(Down(dead, "NOT_FOUND")));
  const int64_t node = Ask(a(), "w", "node:nowhere");
  EXPECT_TRUE(j_.WaitFor(absl::StrCat("nodedown:", node, ":NOT_FOUND")));
}

TEST_P(MonitorsTest, AServerStoppedByItsNodesShutdownIsDownWithThatReason) {
  const int64_t ref = Ask(a(), "w", "monitor:t");
  const int64_t node = Ask(a(), "w", "node:c");
  ASSERT_TRUE(WatchersOfTAre(1));
  c().Shutdown();
  // The server ended before its node left: its own reason comes first.
  EXPECT_TRUE(j_.WaitFor(Down(ref, "CANCELLED")));
  EXPECT_TRUE(j_.WaitFor(absl::StrCat("nodedown:", node, ":UNAVAILABLE")));
}

TEST_P(MonitorsTest, AfterDemonitorNoDownArrivesEvenOneAlreadyInFlight) {
  const int64_t ref = Ask(a(), "w", "monitor:t");
  ASSERT_TRUE(WatchersOfTAre(1));
  // Stop t before the DemonitorRequest can be sure to have arrived: a DOWN
  // may be sent, and must be dropped at delivery.
  Ask(a(), "w", absl::StrCat("demonitor:", ref));
  ASSERT_THAT(c().Spawn(std::make_unique<Watched>(&j_), {.name = "relay"}), IsOk());
  Ask(c(), "t", "stop");
  ASSERT_TRUE(j_.WaitFor("terminate:t:OK"));
  // A message from c's server "relay" to "w", sent after t's DOWN would
  // have been, leaves on the same connection behind it.
  Ask(c(), "relay", "send:w:after");
  ASSERT_TRUE(j_.WaitFor("info:after"));
  EXPECT_TRUE(j_.With("down:").empty()) << j_.With("down:")[0];
}

TEST_P(MonitorsTest, ADownAlreadyInTheMailboxIsDroppedAfterDemonitor) {
  ASSERT_THAT(a().Spawn(std::make_unique<Watched>(&j_), {.name = "local"}), IsOk());
  Ask(a(), "w", "stop-demonitor:local");
  ASSERT_TRUE(j_.WaitFor("info:after"));
  EXPECT_TRUE(j_.Has("terminate:local:OK"));
  EXPECT_TRUE(j_.With("down:").empty()) << j_.With("down:")[0];
}

TEST_P(MonitorsTest, MonitorsFromANodeThatGoesDownAreRemovedFromItsTargets) {
  Ask(a(), "w", "monitor:t");
  Ask(a(), "w", "monitor:t");
  ASSERT_TRUE(WatchersOfTAre(2));
  // A demonitor removes one on the target's node too.
  const int64_t ref = Ask(a(), "w", "monitor:t");
  ASSERT_TRUE(WatchersOfTAre(3));
  Ask(a(), "w", absl::StrCat("demonitor:", ref));
  ASSERT_TRUE(WatchersOfTAre(2));
  a().Shutdown();
  EXPECT_TRUE(WatchersOfTAre(0));
}

TEST_P(MonitorsTest, AWatchersEndRemovesItsRemoteMonitors) {
  Ask(a(), "w", "monitor:t");
  ASSERT_TRUE(WatchersOfTAre(1));
  ASSERT_THAT(a().Stop("w"), IsOk());
  EXPECT_TRUE(WatchersOfTAre(0));
}

// A supervisor on each of two nodes with the same child "svc": the second
// finds the name held and keeps its child on standby; when the first node
// goes, the second starts it, and a third node reaches it by name.
TEST_P(MonitorsTest, ASupervisorWhoseChildsNameIsHeldElsewhereStartsItWhenTheHolderGoes) {
  Node& b = *nodes_[1];
  auto tree = [this] {
    SupervisorBuilder t;
    t.intensity(1, absl::Seconds(5))
        .Add("svc", [this] { return std::make_unique<Watched>(&j_); }, {.name = "svc"});
    return t.Build();
  };
  auto first = tree();
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(c().Spawn(*std::move(first), {.name = "sup-c"}), IsOk());
  ASSERT_THAT(testing::AwaitName(b, "svc"), IsOk());
  auto second = tree();
  ASSERT_THAT(second, IsOk());
  ASSERT_THAT(b.Spawn(*std::move(second), {.name = "sup-b"}), IsOk());
  absl::StatusOr<supervision::SupervisorReply> children =
      b.Call<supervision::SupervisorReply>("sup-b", WhichChildrenRequest());
  ASSERT_THAT(children, IsOk());
  ASSERT_EQ(children->children().children_size(), 1);
  EXPECT_EQ(children->children().children(0).status(), supervision::STANDBY);
  EXPECT_EQ(children->children().children(0).held_by(), c().WhereIs("svc")->ToString());

  c().Shutdown();
  EXPECT_TRUE(WaitFor([&] {
    absl::StatusOr<Pid> svc = a().WhereIs("svc");
    return svc.ok() && svc->node == "b";
  }));
  EXPECT_EQ(Ask(a(), "svc", "watchers"), 1);  // sup-b's monitor.
  children = b.Call<supervision::SupervisorReply>("sup-b", WhichChildrenRequest());
  ASSERT_THAT(children, IsOk());
  EXPECT_EQ(children->children().children(0).status(), supervision::RUNNING);
}

INSTANTIATE_TEST_SUITE_P(Transports, MonitorsTest, ::testing::Values("inproc", "tcp", "ipc"),
                         [](const auto& info) { return info.param; });

// --- A node that dies (its transport killed, as if its process died) ---

class KilledNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(nodes_.StartMesh({"a"}), IsOk());
    auto t = bus::InProcTransport::Create({});
    ASSERT_THAT(t, IsOk());
    victim_transport_ = t->get();
    NodeOptions o;
    o.name = "v";
    o.listen = nodes_.Endpoint("v");
    o.seeds = {nodes_[0]->endpoint()};
    o.transport = *std::move(t);
    auto v = testing::StartJoinedNode(std::move(o));
    ASSERT_THAT(v, IsOk());
    victim_ = *std::move(v);
    ASSERT_THAT(nodes_[0]->Spawn(std::make_unique<Watcher>(&j_), {.name = "w"}), IsOk());
    ASSERT_THAT(victim_->Spawn(std::make_unique<Watched>(&j_), {.name = "t"}), IsOk());
    ASSERT_THAT(testing::AwaitName(*nodes_[0], "t"), IsOk());
  }
  void TearDown() override {
    if (victim_) victim_->Shutdown();
  }

  Journal j_;
  TestNodes nodes_{"inproc"};
  bus::InProcTransport* victim_transport_ = nullptr;  // Owned by victim_.
  std::unique_ptr<Node> victim_;
};

TEST_F(KilledNodeTest, MonitorsOnAKilledNodeFireWithUnavailable) {
  Node& a = *nodes_[0];
  const int64_t ref = Ask(a, "w", "monitor:t");
  const int64_t node = Ask(a, "w", "node:v");
  ASSERT_TRUE(WaitFor([&] { return Ask(*victim_, "t", "watchers") == 1; }));
  victim_transport_->Kill();
  EXPECT_TRUE(j_.WaitFor(Down(ref, "UNAVAILABLE")));
  EXPECT_TRUE(j_.WaitFor(absl::StrCat("nodedown:", node, ":UNAVAILABLE")));
  // Once down, the node is not a member: a new monitor is NOT_FOUND at once.
  const int64_t later = Ask(a, "w", "monitor:t");
  EXPECT_TRUE(j_.WaitFor(Down(later, "NOT_FOUND")));
}

// --- Losing a name ---

TEST(NameLostTest, AServerWhoseNameAnOlderClaimWinsStopsWithAborted) {
  Journal j;
  TestNodes nodes("inproc");
  ASSERT_THAT(nodes.StartMesh({"a"}), IsOk());
  Node& a = *nodes[0];
  ASSERT_THAT(a.Spawn(std::make_unique<Watched>(&j), {.name = "dup"}), IsOk());
  absl::StatusOr<Pid> winner = a.WhereIs("dup");
  ASSERT_THAT(winner, IsOk());
  // b registers "dup" later, while it cannot reach a; the two views merge
  // when the partition heals, and a's older claim wins.
  auto t = bus::InProcTransport::Create({});
  ASSERT_THAT(t, IsOk());
  bus::InProcTransport* b_transport = t->get();
  b_transport->SetPartitioned(true);
  NodeOptions o;
  o.name = "b";
  o.listen = nodes.Endpoint("b");
  o.seeds = {a.endpoint()};
  o.transport = *std::move(t);
  auto b = testing::StartNode(std::move(o));
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT((*b)->Spawn(std::make_unique<Watched>(&j), {.name = "dup"}), IsOk());
  b_transport->SetPartitioned(false);
  EXPECT_TRUE(j.WaitFor(
      absl::StrCat("terminate:dup:ABORTED:name dup lost to ", winner->ToString())));
  EXPECT_FALSE(j.Has("terminate:dup:OK"));
  (*b)->Shutdown();
}

}  // namespace
}  // namespace polis
