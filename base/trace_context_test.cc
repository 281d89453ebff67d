#include "base/trace_context.h"

#include "gtest/gtest.h"

namespace polis {
namespace {

constexpr char kExample[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Traceparent, ParsesTheSpecificationsExample) {
  absl::StatusOr<TraceContext> ctx = ParseTraceparent(kExample);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(ctx->trace_id.Hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ctx->span_id, 0x00f067aa0ba902b7u);
  EXPECT_TRUE(ctx->sampled);
  EXPECT_EQ(FormatTraceparent(*ctx), kExample);
}

TEST(Traceparent, UnsampledFlagRoundTrips) {
  absl::StatusOr<TraceContext> ctx =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(ctx.ok());
  EXPECT_FALSE(ctx->sampled);
  EXPECT_EQ(FormatTraceparent(*ctx), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
}

TEST(Traceparent, RefusesWhatTheSpecificationForbids) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",        // no flags
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",     // zero trace
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",     // zero parent
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",     // uppercase
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",     // version ff
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xx",  // v00 too long
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",     // separator
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",     // not hex
       }) {
    absl::StatusOr<TraceContext> ctx = ParseTraceparent(bad);
    EXPECT_EQ(ctx.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Traceparent, LaterVersionsAreReadByTheirFirstFields) {
  absl::StatusOr<TraceContext> ctx =
      ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever");
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(ctx->span_id, 0x00f067aa0ba902b7u);
}

TEST(TraceIdHex, RoundTripsAndRefusesBadText) {
  absl::StatusOr<TraceId> id = TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->Hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(TraceId::FromHex("4BF92F3577B34DA6A3CE929D0E0E4736")->Hex(),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_FALSE(TraceId::FromHex("4bf9").ok());
  EXPECT_FALSE(TraceId::FromHex(std::string(32, '0')).ok());
  EXPECT_EQ(TraceId().Hex(), "");
  EXPECT_EQ(SpanIdHex(0x00f067aa0ba902b7u), "00f067aa0ba902b7");
  EXPECT_EQ(*SpanIdFromHex("00f067aa0ba902b7"), 0x00f067aa0ba902b7u);
  EXPECT_FALSE(SpanIdFromHex("0000000000000000").ok());
}

TEST(ScopedTrace, SetsAndRestoresTheThreadsTrace) {
  EXPECT_EQ(base::CurrentTrace(), nullptr);
  TraceContext outer = *ParseTraceparent(kExample);
  {
    ScopedTrace a(outer);
    EXPECT_EQ(base::CurrentTrace()->span_id, outer.span_id);
    TraceContext inner = outer;
    inner.span_id = 7;
    {
      ScopedTrace b(inner);
      EXPECT_EQ(base::CurrentTrace()->span_id, 7u);
    }
    EXPECT_EQ(base::CurrentTrace()->span_id, outer.span_id);
  }
  EXPECT_EQ(base::CurrentTrace(), nullptr);
}

}  // namespace
}  // namespace polis
