// telemetry/prometheus_text_test.cc — the text exposition format: family
// lines, label escaping, numbers, histograms.
#include "telemetry/prometheus_text.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace polis::telemetry {
namespace {

TEST(PrometheusTextTest, FamilyHasHelpThenTypeAndSamplesFollow) {
  PrometheusText out;
  out.Family("polis_x_total", MetricType::kCounter, "How many x.");
  out.Sample("polis_x_total", {{"node", "a"}, {"server", "counter"}}, uint64_t{37});
  out.Family("polis_y", MetricType::kGauge, "Y now.");
  out.Sample("polis_y", {}, int64_t{-3});
  EXPECT_EQ(out.text(),
            "# HELP polis_x_total How many x.\n"
            "# TYPE polis_x_total counter\n"
            "polis_x_total{node=\"a\",server=\"counter\"} 37\n"
            "# HELP polis_y Y now.\n"
            "# TYPE polis_y gauge\n"
            "polis_y -3\n");
}

TEST(PrometheusTextTest, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue(R"(a\b"c)"
                             "\nd"),
            R"(a\\b\"c\nd)");
  EXPECT_EQ(EscapeLabelValue("plain ünïcode"), "plain ünïcode");
  PrometheusText out;
  out.Sample("m", {{"server", "say \"hi\"\n"}}, uint64_t{1});
  EXPECT_EQ(out.text(), "m{server=\"say \\\"hi\\\"\\n\"} 1\n");
}

TEST(PrometheusTextTest, LabelValuesThatAreNotUtf8AreRepaired) {
  const std::string bad = "ab\xff";
  EXPECT_EQ(EscapeLabelValue(bad), "ab\xEF\xBF\xBD");  // U+FFFD
}

TEST(PrometheusTextTest, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(EscapeHelp("a \"b\"\\\nc"), "a \"b\"\\\\\\nc");
}

TEST(PrometheusTextTest, NumbersAreExactIntegersOrShortestDoubles) {
  EXPECT_EQ(FormatNumber(0.25), "0.25");
  EXPECT_EQ(FormatNumber(1e-06), "1e-06");
  EXPECT_EQ(FormatNumber(42.0), "42");
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatNumber(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::quiet_NaN()), "NaN");
  PrometheusText out;
  out.Sample("m", {}, uint64_t{18446744073709551615u});  // every digit, no rounding
  EXPECT_EQ(out.text(), "m 18446744073709551615\n");
}

TEST(PrometheusTextTest, HistogramBucketsAreCumulativeAndEndWithInf) {
  PrometheusText out;
  out.Family("polis_d_seconds", MetricType::kHistogram, "D.");
  out.Histogram("polis_d_seconds", {{"server", "s"}}, {0.001, 0.01}, {30, 6, 1}, 0.5);
  EXPECT_EQ(out.text(),
            "# HELP polis_d_seconds D.\n"
            "# TYPE polis_d_seconds histogram\n"
            "polis_d_seconds_bucket{server=\"s\",le=\"0.001\"} 30\n"
            "polis_d_seconds_bucket{server=\"s\",le=\"0.01\"} 36\n"
            "polis_d_seconds_bucket{server=\"s\",le=\"+Inf\"} 37\n"
            "polis_d_seconds_sum{server=\"s\"} 0.5\n"
            "polis_d_seconds_count{server=\"s\"} 37\n");
}

TEST(PrometheusTextTest, AnEmptyHistogramStillHasEveryLine) {
  PrometheusText out;
  out.Histogram("h", {}, {1}, {0, 0}, 0);
  EXPECT_EQ(out.text(),
            "h_bucket{le=\"1\"} 0\n"
            "h_bucket{le=\"+Inf\"} 0\n"
            "h_sum 0\n"
            "h_count 0\n");
}

}  // namespace
}  // namespace polis::telemetry
