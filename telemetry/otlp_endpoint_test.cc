// telemetry/otlp_endpoint_test.cc — which collector endpoints are taken.
#include "telemetry/otlp_endpoint.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace polis::telemetry {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::StatusIs;
using ::testing::HasSubstr;

TEST(OtlpEndpointTest, AcceptsHostAndPort) {
  absl::StatusOr<OtlpEndpoint> e = ParseOtlpEndpoint("http://collector.local:4318");
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->host, "collector.local");
  EXPECT_EQ(e->port, 4318);
  EXPECT_THAT(ParseOtlpEndpoint("http://127.0.0.1:4318/"), IsOk());
  absl::StatusOr<OtlpEndpoint> v6 = ParseOtlpEndpoint("http://[::1]:4318");
  ASSERT_THAT(v6, IsOk());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->ToString(), "http://[::1]:4318");
}

TEST(OtlpEndpointTest, RefusesAnythingElseSayingWhy) {
  for (const char* bad :
       {"", "127.0.0.1:4318", "https://h:4318", "http://h", "http://h:", "http://:4318",
        "http://h:0", "http://h:65536", "http://h:43a8", "http://h:4318/v1/traces",
        "http://h:4318?x=1", "http://user@h:4318", "http://h h:4318", "http://[::1:4318",
        "ftp://h:21", "http://-h:1"}) {
    EXPECT_THAT(ParseOtlpEndpoint(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_THAT(ParseOtlpEndpoint("https://h:1").status().message(), HasSubstr("https"));
  EXPECT_THAT(ParseOtlpEndpoint("http://h").status().message(), HasSubstr("missing :PORT"));
}

}  // namespace
}  // namespace polis::telemetry
