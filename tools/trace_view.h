// tools/trace_view.h — the part of `polis trace` that needs no cluster:
// spans gathered from every node arranged as one tree and printed as a
// terminal waterfall or as JSON; trace summaries merged into the `--last`
// listing. tools/trace_command.h asks the nodes.
//
// The tree: a span's parent is the span whose id is its parent_span_id.
// Spans whose parent is 0 or among none of the spans (e.g. the `reply`
// span of a `polis call`, recorded by the short-lived client node, which
// is gone) are roots. Roots and the children of each span are sorted by
// start time (then node, then span id), and the tree is walked depth
// first. A span seen twice (same node and id) is kept once; spans caught
// in a cycle of parent links are taken as roots, so every span is printed.
//
// The waterfall (FormatWaterfall), one line per span:
//   trace 4bf92f3577b34da6a3ce929d0e0e4736: 5 spans on 3 nodes, 2.41ms, OK
//   SPAN               NODE  KIND   START   DURATION  WATERFALL ...  STATUS
//   relay_a            a     call   +0ns      2.41ms  |█████...|     OK
//     -> relay_b       a     reply  +52µs     2.30ms  | ████...|     OK
//       relay_b        b     call   +301µs    1.90ms  |   ██...|     OK
// SPAN is the server, indented two spaces per level; for a reply span
// (the caller's side of a call) "-> NAME", the server it called; an
// unnamed process shows as "<NODE.PID>". START is the offset from the
// trace's first span; the bar starts and ends in proportion to the whole
// trace (its first start to its last end, on the recording nodes' clocks:
// offsets between nodes include their clock difference). STATUS is "OK"
// or "CODE: message".
//
// JSON (FormatTraceJson), one object, spans in the tree's order:
//   {"trace_id":"<32 hex>","spans":[{"span_id":"<16 hex>",
//    "parent_span_id":"<16 hex>" or "" for none,"node","server","kind",
//    "start_unix_nano":"<decimal>","end_unix_nano":"<decimal>",
//    "status_code":"OK"|"NOT_FOUND"|...,"status_message"}]}
// Times are decimal strings (as in OTLP/JSON: unix nanoseconds do not fit a
// JSON number's exact range), kind a lowercase word (call, cast, info,
// timer, reply; "unspecified"), status_code the canonical code's name.
//
// The listing (FormatTraceList), most recent first (latest end):
//   TRACE_ID                          ROOT     NODE  SPANS  DURATION  AGE  STATUS
//   4bf92f3577b34da6a3ce929d0e0e4736  relay_a  a     5      2.41ms    3s   OK
// STATUS is "OK" or the code of the first failed span in tree order.
// JSON: {"traces":[{"trace_id","root_server","root_node","span_count",
//   "start_unix_nano","end_unix_nano","error","status_code"}]} (times as
//   above; error a bool; status_code as STATUS).
//
// Thread-safety: pure functions.
//
// Example:
//   std::vector<TreeSpan> tree = ArrangeTrace(spans_from_every_node);
//   std::cout << FormatWaterfall(id, tree);
#ifndef POLIS_TOOLS_TRACE_VIEW_H_
#define POLIS_TOOLS_TRACE_VIEW_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/trace_context.h"
#include "polis/trace.pb.h"

namespace polis::tools {

// A span and its depth in the tree (0 for a root).
struct TreeSpan {
  wire::Span span;
  int depth = 0;
};

// The spans of one trace in tree order (see the top).
std::vector<TreeSpan> ArrangeTrace(std::vector<wire::Span> spans);

// "call", "cast", "info", "timer", "reply"; "unspecified" otherwise.
const char* SpanKindWord(wire::SpanKind kind);

// A duration or offset of `nanos` for people, three significant digits:
// "830ns", "5.20µs", "2.41ms", "1.50s"; negative with a "-".
std::string FormatNanos(int64_t nanos);

// The waterfall of `tree` (ArrangeTrace's), the bar `bar_width` characters
// wide.
std::string FormatWaterfall(const TraceId& id, const std::vector<TreeSpan>& tree,
                            int bar_width = 30);
std::string FormatTraceJson(const TraceId& id, const std::vector<TreeSpan>& tree);

// One line of `polis trace --last`.
struct TraceListing {
  TraceId id;
  std::string root_server;  // The first root's server ("-> NAME" for a reply; "-" if none).
  std::string root_node;
  uint32_t span_count = 0;
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  bool error = false;
  std::string status_code = "OK";  // The first failed span's code, in tree order.
};

// Phase 1 of --last: the nodes' summaries merged by trace id (earliest
// start, latest end, counts added, error if any node saw one), the `n`
// that ended most recently, latest first (ties: by id). `errors_only`
// keeps only traces with an error.
std::vector<wire::TraceSummary> MostRecentTraces(const std::vector<wire::SpanQueryReply>& answers,
                                                 size_t n, bool errors_only);

// Phase 2: the listing of trace `summary` from its spans gathered from
// every node (ArrangeTrace's). With no spans (dropped meanwhile) the
// summary's own figures, root "-".
TraceListing ListTrace(const wire::TraceSummary& summary, const std::vector<TreeSpan>& tree);

// `now` is for the AGE column.
std::string FormatTraceList(const std::vector<TraceListing>& traces, bool json, absl::Time now);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_TRACE_VIEW_H_
