// genserver/supervisor_test.cc — strategies, restart types, intensity and
// escalation, backoff, crashes in Init and Terminate, shutdown order, and
// the supervisor's call protocol. One in-process node; no sockets, no
// sleeps beyond polling observable state.
#include "genserver/supervisor.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "genserver/server_kinds.h"
#include "genserver/supervisor_builder.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/journal.h"
#include "tests/node_fixtures.h"
#include "tests/probe_server.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis {
namespace {

namespace sv = supervision;
using ::polis::testing::Ask;
using ::polis::testing::IsOk;
using ::polis::testing::IsOkAndHolds;
using ::polis::testing::Journal;
using ::polis::testing::LocalNodeTest;
using ::polis::testing::ProbeFactory;
using ::polis::testing::ProbeState;
using ::polis::testing::StatusIs;
using ::polis::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Records the ProcessDown of one process: "down:<code>:<message>".
class Watcher : public GenServer {
 public:
  Watcher(Pid target, std::shared_ptr<Journal> log) : target_(target), log_(std::move(log)) {
    AcceptInfo<wire::ProcessDown>();
  }
  Task<absl::Status> Init() override {
    Monitor(target_);
    co_return absl::OkStatus();
  }
  Task<absl::Status> HandleInfo(const Message& m) override {
    absl::StatusOr<wire::ProcessDown> d = m.As<wire::ProcessDown>();
    if (d.ok()) log_->Add(absl::StrCat("down:", d->status_code(), ":", d->status_message()));
    co_return absl::OkStatus();
  }

 private:
  Pid target_;
  std::shared_ptr<Journal> log_;
};

class SupervisorTest : public LocalNodeTest {
 protected:
  SupervisorTest() : LocalNodeTest("sup-test") {}

  std::shared_ptr<ProbeState> State(const std::string& id) {
    auto& s = states_[id];
    if (!s) s = std::make_shared<ProbeState>(log_);
    return s;
  }
  // Adds Probe children `ids`, each registered under its id.
  void AddProbes(SupervisorBuilder& b, const std::vector<std::string>& ids,
                 sv::Restart restart = sv::PERMANENT) {
    for (const std::string& id : ids) {
      b.Add(id, ProbeFactory(id, State(id)), {.name = id, .restart = restart});
    }
  }
  absl::StatusOr<Pid> SpawnTree(const SupervisorBuilder& b, const std::string& name = "sup") {
    absl::StatusOr<std::unique_ptr<Supervisor>> sup = b.Build();
    if (!sup.ok()) return sup.status();
    return node_->Spawn(*std::move(sup), {.name = name, .kind = "supervisor"});
  }
  absl::StatusOr<sv::SupervisorReply> Request(const sv::SupervisorRequest& r,
                                              const std::string& sup = "sup") {
    return node_->Call<sv::SupervisorReply>(sup, r);
  }
  // which_children as id -> ChildInfo.
  std::map<std::string, sv::ChildInfo> Children(const std::string& sup = "sup") {
    std::map<std::string, sv::ChildInfo> out;
    absl::StatusOr<sv::SupervisorReply> r = Request(WhichChildrenRequest(), sup);
    if (r.ok()) {
      for (const sv::ChildInfo& c : r->children().children()) out[c.id()] = c;
    }
    return out;
  }
  int Instance(const std::string& name) {
    absl::StatusOr<int64_t> r = Ask(*node_, name, "instance");
    return r.ok() ? static_cast<int>(*r) : -1;
  }
  // Waits until `name` is instance `n`, then until supervisor `sup` has
  // finished starting it (it answers calls only after it monitors the new
  // instance), so that an immediate crash is seen with its real reason.
  bool WaitInstance(const std::string& name, int n, const std::string& sup = "sup") {
    if (!WaitFor([&] { return Instance(name) == n; })) return false;
    (void)Request(CountChildrenRequest(), sup);
    return true;
  }
  void Crash(const std::string& name) {
    EXPECT_THAT(Ask(*node_, name, "crash"),
                StatusIs(absl::StatusCode::kInternal, HasSubstr("crash requested")));
  }

  std::shared_ptr<Journal> log_ = std::make_shared<Journal>();
  std::map<std::string, std::shared_ptr<ProbeState>> states_;
};

// --- Strategies ---

TEST_F(SupervisorTest, OneForOneRestartsOnlyTheFailedChild) {
  SupervisorBuilder b;
  AddProbes(b, {"a", "b", "c"});
  ASSERT_THAT(SpawnTree(b), IsOk());
  EXPECT_THAT(log_->With("init:"), ElementsAre("init:a", "init:b", "init:c"));

  Crash("b");
  ASSERT_TRUE(WaitInstance("b", 2));
  EXPECT_EQ(Instance("a"), 1);
  EXPECT_EQ(Instance("c"), 1);
  EXPECT_EQ(Children()["b"].restart_count(), 1);
  EXPECT_EQ(Children()["a"].restart_count(), 0);
}

TEST_F(SupervisorTest, OneForAllStopsTheOthersInReverseOrderAndRestartsAllInOrder) {
  SupervisorBuilder b;
  b.strategy(sv::ONE_FOR_ALL);
  AddProbes(b, {"a", "b", "c"});
  ASSERT_THAT(SpawnTree(b), IsOk());
  log_->Clear();

  Crash("b");
  ASSERT_TRUE(WaitInstance("a", 2));
  ASSERT_TRUE(WaitInstance("c", 2));
  EXPECT_EQ(Instance("b"), 2);
  EXPECT_THAT(log_->Events(), ElementsAre("terminate:b", "terminate:c", "terminate:a", "init:a",
                                          "init:b", "init:c"));
}

TEST_F(SupervisorTest, RestForOneRestartsTheFailedChildAndThoseAfterIt) {
  SupervisorBuilder b;
  b.strategy(sv::REST_FOR_ONE);
  AddProbes(b, {"a", "b", "c"});
  ASSERT_THAT(SpawnTree(b), IsOk());
  log_->Clear();

  Crash("b");
  ASSERT_TRUE(WaitInstance("c", 2));
  EXPECT_EQ(Instance("b"), 2);
  EXPECT_EQ(Instance("a"), 1);
  EXPECT_THAT(log_->Events(),
              ElementsAre("terminate:b", "terminate:c", "init:b", "init:c"));
}

// --- Restart types ---

TEST_F(SupervisorTest, PermanentChildIsRestartedAfterANormalStopToo) {
  SupervisorBuilder b;
  AddProbes(b, {"p"}, sv::PERMANENT);
  ASSERT_THAT(SpawnTree(b), IsOk());
  EXPECT_THAT(Ask(*node_, "p", "stop"), IsOk());
  EXPECT_TRUE(WaitInstance("p", 2));
}

TEST_F(SupervisorTest, TransientChildIsRestartedOnlyAfterAFailure) {
  SupervisorBuilder b;
  AddProbes(b, {"t"}, sv::TRANSIENT);
  ASSERT_THAT(SpawnTree(b), IsOk());

  Crash("t");
  ASSERT_TRUE(WaitInstance("t", 2));

  EXPECT_THAT(Ask(*node_, "t", "stop"), IsOk());
  ASSERT_TRUE(WaitFor([&] { return Children()["t"].status() == sv::STOPPED; }))
      << Children()["t"].DebugString() << State("t")->instances.load();
  EXPECT_THAT(Ask(*node_, "t", "get"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(State("t")->instances.load(), 2);
}

TEST_F(SupervisorTest, TemporaryChildIsNeverRestartedAndForgotten) {
  SupervisorBuilder b;
  AddProbes(b, {"keep"});
  AddProbes(b, {"tmp"}, sv::TEMPORARY);
  ASSERT_THAT(SpawnTree(b), IsOk());

  Crash("tmp");
  ASSERT_TRUE(WaitFor([&] { return Children().count("tmp") == 0; }));
  EXPECT_THAT(Ask(*node_, "tmp", "get"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(State("tmp")->instances.load(), 1);
  EXPECT_EQ(Instance("keep"), 1);
}

// --- Intensity and escalation ---

TEST_F(SupervisorTest, ExceedingIntensityStopsChildrenAndFailsTheSupervisor) {
  SupervisorBuilder b;
  b.intensity(2, absl::Seconds(30));
  AddProbes(b, {"a", "loop"});
  absl::StatusOr<Pid> sup = SpawnTree(b);
  ASSERT_THAT(sup, IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<Watcher>(*sup, log_)), IsOk());

  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(WaitInstance("loop", i));
    Crash("loop");
  }
  ASSERT_TRUE(log_->WaitForCount("down:", 1));
  const std::string down = log_->With("down:")[0];
  EXPECT_THAT(down, HasSubstr(absl::StrCat("down:", static_cast<int>(absl::StatusCode::kAborted))));
  EXPECT_THAT(down, HasSubstr("restart intensity exceeded"));
  EXPECT_THAT(down, HasSubstr("crash requested"));
  EXPECT_THAT(node_->WhereIs("sup"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(node_->WhereIs("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(node_->WhereIs("loop"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SupervisorTest, InnerSupervisorThatEscalatesIsRestartedByItsParent) {
  SupervisorBuilder inner;
  inner.intensity(1, absl::Seconds(30));
  AddProbes(inner, {"x"});
  SupervisorBuilder outer;
  AddProbes(outer, {"before"});
  outer.AddSupervisor("inner", inner, {.name = "inner"});
  ASSERT_THAT(SpawnTree(outer), IsOk());

  Crash("x");  // Restart 1 of 1: fine.
  ASSERT_TRUE(WaitInstance("x", 2, "inner"));
  Crash("x");  // One too many: inner fails, outer restarts it with a fresh x.
  ASSERT_TRUE(WaitInstance("x", 3, "inner"));
  ASSERT_TRUE(WaitFor([&] { return Children()["inner"].restart_count() == 1; }));
  EXPECT_EQ(Children()["inner"].status(), sv::RUNNING);
  EXPECT_TRUE(Children()["inner"].supervisor());
  EXPECT_EQ(Instance("before"), 1);
  // The restarted inner supervisor has a fresh intensity budget.
  EXPECT_EQ(Children("inner")["x"].restart_count(), 0);
}

TEST_F(SupervisorTest, EscalationPropagatesUpWhenTheParentIsExhaustedToo) {
  SupervisorBuilder inner;
  inner.intensity(0, absl::Seconds(30));
  AddProbes(inner, {"x"});
  SupervisorBuilder outer;
  outer.intensity(0, absl::Seconds(30));
  AddProbes(outer, {"before"});
  outer.AddSupervisor("inner", inner, {.name = "inner"});
  absl::StatusOr<Pid> root = SpawnTree(outer, "root");
  ASSERT_THAT(root, IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<Watcher>(*root, log_)), IsOk());

  Crash("x");
  ASSERT_TRUE(log_->WaitForCount("down:", 1));
  const std::string down = log_->With("down:")[0];
  EXPECT_THAT(down, HasSubstr("'root': restart intensity exceeded"));
  EXPECT_THAT(down, HasSubstr("child 'inner'"));
  for (const char* name : {"root", "inner", "x", "before"}) {
    EXPECT_THAT(node_->WhereIs(name), StatusIs(absl::StatusCode::kNotFound)) << name;
  }
}

// --- Backoff and callers during a restart ---

TEST_F(SupervisorTest, ConstantBackoffDelaysTheRestart) {
  SupervisorBuilder b;
  b.backoff(ConstantBackoff(absl::Milliseconds(200)));
  AddProbes(b, {"slow"});
  ASSERT_THAT(SpawnTree(b), IsOk());

  Crash("slow");
  ASSERT_TRUE(WaitInstance("slow", 2));
  const std::vector<absl::Time> inits = State("slow")->Inits();
  ASSERT_EQ(inits.size(), 2u);
  EXPECT_GE(inits[1] - State("slow")->LastTerminate(), absl::Milliseconds(200));
}

TEST_F(SupervisorTest, CallsDuringTheRestartGapGetNotFoundThenTheFreshInstance) {
  SupervisorBuilder b;
  b.backoff(ConstantBackoff(absl::Milliseconds(300)));
  AddProbes(b, {"svc"});
  ASSERT_THAT(SpawnTree(b), IsOk());
  ASSERT_THAT(Ask(*node_, "svc", "incr"), IsOkAndHolds(1));
  ASSERT_THAT(Ask(*node_, "svc", "incr"), IsOkAndHolds(2));

  Crash("svc");
  bool saw_not_found = false;
  bool saw_restarting = false;
  absl::StatusOr<int64_t> r;
  ASSERT_TRUE(WaitFor([&] {
    r = Ask(*node_, "svc", "get", absl::Seconds(2));
    EXPECT_NE(r.status().code(), absl::StatusCode::kDeadlineExceeded) << "a caller hung";
    if (r.status().code() == absl::StatusCode::kNotFound) {
      saw_not_found = true;
      saw_restarting = saw_restarting || Children()["svc"].status() == sv::RESTARTING;
    }
    return r.ok();
  }));
  EXPECT_TRUE(saw_not_found);
  EXPECT_TRUE(saw_restarting);
  EXPECT_THAT(r, IsOkAndHolds(0));  // Fresh state from Init.
  EXPECT_EQ(Instance("svc"), 2);
}

// --- Crashes in Init and Terminate ---

TEST_F(SupervisorTest, ChildInitFailingAtStartFailsTheSupervisorAndStopsStartedOnes) {
  State("bad")->init_failures = 1;
  SupervisorBuilder b;
  AddProbes(b, {"a", "bad", "c"});
  EXPECT_THAT(SpawnTree(b), StatusIs(absl::StatusCode::kInternal,
                                     HasSubstr("child 'bad': init failure requested")));
  EXPECT_THAT(log_->Events(), ElementsAre("init:a", "init:bad", "terminate:bad", "terminate:a"));
  EXPECT_THAT(node_->WhereIs("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(node_->WhereIs("sup"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SupervisorTest, ChildInitFailingOnRestartIsRetriedWithinIntensity) {
  SupervisorBuilder b;
  b.intensity(5, absl::Seconds(30));
  AddProbes(b, {"flaky"});
  ASSERT_THAT(SpawnTree(b), IsOk());
  State("flaky")->init_failures = 2;

  Crash("flaky");
  // Start 2 and 3 fail in Init; start 4 serves.
  ASSERT_TRUE(WaitInstance("flaky", 4));
  EXPECT_EQ(Children()["flaky"].restart_count(), 3);
}

TEST_F(SupervisorTest, ChildInitFailingForeverExhaustsIntensity) {
  SupervisorBuilder b;
  b.intensity(3, absl::Seconds(30));
  AddProbes(b, {"doomed"});
  absl::StatusOr<Pid> sup = SpawnTree(b);
  ASSERT_THAT(sup, IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<Watcher>(*sup, log_)), IsOk());
  State("doomed")->init_failures = 1000;

  Crash("doomed");
  ASSERT_TRUE(log_->WaitForCount("down:", 1));
  EXPECT_THAT(log_->With("down:")[0], HasSubstr("init failure requested"));
  EXPECT_EQ(State("doomed")->instances.load(), 4);  // First start + 3 restarts.
}

TEST_F(SupervisorTest, ChildThrowingInTerminateIsStillRestartedAndStopped) {
  SupervisorBuilder b;
  AddProbes(b, {"a", "thrower"});
  ASSERT_THAT(SpawnTree(b), IsOk());
  State("thrower")->throw_in_terminate = true;

  Crash("thrower");
  ASSERT_TRUE(WaitInstance("thrower", 2));
  log_->Clear();
  EXPECT_THAT(Supervisor::ShutdownTree(*node_, "sup"), IsOk());
  EXPECT_THAT(log_->Events(), ElementsAre("terminate:thrower", "terminate:a"));
}

// --- Shutdown ---

TEST_F(SupervisorTest, ShutdownStopsChildrenInReverseStartOrderLeavesFirst) {
  SupervisorBuilder inner;
  AddProbes(inner, {"x", "y"});
  SupervisorBuilder b;
  AddProbes(b, {"a"});
  b.AddSupervisor("inner", inner, {.name = "inner"});
  AddProbes(b, {"c"});
  ASSERT_THAT(SpawnTree(b), IsOk());
  EXPECT_THAT(log_->Events(), ElementsAre("init:a", "init:x", "init:y", "init:c"));
  log_->Clear();

  EXPECT_THAT(Supervisor::ShutdownTree(*node_, "sup"), IsOk());
  EXPECT_THAT(log_->Events(),
              ElementsAre("terminate:c", "terminate:y", "terminate:x", "terminate:a"));
  for (const char* name : {"sup", "inner", "a", "x", "y", "c"}) {
    EXPECT_THAT(node_->WhereIs(name), StatusIs(absl::StatusCode::kNotFound)) << name;
  }
}

TEST_F(SupervisorTest, StoppingTheSupervisorDirectlyStillStopsItsChildrenInReverseOrder) {
  SupervisorBuilder b;
  AddProbes(b, {"a", "b"});
  ASSERT_THAT(SpawnTree(b), IsOk());
  log_->Clear();

  ASSERT_THAT(node_->Stop("sup"), IsOk());
  ASSERT_TRUE(log_->WaitForCount("terminate:", 2));
  EXPECT_THAT(log_->Events(), ElementsAre("terminate:b", "terminate:a"));
  EXPECT_TRUE(WaitFor([&] { return !node_->WhereIs("a").ok() && !node_->WhereIs("b").ok(); }));
}

// --- Call protocol ---

TEST_F(SupervisorTest, WhichChildrenAndCountChildrenDescribeTheTree) {
  SupervisorBuilder inner;
  AddProbes(inner, {"x"});
  SupervisorBuilder b;
  AddProbes(b, {"a", "b"});
  b.AddSupervisor("inner", inner);
  ASSERT_THAT(SpawnTree(b), IsOk());

  absl::StatusOr<sv::SupervisorReply> which = Request(WhichChildrenRequest());
  ASSERT_THAT(which, IsOk());
  ASSERT_EQ(which->children().children_size(), 3);
  const sv::ChildInfo& a = which->children().children(0);
  EXPECT_EQ(a.id(), "a");
  EXPECT_EQ(a.name(), "a");
  EXPECT_EQ(a.status(), sv::RUNNING);
  EXPECT_EQ(a.pid(), node_->WhereIs("a")->ToString());
  EXPECT_EQ(a.kind(), "probe");
  EXPECT_FALSE(a.supervisor());
  EXPECT_TRUE(which->children().children(2).supervisor());

  absl::StatusOr<sv::SupervisorReply> counts = Request(CountChildrenRequest());
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->counts().specs(), 3);
  EXPECT_EQ(counts->counts().active(), 3);
  EXPECT_EQ(counts->counts().supervisors(), 1);
  EXPECT_EQ(counts->counts().workers(), 2);
  EXPECT_EQ(counts->counts().restarting(), 0);
}

TEST_F(SupervisorTest, TerminateChildAndRestartChildAnswerTheCaller) {
  SupervisorBuilder b;
  AddProbes(b, {"a", "b"});
  ASSERT_THAT(SpawnTree(b), IsOk());

  absl::StatusOr<sv::SupervisorReply> t = Request(TerminateChildRequest("b"));
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->child().status(), sv::STOPPED);
  EXPECT_THAT(log_->With("terminate:"), ElementsAre("terminate:b"));
  EXPECT_THAT(Ask(*node_, "b", "get"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(Children()["b"].status(), sv::STOPPED);  // Kept, not restarted.

  absl::StatusOr<sv::SupervisorReply> r = Request(RestartChildRequest("b"));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->child().status(), sv::RUNNING);
  EXPECT_EQ(Instance("b"), 2);

  // restart_child of a running child replaces it with a fresh instance.
  ASSERT_THAT(Ask(*node_, "a", "incr"), IsOkAndHolds(1));
  ASSERT_THAT(Request(RestartChildRequest("a")), IsOk());
  EXPECT_THAT(Ask(*node_, "a", "get"), IsOkAndHolds(0));

  EXPECT_THAT(Request(TerminateChildRequest("nope")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Request(RestartChildRequest("nope")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Request(sv::SupervisorRequest()), StatusIs(absl::StatusCode::kInvalidArgument));
}

std::shared_ptr<ProbeState>& KindState() {
  static auto* s = new std::shared_ptr<ProbeState>(
      std::make_shared<ProbeState>(std::make_shared<Journal>()));
  return *s;
}

POLIS_REGISTER_SERVER_KIND("supervisor_test_probe", [](const google::protobuf::Struct& args)
                               -> absl::StatusOr<std::unique_ptr<Behaviour>> {
  auto it = args.fields().find("id");
  if (it == args.fields().end()) return absl::InvalidArgumentError("args need an id");
  return std::make_unique<testing::Probe>(it->second.string_value(), KindState());
});

sv::ChildSpec ProbeSpec(const std::string& id, const std::string& name) {
  sv::ChildSpec spec;
  spec.set_id(id);
  spec.set_name(name);
  spec.set_kind("supervisor_test_probe");
  (*spec.mutable_args()->mutable_fields())["id"].set_string_value(id);
  return spec;
}

TEST_F(SupervisorTest, StartChildAddsAChildAndRefusesDuplicates) {
  SupervisorBuilder b;
  AddProbes(b, {"a"});
  ASSERT_THAT(SpawnTree(b), IsOk());

  absl::StatusOr<sv::SupervisorReply> r = Request(StartChildRequest(ProbeSpec("d", "d")));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->child().id(), "d");
  EXPECT_EQ(r->child().status(), sv::RUNNING);
  EXPECT_THAT(Ask(*node_, "d", "get"), IsOkAndHolds(0));
  const int before = KindState()->instances.load();
  Crash("d");  // Started children are supervised like the others.
  EXPECT_TRUE(WaitInstance("d", before + 1));

  EXPECT_THAT(Request(StartChildRequest(ProbeSpec("d", "other"))),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(Request(StartChildRequest(ProbeSpec("e", "a"))),
              StatusIs(absl::StatusCode::kAlreadyExists));
  sv::ChildSpec unknown = ProbeSpec("f", "f");
  unknown.set_kind("no_such_kind");
  EXPECT_THAT(Request(StartChildRequest(unknown)), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(Children().count("f"), 0u);
  sv::ChildSpec no_id = ProbeSpec("", "g");
  EXPECT_THAT(Request(StartChildRequest(no_id)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SupervisorTest, TreeFromAConfigSpecStartsKindsAndNestedSupervisors) {
  sv::SupervisorSpec spec;
  const std::string json = R"({
    "strategy": "ONE_FOR_ALL",
    "intensity": 2,
    "period_ms": 10000,
    "backoff": {"constant": {"delay_ms": 10}},
    "children": [
      {"id": "k1", "kind": "supervisor_test_probe", "name": "k1", "args": {"id": "k1"}},
      {"id": "sub", "name": "sub", "supervisor": {"children": [
        {"id": "k2", "kind": "supervisor_test_probe", "name": "k2", "args": {"id": "k2"},
         "restart": "TRANSIENT", "shutdown_timeout_ms": 1000}]}}
    ]})";
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &spec).ok());
  absl::StatusOr<std::unique_ptr<Supervisor>> sup = Supervisor::Create(spec);
  ASSERT_THAT(sup, IsOk());
  ASSERT_THAT(node_->Spawn(*std::move(sup), {.name = "sup"}), IsOk());
  EXPECT_THAT(Ask(*node_, "k1", "get"), IsOk());
  EXPECT_THAT(Ask(*node_, "k2", "get"), IsOk());
  EXPECT_EQ(Children()["sub"].kind(), "supervisor");
}

TEST(SupervisorSpecTest, BadSpecsAreRefusedBeforeStarting) {
  sv::SupervisorSpec spec;
  *spec.add_children() = ProbeSpec("a", "a");
  *spec.add_children() = ProbeSpec("a", "b");
  EXPECT_THAT(Supervisor::Create(spec), StatusIs(absl::StatusCode::kAlreadyExists));
  spec.mutable_children(1)->set_id("b");
  spec.mutable_children(1)->set_name("a");
  EXPECT_THAT(Supervisor::Create(spec), StatusIs(absl::StatusCode::kAlreadyExists));
  spec.mutable_children(1)->set_name("b");
  EXPECT_THAT(Supervisor::Create(spec), IsOk());
  spec.mutable_children(1)->clear_kind();
  EXPECT_THAT(Supervisor::Create(spec), StatusIs(absl::StatusCode::kInvalidArgument));
  spec.mutable_children(1)->set_kind("x");
  spec.set_intensity(-1);
  EXPECT_THAT(Supervisor::Create(spec), StatusIs(absl::StatusCode::kInvalidArgument));
  spec.clear_intensity();
  *spec.mutable_backoff() = ConstantBackoff(absl::Milliseconds(-5));
  EXPECT_THAT(Supervisor::Create(spec), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SupervisorProtocolTest, RequestsParseFromTheJsonUsersType) {
  sv::SupervisorRequest r;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(R"({"which_children": {}})", &r).ok());
  EXPECT_EQ(r.op_case(), sv::SupervisorRequest::kWhichChildren);
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(R"({"restart_child": "db"})", &r).ok());
  EXPECT_EQ(r.restart_child(), "db");
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  R"({"start_child": {"id": "w", "kind": "counter", "restart": "TEMPORARY"}})", &r)
                  .ok());
  EXPECT_EQ(r.start_child().restart(), sv::TEMPORARY);
}

}  // namespace
}  // namespace polis
