// tools/request_choice_test.cc — which declared type a CLI request's JSON
// becomes (request_choice.h), over the example servers' real .proto file:
// CounterRequest {add, get, crash, ...}, RelayRequest {via, request} share
// no field; CounterRequest and KvRequest share `get`.
#include "tools/request_choice.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "examples/examples.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace polis::tools {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::IsOkAndHolds;
using ::polis::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCounter[] = "polis.examples.CounterRequest";
constexpr char kRelay[] = "polis.examples.RelayRequest";
constexpr char kKv[] = "polis.examples.KvRequest";

std::unique_ptr<DynamicTypes> ExampleTypes() {
  google::protobuf::FileDescriptorSet set;
  examples::CounterRequest::descriptor()->file()->CopyTo(set.add_file());
  absl::StatusOr<std::unique_ptr<DynamicTypes>> types =
      DynamicTypes::Create(set.SerializeAsString());
  EXPECT_THAT(types, IsOk());
  return types.ok() ? *std::move(types) : nullptr;
}

// A server named "multi" that declares `first` then `second` as calls.
wire::ServerDescription TwoCallTypes(const std::string& first, const std::string& second) {
  wire::ServerDescription d;
  d.set_name("multi");
  d.add_call_types(first);
  d.add_call_types(second);
  return d;
}

TEST(ChooseRequestTest, TypesThatShareNoFieldPickTheOneTheJsonFits) {
  auto types = ExampleTypes();
  ASSERT_NE(types, nullptr);
  const wire::ServerDescription d = TwoCallTypes(kCounter, kRelay);
  // Today's rule picked the first type, CounterRequest, and refused this.
  auto relay =
      ChooseRequest(d, wire::KIND_CALL, "", *types, R"({"via": ["c"], "request": {"add": 2}})");
  ASSERT_THAT(relay, IsOk());
  EXPECT_EQ(relay->type, kRelay);
  examples::RelayRequest r;
  ASSERT_TRUE(r.ParseFromString(relay->message->SerializeAsString()));
  EXPECT_EQ(r.request().add(), 2);

  auto counter = ChooseRequest(d, wire::KIND_CALL, "", *types, R"({"add": 5})");
  ASSERT_THAT(counter, IsOk());
  EXPECT_EQ(counter->type, kCounter);

  // The order of declaration does not matter.
  auto reversed =
      ChooseRequest(TwoCallTypes(kRelay, kCounter), wire::KIND_CALL, "", *types, R"({"add": 5})");
  ASSERT_THAT(reversed, IsOk());
  EXPECT_EQ(reversed->type, kCounter);
}

TEST(ChooseRequestTest, JsonBothTypesAcceptIsRefusedNamingThem) {
  auto types = ExampleTypes();
  ASSERT_NE(types, nullptr);
  const wire::ServerDescription d = TwoCallTypes(kCounter, kKv);
  // `get` is a field of both (an Empty in one, a KvKey in the other): both accept it.
  EXPECT_THAT(ChooseRequest(d, wire::KIND_CALL, "", *types, R"({"get": {}})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "JSON fits several request types of multi: polis.examples.CounterRequest, "
                       "polis.examples.KvRequest; choose one with --type="));
  // A field only one of them has decides, even beside the shared one's type.
  auto kv = ChooseRequest(d, wire::KIND_CALL, "", *types, R"({"get": {"key": "k"}})");
  ASSERT_THAT(kv, IsOk());
  EXPECT_EQ(kv->type, kKv);
  auto add = ChooseRequest(d, wire::KIND_CALL, "", *types, R"({"add": 1})");
  ASSERT_THAT(add, IsOk());
  EXPECT_EQ(add->type, kCounter);
  // --type decides.
  auto named = ChooseRequest(d, wire::KIND_CALL, kKv, *types, R"({"get": {}})");
  ASSERT_THAT(named, IsOk());
  EXPECT_EQ(named->type, kKv);
}

TEST(ChooseRequestTest, EmptyJsonFitsEveryTypeSoItIsRefused) {
  auto types = ExampleTypes();
  ASSERT_NE(types, nullptr);
  EXPECT_THAT(ChooseRequest(TwoCallTypes(kCounter, kRelay), wire::KIND_CALL, "", *types, "{}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("JSON fits several request types of multi"),
                             HasSubstr(kCounter), HasSubstr(kRelay), HasSubstr("--type="))));
  // With one declared type, `{}` is that type, as before.
  wire::ServerDescription one;
  one.set_name("counter");
  one.add_call_types(kCounter);
  auto single = ChooseRequest(one, wire::KIND_CALL, "", *types, "{}");
  ASSERT_THAT(single, IsOk());
  EXPECT_EQ(single->type, kCounter);
}

TEST(ChooseRequestTest, JsonNoTypeAcceptsListsEachTypeAndWhy) {
  auto types = ExampleTypes();
  ASSERT_NE(types, nullptr);
  auto none =
      ChooseRequest(TwoCallTypes(kCounter, kRelay), wire::KIND_CALL, "", *types, R"({"nope": 1})");
  EXPECT_THAT(none, StatusIs(absl::StatusCode::kInvalidArgument,
                             AllOf(HasSubstr("JSON fits none of the request types of multi: "),
                                   HasSubstr(absl::StrCat(kCounter, " (")),
                                   HasSubstr(absl::StrCat(kRelay, " (")), HasSubstr("nope"),
                                   Not(HasSubstr("bad JSON for")))));
  EXPECT_THAT(ChooseRequest(TwoCallTypes(kCounter, kRelay), wire::KIND_CALL, "", *types, "{"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fits none")));
  // With one declared type the refusal is FromJson's own, as before.
  wire::ServerDescription one;
  one.set_name("counter");
  one.add_call_types(kCounter);
  EXPECT_THAT(ChooseRequest(one, wire::KIND_CALL, "", *types, R"({"nope": 1})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad JSON for polis.examples.CounterRequest")));
}

TEST(ChooseRequestTest, CastsAndInfosChooseTheSameWay) {
  auto types = ExampleTypes();
  ASSERT_NE(types, nullptr);
  wire::ServerDescription d;
  d.set_name("multi");
  d.add_cast_types(kCounter);
  d.add_cast_types(kRelay);
  d.add_info_types(kCounter);
  d.add_info_types(kKv);
  auto cast = ChooseRequest(d, wire::KIND_CAST, "", *types, R"({"via": ["x"]})");
  ASSERT_THAT(cast, IsOk());
  EXPECT_EQ(cast->type, kRelay);
  EXPECT_THAT(ChooseRequest(d, wire::KIND_INFO, "", *types, "{}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("JSON fits several info types of multi")));
}

TEST(ChooseRequestTest, AServerThatAcceptsAnyTypeKeepsTheFirstDeclaredOne) {
  auto types = ExampleTypes();
  ASSERT_NE(types, nullptr);
  wire::ServerDescription d = TwoCallTypes(kCounter, kRelay);
  d.set_accepts_any_call(true);
  auto first = ChooseRequest(d, wire::KIND_CALL, "", *types, "{}");
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->type, kCounter);
  // Even JSON only the second fits: the first is used, and refuses it.
  EXPECT_THAT(ChooseRequest(d, wire::KIND_CALL, "", *types, R"({"via": ["x"]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad JSON for polis.examples.CounterRequest")));
  auto named = ChooseRequest(d, wire::KIND_CALL, kRelay, *types, R"({"via": ["x"]})");
  ASSERT_THAT(named, IsOk());
  EXPECT_EQ(named->type, kRelay);
}

TEST(ChooseRequestTest, TypeNamedWithDashDashTypeMustBeDeclared) {
  auto types = ExampleTypes();
  ASSERT_NE(types, nullptr);
  EXPECT_THAT(ChooseRequest(TwoCallTypes(kCounter, kRelay), wire::KIND_CALL, kKv, *types,
                            R"({"get": {"key": "k"}})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("polis.examples.CounterRequest, polis.examples.RelayRequest")));
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

}  // namespace
}  // namespace polis::tools
