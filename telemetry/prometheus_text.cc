// telemetry/prometheus_text.cc — see prometheus_text.h.
#include "telemetry/prometheus_text.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/utf8.h"

namespace polis::telemetry {
namespace {

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// Appends `text` with `\` → `\\`, newline → `\n`, and `"` → `\"` if `quote`.
void AppendEscaped(std::string_view text, bool quote, std::string* out) {
  for (char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && quote) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  if (base::IsValidUtf8(value)) {
    AppendEscaped(value, /*quote=*/true, &out);
  } else {
    AppendEscaped(base::ToValidUtf8(value), /*quote=*/true, &out);
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  AppendEscaped(help, /*quote=*/false, &out);
  return out;
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, r.ptr);
}

// (Debian's Abseil has its own string_view: StrCat takes no std::string_view,
// so names are appended with std::string::append.)
void PrometheusText::Family(std::string_view name, MetricType type, std::string_view help) {
  out_.append("# HELP ").append(name).append(" ").append(EscapeHelp(help)).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(TypeName(type)).append("\n");
}

void PrometheusText::WriteLabels(const Labels& labels, const Label* extra) {
  if (labels.empty() && extra == nullptr) return;
  out_.push_back('{');
  bool first = true;
  auto one = [&](const Label& l) {
    if (!first) out_.push_back(',');
    first = false;
    out_.append(l.name).append("=\"").append(EscapeLabelValue(l.value)).append("\"");
  };
  for (const Label& l : labels) one(l);
  if (extra != nullptr) one(*extra);
  out_.push_back('}');
}

void PrometheusText::Sample(std::string_view name, const Labels& labels, double value) {
  out_.append(name);
  WriteLabels(labels);
  absl::StrAppend(&out_, " ", FormatNumber(value), "\n");
}

void PrometheusText::Sample(std::string_view name, const Labels& labels, uint64_t value) {
  out_.append(name);
  WriteLabels(labels);
  absl::StrAppend(&out_, " ", value, "\n");
}

void PrometheusText::Sample(std::string_view name, const Labels& labels, int64_t value) {
  out_.append(name);
  WriteLabels(labels);
  absl::StrAppend(&out_, " ", value, "\n");
}

void PrometheusText::Histogram(std::string_view name, const Labels& labels,
                               const std::vector<double>& bounds,
                               const std::vector<uint64_t>& counts, double sum) {
  const std::string base(name);
  const std::string bucket = base + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    const std::string le = i < bounds.size() ? FormatNumber(bounds[i]) : "+Inf";
    const Label le_label{"le", le};
    out_.append(bucket);
    WriteLabels(labels, &le_label);
    absl::StrAppend(&out_, " ", cumulative, "\n");
  }
  Sample(base + "_sum", labels, sum);
  Sample(base + "_count", labels, cumulative);
}

}  // namespace polis::telemetry
