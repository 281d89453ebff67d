// tools/trace_view.cc — see trace_view.h.
#include "tools/trace_view.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/utf8.h"
#include "tools/text_output.h"

namespace polis::tools {
namespace {

// Terminal columns of UTF-8 text: one per code point (enough for names,
// codes and the bar's blocks).
size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// `s` made safe for one line of a terminal: valid UTF-8, no control
// characters.
std::string OneLine(std::string_view s) {
  std::string out = base::ToValidUtf8(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

int64_t EndOf(const wire::Span& s) { return std::max(s.start_unix_nano(), s.end_unix_nano()); }

std::string StatusCodeName(int32_t code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string StatusText(const wire::Span& s) {
  if (s.status_code() == 0) return "OK";
  return OneLine(absl::StrCat(StatusCodeName(s.status_code()), ": ", s.status_message()));
}

// The SPAN column (without indentation).
std::string SpanLabel(const wire::Span& s) {
  std::string name = OneLine(s.server());
  if (name.empty()) {
    const std::string& node =
        s.kind() == wire::SPAN_KIND_REPLY && !s.peer_node().empty() ? s.peer_node() : s.node();
    name = absl::StrCat("<", OneLine(node), ".", s.server_pid(), ">");
  }
  return s.kind() == wire::SPAN_KIND_REPLY ? absl::StrCat("-> ", name) : name;
}

// The bar of a span from `start` to `end` in a trace from `first` lasting
// `total` ns: `width` cells, blocks where the span is.
std::string Bar(int64_t start, int64_t end, int64_t first, int64_t total, int width) {
  if (total <= 0) total = 1;
  auto cell = [&](int64_t t, bool up) {
    const double x = static_cast<double>(t - first) * width / static_cast<double>(total);
    const double c = up ? std::ceil(x) : std::floor(x);
    return static_cast<int>(std::clamp(c, 0.0, static_cast<double>(width)));
  };
  int from = cell(start, false), to = cell(end, true);
  if (from >= width) from = width - 1;
  if (to <= from) to = from + 1;
  std::string bar = "|";
  for (int i = 0; i < width; ++i) bar += (i >= from && i < to) ? "\u2588" : " ";
  return bar + "|";
}

// Rows of cells, each column padded to its widest cell (by display width),
// two spaces apart, `right` columns right-aligned; no trailing spaces.
std::string RenderColumns(const std::vector<std::vector<std::string>>& rows,
                          const std::vector<bool>& right) {
  std::vector<size_t> width(right.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], DisplayWidth(row[i]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string pad(width[i] - DisplayWidth(row[i]), ' ');
      line += right[i] ? pad + row[i] : row[i] + pad;
      if (i + 1 < row.size()) line += "  ";
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line;
    out += '\n';
  }
  return out;
}

std::string Age(absl::Duration d) {
  const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(d));
  if (ms < 1000) return absl::StrCat(ms, "ms");
  const int64_t s = ms / 1000;
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrCat(s / 60, "m", s % 60, "s");
  return absl::StrCat(s / 3600, "h", s % 3600 / 60, "m");
}

}  // namespace

std::vector<TreeSpan> ArrangeTrace(std::vector<wire::Span> spans) {
  // Tree order: by start, then node, then id.
  auto earlier = [](const wire::Span& a, const wire::Span& b) {
    return std::forward_as_tuple(a.start_unix_nano(), a.node(), a.span_id()) <
           std::forward_as_tuple(b.start_unix_nano(), b.node(), b.span_id());
  };
  std::sort(spans.begin(), spans.end(), earlier);
  std::set<std::pair<std::string, uint64_t>> seen;
  std::vector<wire::Span> unique;
  unique.reserve(spans.size());
  for (wire::Span& s : spans) {
    if (seen.emplace(s.node(), s.span_id()).second) unique.push_back(std::move(s));
  }
  std::unordered_map<uint64_t, size_t> by_id;  // span id -> first index
  for (size_t i = 0; i < unique.size(); ++i) by_id.emplace(unique[i].span_id(), i);
  std::vector<std::vector<size_t>> children(unique.size());
  std::vector<size_t> roots;
  for (size_t i = 0; i < unique.size(); ++i) {  // In start order, so children are too.
    auto parent = by_id.find(unique[i].parent_span_id());
    if (unique[i].parent_span_id() == 0 || parent == by_id.end() || parent->second == i) {
      roots.push_back(i);
    } else {
      children[parent->second].push_back(i);
    }
  }
  std::vector<TreeSpan> out;
  out.reserve(unique.size());
  std::vector<bool> placed(unique.size(), false);
  auto walk = [&](size_t root) {
    std::vector<std::pair<size_t, int>> stack = {{root, 0}};
    while (!stack.empty()) {
      auto [i, depth] = stack.back();
      stack.pop_back();
      if (placed[i]) continue;
      placed[i] = true;
      out.push_back({unique[i], depth});
      for (auto c = children[i].rbegin(); c != children[i].rend(); ++c) {
        stack.emplace_back(*c, depth + 1);
      }
    }
  };
  for (size_t r : roots) walk(r);
  // Spans in a cycle of parent links: the earliest of each becomes a root.
  for (size_t i = 0; i < unique.size(); ++i) {
    if (!placed[i]) walk(i);
  }
  return out;
}

const char* SpanKindWord(wire::SpanKind kind) {
  switch (kind) {
    case wire::SPAN_KIND_CALL:
      return "call";
    case wire::SPAN_KIND_CAST:
      return "cast";
    case wire::SPAN_KIND_INFO:
      return "info";
    case wire::SPAN_KIND_TIMER:
      return "timer";
    case wire::SPAN_KIND_REPLY:
      return "reply";
    default:
      return "unspecified";
  }
}

std::string FormatNanos(int64_t nanos) {
  if (nanos < 0) {
    return absl::StrCat("-", FormatNanos(nanos == INT64_MIN ? INT64_MAX : -nanos));
  }
  if (nanos < 1000) return absl::StrCat(nanos, "ns");
  struct Unit {
    double scale;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1e3, "\u00b5s"}, {1e6, "ms"}, {1e9, "s"}};
  for (const Unit& u : kUnits) {
    const double v = static_cast<double>(nanos) / u.scale;
    // Past 999.5 the rounded figure would need the next unit.
    if (v < 999.5 || u.scale == 1e9) {
      const int decimals = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
      return absl::StrFormat("%.*f%s", decimals, v, u.name);
    }
  }
  return "";  // Not reached.
}

std::string FormatWaterfall(const TraceId& id, const std::vector<TreeSpan>& tree, int bar_width) {
  if (tree.empty()) return absl::StrCat("trace ", id.Hex(), ": no spans\n");
  int64_t first = tree[0].span.start_unix_nano(), last = EndOf(tree[0].span);
  std::set<std::string> nodes;
  int errors = 0;
  for (const TreeSpan& t : tree) {
    first = std::min(first, t.span.start_unix_nano());
    last = std::max(last, EndOf(t.span));
    nodes.insert(t.span.node());
    errors += t.span.status_code() != 0;
  }
  std::string out = absl::StrCat(
      "trace ", id.Hex(), ": ", tree.size(), tree.size() == 1 ? " span" : " spans", " on ",
      nodes.size(), nodes.size() == 1 ? " node, " : " nodes, ", FormatNanos(last - first), ", ",
      errors == 0 ? "OK" : absl::StrCat(errors, errors == 1 ? " error" : " errors"), "\n");
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"SPAN", "NODE", "KIND", "START", "DURATION",
                  "WATERFALL " + FormatNanos(last - first), "STATUS"});
  for (const TreeSpan& t : tree) {
    const wire::Span& s = t.span;
    const int64_t offset = s.start_unix_nano() - first;
    rows.push_back({std::string(2 * t.depth, ' ') + SpanLabel(s), OneLine(s.node()),
                    SpanKindWord(s.kind()),
                    absl::StrCat(offset >= 0 ? "+" : "", FormatNanos(offset)),
                    FormatNanos(EndOf(s) - s.start_unix_nano()),
                    Bar(s.start_unix_nano(), EndOf(s), first, last - first, bar_width),
                    StatusText(s)});
  }
  out += RenderColumns(rows, {false, false, false, true, true, false, false});
  return out;
}

std::string FormatTraceJson(const TraceId& id, const std::vector<TreeSpan>& tree) {
  std::vector<std::string> items;
  items.reserve(tree.size());
  for (const TreeSpan& t : tree) {
    const wire::Span& s = t.span;
    items.push_back(absl::StrCat(
        "{\"span_id\":\"", SpanIdHex(s.span_id()), "\",\"parent_span_id\":\"",
        s.parent_span_id() == 0 ? "" : SpanIdHex(s.parent_span_id()), "\",\"node\":",
        JsonQuote(s.node()), ",\"server\":", JsonQuote(s.server()), ",\"kind\":\"",
        SpanKindWord(s.kind()), "\",\"start_unix_nano\":\"", s.start_unix_nano(),
        "\",\"end_unix_nano\":\"", s.end_unix_nano(), "\",\"status_code\":\"",
        StatusCodeName(s.status_code()), "\",\"status_message\":", JsonQuote(s.status_message()),
        "}"));
  }
  return absl::StrCat("{\"trace_id\":\"", id.Hex(), "\",\"spans\":[", absl::StrJoin(items, ","),
                      "]}\n");
}

std::vector<wire::TraceSummary> MostRecentTraces(const std::vector<wire::SpanQueryReply>& answers,
                                                 size_t n, bool errors_only) {
  std::map<std::string, wire::TraceSummary> merged;  // By trace id bytes.
  for (const wire::SpanQueryReply& answer : answers) {
    for (const wire::TraceSummary& t : answer.traces()) {
      auto [it, fresh] = merged.emplace(t.trace_id(), t);
      if (fresh) continue;
      wire::TraceSummary& m = it->second;
      m.set_start_unix_nano(std::min(m.start_unix_nano(), t.start_unix_nano()));
      m.set_end_unix_nano(std::max(m.end_unix_nano(), t.end_unix_nano()));
      m.set_span_count(m.span_count() + t.span_count());
      m.set_error(m.error() || t.error());
    }
  }
  std::vector<wire::TraceSummary> out;
  for (auto& [id, t] : merged) {
    if (!errors_only || t.error()) out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(), [](const wire::TraceSummary& a, const wire::TraceSummary& b) {
    return std::make_pair(b.end_unix_nano(), a.trace_id()) <
           std::make_pair(a.end_unix_nano(), b.trace_id());
  });
  if (out.size() > n) out.resize(n);
  return out;
}

TraceListing ListTrace(const wire::TraceSummary& summary, const std::vector<TreeSpan>& tree) {
  TraceListing l;
  l.id = TraceId::FromBytes(summary.trace_id());
  if (tree.empty()) {
    l.root_server = "-";
    l.span_count = summary.span_count();
    l.start_unix_nano = summary.start_unix_nano();
    l.end_unix_nano = summary.end_unix_nano();
    l.error = summary.error();
    if (l.error) l.status_code = "ERROR";
    return l;
  }
  l.root_server = SpanLabel(tree[0].span);
  l.root_node = OneLine(tree[0].span.node());
  l.span_count = static_cast<uint32_t>(tree.size());
  l.start_unix_nano = tree[0].span.start_unix_nano();
  l.end_unix_nano = EndOf(tree[0].span);
  for (const TreeSpan& t : tree) {
    l.start_unix_nano = std::min(l.start_unix_nano, t.span.start_unix_nano());
    l.end_unix_nano = std::max(l.end_unix_nano, EndOf(t.span));
    if (t.span.status_code() != 0 && !l.error) {
      l.error = true;
      l.status_code = StatusCodeName(t.span.status_code());
    }
  }
  return l;
}

std::string FormatTraceList(const std::vector<TraceListing>& traces, bool json, absl::Time now) {
  if (json) {
    std::vector<std::string> items;
    for (const TraceListing& t : traces) {
      items.push_back(absl::StrCat(
          "{\"trace_id\":\"", t.id.Hex(), "\",\"root_server\":", JsonQuote(t.root_server),
          ",\"root_node\":", JsonQuote(t.root_node), ",\"span_count\":", t.span_count,
          ",\"start_unix_nano\":\"", t.start_unix_nano, "\",\"end_unix_nano\":\"",
          t.end_unix_nano, "\",\"error\":", t.error ? "true" : "false",
          ",\"status_code\":", JsonQuote(t.status_code), "}"));
    }
    return absl::StrCat("{\"traces\":[", absl::StrJoin(items, ","), "]}\n");
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"TRACE_ID", "ROOT", "NODE", "SPANS", "DURATION", "AGE", "STATUS"});
  for (const TraceListing& t : traces) {
    rows.push_back({t.id.Hex(), t.root_server, t.root_node.empty() ? "-" : t.root_node,
                    absl::StrCat(t.span_count), FormatNanos(t.end_unix_nano - t.start_unix_nano),
                    Age(now - absl::FromUnixNanos(t.end_unix_nano)), t.status_code});
  }
  return RenderColumns(rows, {false, false, false, true, true, true, false});
}

}  // namespace polis::tools
