// genserver/server_kinds_test.cc — typed and free-form server kinds: how a
// spec's typed_args (Any) and args (Struct) reach a kind's factory.
#include "genserver/server_kinds.h"

#include <atomic>
#include <memory>

#include "genserver/genserver.h"
#include "genserver/supervisor_child.h"
#include "gmock/gmock.h"
#include "google/protobuf/empty.pb.h"
#include "gtest/gtest.h"
#include "polis/supervisor.pb.h"
#include "tests/status_matchers.h"

namespace polis {
namespace {

namespace sv = supervision;
using ::polis::testing::IsOk;
using ::polis::testing::IsOkAndHolds;
using ::polis::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// The test kinds take supervision messages as their Args: ExponentialBackoff
// has 64-bit integers and doubles, Backoff a nested message in a oneof.
sv::ExponentialBackoff g_last;  // What the last "typed" factory got.
std::atomic<int> g_made{0};

class Nothing : public GenServer {};

POLIS_REGISTER_TYPED_SERVER_KIND("kinds_test_typed", sv::ExponentialBackoff,
                                 [](const sv::ExponentialBackoff& args)
                                     -> absl::StatusOr<std::unique_ptr<Behaviour>> {
                                   g_last = args;
                                   ++g_made;
                                   return std::make_unique<Nothing>();
                                 });
POLIS_REGISTER_TYPED_SERVER_KIND("kinds_test_nested", sv::Backoff,
                                 [](const sv::Backoff&)
                                     -> absl::StatusOr<std::unique_ptr<Behaviour>> {
                                   return std::make_unique<Nothing>();
                                 });
POLIS_REGISTER_SERVER_KIND("kinds_test_free",
                           [](const google::protobuf::Struct&)
                               -> absl::StatusOr<std::unique_ptr<Behaviour>> {
                             return std::make_unique<Nothing>();
                           });

google::protobuf::Any Pack(const google::protobuf::Message& m) {
  google::protobuf::Any any;
  any.PackFrom(m);
  return any;
}

google::protobuf::Struct Args(const std::string& key, double number) {
  google::protobuf::Struct s;
  (*s.mutable_fields())[key].set_number_value(number);
  return s;
}

TEST(ServerKindsTest, ArgsTypeNamesTheMessageOrStructOrNotFound) {
  EXPECT_THAT(ServerKinds::ArgsType("kinds_test_typed"),
              IsOkAndHolds("polis.supervision.ExponentialBackoff"));
  EXPECT_THAT(ServerKinds::ArgsType("kinds_test_free"), IsOkAndHolds("google.protobuf.Struct"));
  EXPECT_THAT(ServerKinds::ArgsType("kinds_test_nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("kinds_test_typed")));
}

TEST(ServerKindsTest, ADuplicateTypedRegistrationIsRefusedAndTheFirstKept) {
  EXPECT_FALSE(ServerKinds::Register<google::protobuf::Empty>(
      "kinds_test_typed",
      [](const google::protobuf::Empty&) -> absl::StatusOr<std::unique_ptr<Behaviour>> {
        return std::make_unique<Nothing>();
      }));
  EXPECT_THAT(ServerKinds::ArgsType("kinds_test_typed"),
              IsOkAndHolds("polis.supervision.ExponentialBackoff"));
}

TEST(ServerKindsTest, TypedArgsArriveExactly) {
  sv::ExponentialBackoff args;
  args.set_max_ms(9007199254740993);  // 2^53 + 1: no double holds it.
  args.set_multiplier(1.5);
  ASSERT_THAT(ServerKinds::Create("kinds_test_typed", {}, Pack(args)), IsOk());
  EXPECT_EQ(g_last.max_ms(), 9007199254740993);
  EXPECT_EQ(g_last.multiplier(), 1.5);
}

TEST(ServerKindsTest, TypedArgsOfAnotherTypeAreRefused) {
  EXPECT_THAT(ServerKinds::Create("kinds_test_typed", {}, Pack(google::protobuf::Empty())),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("kind kinds_test_typed takes polis.supervision.ExponentialBackoff,"
                                 " got google.protobuf.Empty")));
  google::protobuf::Any garbage = Pack(sv::ExponentialBackoff());
  garbage.set_value("\xff\xff\xff");
  EXPECT_THAT(ServerKinds::Create("kinds_test_typed", {}, garbage),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not parse")));
}

TEST(ServerKindsTest, AStructIsConvertedThroughJsonByFieldOrJsonName) {
  google::protobuf::Struct s = Args("initial_ms", 5);
  (*s.mutable_fields())["maxMs"].set_number_value(9007199254740991.0);  // 2^53 - 1.
  (*s.mutable_fields())["multiplier"].set_number_value(2.5);
  ASSERT_THAT(ServerKinds::Create("kinds_test_typed", s), IsOk());
  EXPECT_EQ(g_last.initial_ms(), 5);
  EXPECT_EQ(g_last.max_ms(), 9007199254740991);
  EXPECT_EQ(g_last.multiplier(), 2.5);
  ASSERT_THAT(ServerKinds::Create("kinds_test_typed"), IsOk());  // Nothing given: defaults.
  EXPECT_EQ(g_last.initial_ms(), 0);
}

TEST(ServerKindsTest, AStructWithAnUnknownFieldIsRefusedNamingIt) {
  EXPECT_THAT(ServerKinds::Create("kinds_test_typed", Args("bogus", 1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("kind kinds_test_typed: args.bogus: no such field"),
                             HasSubstr("initial_ms"))));
}

TEST(ServerKindsTest, AStructValueOfTheWrongTypeIsRefusedNamingTheField) {
  google::protobuf::Struct s;
  (*s.mutable_fields())["initial_ms"].set_string_value("5");
  EXPECT_THAT(ServerKinds::Create("kinds_test_typed", s),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("kind kinds_test_typed: args.initial_ms: expected a whole number, "
                                 "got a string")));
  google::protobuf::Struct b;
  (*b.mutable_fields())["multiplier"].set_bool_value(true);
  EXPECT_THAT(ServerKinds::Create("kinds_test_typed", b),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("args.multiplier: expected a number, got a bool")));
}

TEST(ServerKindsTest, AFractionForAnIntegerFieldIsRefused) {
  EXPECT_THAT(ServerKinds::Create("kinds_test_typed", Args("initial_ms", 1.5)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("args.initial_ms: must be a whole number, got 1.5")));
}

TEST(ServerKindsTest, AStructNumberOf2To53OrMoreForA64BitFieldIsRefused) {
  for (double big : {9007199254740992.0, -9007199254740992.0, 1e300}) {
    EXPECT_THAT(ServerKinds::Create("kinds_test_typed", Args("max_ms", big)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("kind kinds_test_typed: args.max_ms"),
                               HasSubstr("cannot hold exactly"), HasSubstr("typed_args"))))
        << big;
  }
}

TEST(ServerKindsTest, NestedStructFieldsAreCheckedWithTheirPath) {
  google::protobuf::Struct s;
  (*(*s.mutable_fields())["exponential"].mutable_struct_value()->mutable_fields())["initial_ms"]
      .set_number_value(0.5);
  EXPECT_THAT(ServerKinds::Create("kinds_test_nested", s),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("kind kinds_test_nested: args.exponential.initial_ms: must be a "
                                 "whole number")));
  google::protobuf::Struct ok;
  (*(*ok.mutable_fields())["constant"].mutable_struct_value()->mutable_fields())["delay_ms"]
      .set_number_value(7);
  EXPECT_THAT(ServerKinds::Create("kinds_test_nested", ok), IsOk());
}

TEST(ServerKindsTest, ArgsAndTypedArgsTogetherAreRefused) {
  EXPECT_THAT(ServerKinds::Create("kinds_test_typed", Args("initial_ms", 1),
                                  Pack(sv::ExponentialBackoff())),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("kind kinds_test_typed: give args or typed_args, not both")));
}

TEST(ServerKindsTest, AFreeFormKindRefusesTypedArgs) {
  EXPECT_THAT(ServerKinds::Create("kinds_test_free", {}, Pack(sv::ExponentialBackoff())),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("kind kinds_test_free takes free-form args")));
  EXPECT_THAT(ServerKinds::Create("kinds_test_free", Args("anything", 1)), IsOk());
}

TEST(ServerKindsTest, CheckArgsJudgesWithoutMakingAServer) {
  const int made = g_made;
  sv::ExponentialBackoff args;
  EXPECT_THAT(ServerKinds::CheckArgs("kinds_test_typed", {}, Pack(args)), IsOk());
  EXPECT_THAT(ServerKinds::CheckArgs("kinds_test_typed", Args("bogus", 1), {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("args.bogus")));
  EXPECT_THAT(ServerKinds::CheckArgs("kinds_test_nope", {}, {}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(g_made, made);
}

TEST(ServerKindsTest, ValidateChildSpecReportsBadArgsOfAKnownKindOnly) {
  sv::ChildSpec spec;
  spec.set_id("w");
  spec.set_kind("kinds_test_typed");
  *spec.mutable_typed_args() = Pack(google::protobuf::Empty());
  EXPECT_THAT(
      ValidateChildSpec(spec),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("child 'w': kind kinds_test_typed takes "
                         "polis.supervision.ExponentialBackoff, got google.protobuf.Empty")));
  *spec.mutable_args() = Args("max_ms", 1);
  EXPECT_THAT(ValidateChildSpec(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not both")));
  spec.clear_typed_args();
  EXPECT_THAT(ValidateChildSpec(spec), IsOk());
  spec.set_kind("kinds_test_registered_later");  // Reported when it starts: NOT_FOUND.
  EXPECT_THAT(ValidateChildSpec(spec), IsOk());
  EXPECT_THAT(ChildFromSpec(spec), IsOk());
}

}  // namespace
}  // namespace polis
