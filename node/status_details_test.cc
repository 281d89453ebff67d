// node/status_details_test.cc — WithDetail / GetDetail, and details across
// the reply path's wire encoding (bus codec + the node's ReplyOf).
#include "node/status_details.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "bus/envelope.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/internal/letter.h"
#include "tests/status_matchers.h"

namespace polis {
namespace {

using ::google::protobuf::Duration;
using ::google::protobuf::Empty;
using ::google::protobuf::Int64Value;
using ::google::protobuf::StringValue;
using ::polis::testing::StatusIs;

Int64Value Balance(int64_t v) {
  Int64Value m;
  m.set_value(v);
  return m;
}

TEST(StatusDetailsTest, TypeUrlIsTheGoogleApisPrefixAndTheFullName) {
  EXPECT_EQ(DetailTypeUrl(*Int64Value::descriptor()),
            "type.googleapis.com/google.protobuf.Int64Value");
}

TEST(StatusDetailsTest, ADetailComesBackWithItsType) {
  const absl::Status s = WithDetail(absl::FailedPreconditionError("balance too low"), Balance(42));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, "balance too low"));
  std::optional<Int64Value> got = GetDetail<Int64Value>(s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value(), 42);
  EXPECT_TRUE(s.GetPayload("type.googleapis.com/google.protobuf.Int64Value").has_value());
}

TEST(StatusDetailsTest, SeveralDetailsOfDifferentTypesAreKeptAndOneOfATypeReplacesTheOld) {
  Duration retry;
  retry.set_seconds(3);
  absl::Status s = WithDetail(absl::UnavailableError("busy"), Balance(1));
  s = WithDetail(std::move(s), retry);
  s = WithDetail(std::move(s), Balance(2));  // replaces the first
  EXPECT_EQ(GetDetail<Int64Value>(s)->value(), 2);
  EXPECT_EQ(GetDetail<Duration>(s)->seconds(), 3);
  int payloads = 0;
  s.ForEachPayload([&payloads](absl::string_view, const absl::Cord&) { ++payloads; });
  EXPECT_EQ(payloads, 2);
}

TEST(StatusDetailsTest, AbsentWrongTypeAndUnparsableDetailsAreNullopt) {
  const absl::Status s = WithDetail(absl::InternalError("x"), Balance(7));
  EXPECT_FALSE(GetDetail<Duration>(s).has_value());  // another type
  EXPECT_FALSE(GetDetail<Int64Value>(absl::InternalError("plain")).has_value());
  EXPECT_FALSE(GetDetail<Int64Value>(absl::OkStatus()).has_value());
  absl::Status bad = absl::InternalError("x");
  bad.SetPayload(DetailTypeUrl(*Int64Value::descriptor()), absl::Cord("\xFF"));  // cut varint
  EXPECT_FALSE(GetDetail<Int64Value>(bad).has_value());
}

TEST(StatusDetailsTest, AnEmptyMessageIsADetailWithNoBytes) {
  const absl::Status s = WithDetail(absl::AbortedError("x"), Empty());
  EXPECT_EQ(s.GetPayload(DetailTypeUrl(*Empty::descriptor())), absl::Cord(""));
  EXPECT_TRUE(GetDetail<Empty>(s).has_value());
}

TEST(StatusDetailsTest, AnOkStatusTakesNoDetail) {
  const absl::Status s = WithDetail(absl::OkStatus(), Balance(1));
  EXPECT_TRUE(s.ok());
  EXPECT_FALSE(GetDetail<Int64Value>(s).has_value());
}

TEST(StatusDetailsTest, ALargeDetailInManyPiecesParses) {
  StringValue big;
  big.set_value(std::string(100000, 'b'));
  absl::Status s = absl::InternalError("x");
  absl::Cord pieces;
  const std::string bytes = big.SerializeAsString();
  for (size_t i = 0; i < bytes.size(); i += 1000) pieces.Append(bytes.substr(i, 1000));
  ASSERT_FALSE(pieces.TryFlat().has_value());
  s.SetPayload(DetailTypeUrl(*StringValue::descriptor()), pieces);
  EXPECT_EQ(GetDetail<StringValue>(s)->value(), big.value());
}

// What a remote caller sees: the server's status encoded into a reply
// envelope as NodeCore::TransmitReply does, decoded, and turned back into a
// status by ReplyOf.
absl::Status ThroughTheWire(const absl::Status& status) {
  bus::EnvelopeView v;
  v.kind = wire::KIND_REPLY;
  v.status_code = static_cast<int32_t>(status.code());
  const absl::string_view m = status.message();
  v.status_message = std::string_view(m.data(), m.size());
  v.status_details = bus::StatusDetailsView(status);
  std::string bytes(bus::EncodedSize(v), '\0');
  bus::EncodeEnvelope(v, reinterpret_cast<uint8_t*>(bytes.data()));
  bus::EnvelopeView in;
  EXPECT_TRUE(bus::DecodeEnvelope(bytes.data(), bytes.size(), &in).ok());
  return internal::ReplyOf(in).status();
}

TEST(StatusDetailsTest, DetailsSurviveTheReplyEnvelope) {
  Duration retry;
  retry.set_seconds(3);
  absl::Status s = WithDetail(absl::FailedPreconditionError("balance too low"), Balance(42));
  s = WithDetail(std::move(s), retry);
  s = WithDetail(std::move(s), Empty());
  s.SetPayload("urn:plain-payload", absl::Cord("raw bytes \xFF"));  // any UTF-8 URL, any bytes
  const absl::Status back = ThroughTheWire(s);
  EXPECT_EQ(back, s);  // code, message and every payload (absl compares them unordered)
  EXPECT_EQ(GetDetail<Int64Value>(back)->value(), 42);
  EXPECT_EQ(GetDetail<Duration>(back)->seconds(), 3);
  EXPECT_TRUE(GetDetail<Empty>(back).has_value());
  // Without details: code and message only.
  EXPECT_EQ(ThroughTheWire(absl::NotFoundError("gone")), absl::NotFoundError("gone"));
}

}  // namespace
}  // namespace polis
