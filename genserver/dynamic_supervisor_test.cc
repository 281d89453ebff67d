// genserver/dynamic_supervisor_test.cc — children started at run time,
// the child template, and the max_children limit.
#include "genserver/dynamic_supervisor.h"

#include <memory>
#include <string>

#include "genserver/server_kinds.h"
#include "gmock/gmock.h"
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
using ::polis::testing::ProbeState;
using ::polis::testing::StatusIs;
using ::polis::testing::WaitFor;

std::shared_ptr<ProbeState>& KindState() {
  static auto* s = new std::shared_ptr<ProbeState>(
      std::make_shared<ProbeState>(std::make_shared<Journal>()));
  return *s;
}

POLIS_REGISTER_SERVER_KIND("dynamic_supervisor_test_probe",
                           [](const google::protobuf::Struct& args)
                               -> absl::StatusOr<std::unique_ptr<Behaviour>> {
  return std::make_unique<testing::Probe>("dyn", KindState());
});

class DynamicSupervisorTest : public LocalNodeTest {
 protected:
  DynamicSupervisorTest() : LocalNodeTest("dyn-test") {}

  void SpawnSessions(int max_children, sv::Restart restart = sv::PERMANENT) {
    sv::DynamicSupervisorSpec spec;
    spec.set_max_children(max_children);
    spec.mutable_child_template()->set_kind("dynamic_supervisor_test_probe");
    spec.mutable_child_template()->set_restart(restart);
    absl::StatusOr<std::unique_ptr<Supervisor>> sup = DynamicSupervisor::Create(spec);
    ASSERT_THAT(sup, IsOk());
    ASSERT_THAT(node_->Spawn(*std::move(sup), {.name = "sessions"}), IsOk());
  }
  absl::StatusOr<sv::SupervisorReply> Request(const sv::SupervisorRequest& r) {
    return node_->Call<sv::SupervisorReply>("sessions", r);
  }
  absl::StatusOr<sv::ChildInfo> Start(const std::string& name) {
    sv::ChildSpec spec;
    spec.set_name(name);
    absl::StatusOr<sv::SupervisorReply> r = Request(StartChildRequest(spec));
    if (!r.ok()) return r.status();
    return r->child();
  }
  int Count() {
    absl::StatusOr<sv::SupervisorReply> r = Request(CountChildrenRequest());
    return r.ok() ? r->counts().specs() : -1;
  }
};

TEST_F(DynamicSupervisorTest, StartsEmptyAndStartsChildrenFromTheTemplate) {
  SpawnSessions(0);
  EXPECT_EQ(Count(), 0);
  absl::StatusOr<sv::ChildInfo> s1 = Start("s1");
  ASSERT_THAT(s1, IsOk());
  EXPECT_EQ(s1->id(), "child-1");
  EXPECT_EQ(s1->status(), sv::RUNNING);
  EXPECT_EQ(s1->kind(), "dynamic_supervisor_test_probe");
  EXPECT_EQ(s1->pid(), node_->WhereIs("s1")->ToString());
  absl::StatusOr<sv::ChildInfo> s2 = Start("s2");
  ASSERT_THAT(s2, IsOk());
  EXPECT_EQ(s2->id(), "child-2");
  EXPECT_THAT(Ask(*node_, "s2", "incr"), IsOkAndHolds(1));
  EXPECT_EQ(Count(), 2);
  EXPECT_THAT(Start("s1"), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(DynamicSupervisorTest, RefusesChildrenBeyondMaxChildren) {
  SpawnSessions(2);
  ASSERT_THAT(Start("s1"), IsOk());
  ASSERT_THAT(Start("s2"), IsOk());
  EXPECT_THAT(Start("s3"), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(node_->WhereIs("s3"), StatusIs(absl::StatusCode::kNotFound));

  // Terminating a child forgets it and frees a place.
  absl::StatusOr<sv::SupervisorReply> t = Request(TerminateChildRequest("child-1"));
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->child().status(), sv::STOPPED);
  EXPECT_EQ(Count(), 1);
  EXPECT_THAT(Start("s3"), IsOk());
}

TEST_F(DynamicSupervisorTest, RestartsFailedChildrenWithFreshState) {
  SpawnSessions(0);
  ASSERT_THAT(Start("s1"), IsOk());
  ASSERT_THAT(Ask(*node_, "s1", "incr"), IsOkAndHolds(1));
  EXPECT_THAT(Ask(*node_, "s1", "crash"), StatusIs(absl::StatusCode::kInternal));
  ASSERT_TRUE(WaitFor([&] { return Ask(*node_, "s1", "get").ok(); }));
  EXPECT_THAT(Ask(*node_, "s1", "get"), IsOkAndHolds(0));
}

TEST_F(DynamicSupervisorTest, TemporaryChildrenAreForgottenWhenTheyEnd) {
  SpawnSessions(1, sv::TEMPORARY);
  ASSERT_THAT(Start("s1"), IsOk());
  EXPECT_THAT(Ask(*node_, "s1", "crash"), StatusIs(absl::StatusCode::kInternal));
  ASSERT_TRUE(WaitFor([&] { return Count() == 0; }));
  EXPECT_THAT(Start("s2"), IsOk());  // The place is free again.
}

TEST(DynamicSupervisorSpecTest, RefusesABadPolicy) {
  sv::DynamicSupervisorSpec spec;
  spec.set_max_children(-1);
  EXPECT_THAT(DynamicSupervisor::Create(spec), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace polis
