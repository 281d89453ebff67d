// genserver/dynamic_supervisor_test.cc — children started at run time,
// the child template, and the max_children limit.
#include "genserver/dynamic_supervisor.h"

#include <memory>
#include <string>

#include "genserver/genserver.h"
#include "genserver/server_kinds.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/empty.pb.h"
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
using ::testing::HasSubstr;

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

// A typed kind (Args: ConstantBackoff) whose server answers any Empty call
// with the args it was made with.
class ArgsEcho : public GenServer {
 public:
  explicit ArgsEcho(sv::ConstantBackoff args) : args_(std::move(args)) {
    OnCall(&ArgsEcho::Answer);
  }
  Task<absl::StatusOr<sv::ConstantBackoff>> Answer(const google::protobuf::Empty&) {
    co_return args_;
  }

 private:
  sv::ConstantBackoff args_;
};

POLIS_REGISTER_TYPED_SERVER_KIND(
    "dynamic_supervisor_test_typed", sv::ConstantBackoff,
    [](const sv::ConstantBackoff& args) -> absl::StatusOr<std::unique_ptr<Behaviour>> {
      return std::make_unique<ArgsEcho>(args);
    });

google::protobuf::Any DelayArgs(int64_t delay_ms) {
  sv::ConstantBackoff args;
  args.set_delay_ms(delay_ms);
  google::protobuf::Any any;
  any.PackFrom(args);
  return any;
}

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

TEST_F(DynamicSupervisorTest, TypedArgsComeFromTheTemplateUnlessTheRequestGivesItsOwn) {
  sv::DynamicSupervisorSpec spec;
  spec.mutable_child_template()->set_kind("dynamic_supervisor_test_typed");
  *spec.mutable_child_template()->mutable_typed_args() = DelayArgs(9007199254740993);
  absl::StatusOr<std::unique_ptr<Supervisor>> sup = DynamicSupervisor::Create(spec);
  ASSERT_THAT(sup, IsOk());
  ASSERT_THAT(node_->Spawn(*std::move(sup), {.name = "sessions"}), IsOk());
  auto delay_of = [&](const std::string& name) -> int64_t {
    absl::StatusOr<sv::ConstantBackoff> r =
        node_->Call<sv::ConstantBackoff>(name, google::protobuf::Empty());
    EXPECT_THAT(r, IsOk());
    return r.ok() ? r->delay_ms() : -1;
  };

  ASSERT_THAT(Start("from_template"), IsOk());
  EXPECT_EQ(delay_of("from_template"), 9007199254740993);

  sv::ChildSpec own;
  own.set_name("own");
  *own.mutable_typed_args() = DelayArgs(7);
  ASSERT_THAT(Request(StartChildRequest(own)), IsOk());
  EXPECT_EQ(delay_of("own"), 7);

  // A Struct cannot be merged into the template's typed_args.
  sv::ChildSpec loose;
  loose.set_name("loose");
  (*loose.mutable_args()->mutable_fields())["delay_ms"].set_number_value(3);
  EXPECT_THAT(Request(StartChildRequest(loose)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("gives typed_args, which args (a Struct) cannot be merged into")));

  // A request naming its own kind takes none of the template's args.
  sv::ChildSpec other;
  other.set_name("other");
  other.set_kind("dynamic_supervisor_test_probe");
  EXPECT_THAT(Request(StartChildRequest(other)), IsOk());
}

TEST_F(DynamicSupervisorTest, BadTypedArgsOfARequestAreRefused) {
  SpawnSessions(0);
  sv::ChildSpec spec;
  spec.set_name("typed");
  spec.set_kind("dynamic_supervisor_test_typed");
  (*spec.mutable_args()->mutable_fields())["delay_ms"].set_number_value(0.5);
  EXPECT_THAT(Request(StartChildRequest(spec)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("kind dynamic_supervisor_test_typed: args.delay_ms: must be a "
                                 "whole number")));
  spec.clear_args();
  (*spec.mutable_args()->mutable_fields())["delay_ms"].set_number_value(4);
  EXPECT_THAT(Request(StartChildRequest(spec)), IsOk());
}

TEST(DynamicSupervisorSpecTest, RefusesABadPolicy) {
  sv::DynamicSupervisorSpec spec;
  spec.set_max_children(-1);
  EXPECT_THAT(DynamicSupervisor::Create(spec), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace polis
