// telemetry/prometheus_text.h — writes Prometheus's text exposition format,
// version 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/):
// per metric family a `# HELP` and a `# TYPE` line, then its samples
// `name{label="value",...} number`, a histogram as cumulative
// `name_bucket{...,le="bound"}` lines ending with le="+Inf", then `name_sum`
// and `name_count`.
//
// The writer escapes what the format requires (label values: backslash,
// double quote, newline; help text: backslash, newline) and makes label
// values valid UTF-8 (base::ToValidUtf8). Metric and label names are the
// caller's, written as given: they must match [a-zA-Z_:][a-zA-Z0-9_:]* and
// [a-zA-Z_][a-zA-Z0-9_]*. Integer values are written exactly (a counter past
// 2^53 keeps every digit); other numbers in the shortest form that reads
// back to the same double, and infinities and NaN as +Inf, -Inf, NaN.
//
// Thread-safety: a value; one writer per thread.
//
// Example:
//   PrometheusText out;
//   out.Family("polis_server_messages_total", MetricType::kCounter, "Messages handled.");
//   out.Sample("polis_server_messages_total", {{"server", "counter"}}, uint64_t{37});
//   out.Family("polis_server_handler_duration_seconds", MetricType::kHistogram, "...");
//   out.Histogram("polis_server_handler_duration_seconds", {{"server", "counter"}},
//                 {0.001, 0.01}, {30, 6, 1}, 0.042);
//   std::string body = out.Take();
#ifndef POLIS_TELEMETRY_PROMETHEUS_TEXT_H_
#define POLIS_TELEMETRY_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace polis::telemetry {

// The Content-Type of a body in this format.
inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge, kHistogram };

// One label: name and value (not escaped).
struct Label {
  std::string_view name;
  std::string_view value;
};
using Labels = std::vector<Label>;

class PrometheusText {
 public:
  // Starts the family `name`: its HELP and TYPE lines. Each family once,
  // before its samples (the format wants a family's lines together).
  void Family(std::string_view name, MetricType type, std::string_view help);

  // One sample line. `labels` may be empty (then no braces).
  void Sample(std::string_view name, const Labels& labels, double value);
  void Sample(std::string_view name, const Labels& labels, uint64_t value);
  void Sample(std::string_view name, const Labels& labels, int64_t value);

  // A histogram's lines for one label set: `counts` has one entry per
  // bucket, not cumulative — bounds.size() + 1 of them, the last for
  // observations over every bound (+Inf); `sum` is the observations' total.
  // Writes name_bucket (cumulative, with le), name_sum and name_count.
  void Histogram(std::string_view name, const Labels& labels, const std::vector<double>& bounds,
                 const std::vector<uint64_t>& counts, double sum);

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void WriteLabels(const Labels& labels, const Label* extra = nullptr);
  std::string out_;
};

// A label value as the format writes it between its quotes.
std::string EscapeLabelValue(std::string_view value);
// HELP text as the format writes it.
std::string EscapeHelp(std::string_view help);
// A number as the format writes it: "+Inf", "-Inf", "NaN", or the shortest
// decimal that reads back as `value` ("0.25", "1e-06", "42").
std::string FormatNumber(double value);

}  // namespace polis::telemetry

#endif  // POLIS_TELEMETRY_PROMETHEUS_TEXT_H_
