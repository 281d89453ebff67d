// tools/trace_command.h — `polis trace`: a trace's spans from every node
// of the cluster, printed as a waterfall or JSON (tools/trace_view.h), or
// the most recent traces across the cluster (`--last=N`).
//
// Joins as a short-lived client node (JoinAsClient) through the seed, then
// asks every member in the client's view at once, one thread per node,
// with Node::QuerySpans (a wire::SpanQuery, proto/polis/trace.proto):
//   TRACE_ID   every span of that trace each node holds; merged into one
//              tree.
//   --last=N   phase 1: each node's summaries of its N most recent traces
//              (only those with an error span with --errors), merged by
//              trace id, the N that ended last kept; phase 2: every span
//              of those N from every node, for the root server and the
//              exact span counts.
// A node that does not answer within the timeout is left out and named in
// CommandOutput::err ("polis trace: node c did not answer: ..."), and so
// is one that held more spans than it sent (SpanQueryReply.truncated).
//
// Thread-safety: RunTrace is thread-safe (each run has its own node);
// CollectAnswers is pure.
//
// Example:
//   TraceCommand c{.seed = "tcp://127.0.0.1:7101",
//                  .trace_id = *TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736")};
//   absl::StatusOr<CommandOutput> out = RunTrace(c);   // the waterfall
#ifndef POLIS_TOOLS_TRACE_COMMAND_H_
#define POLIS_TOOLS_TRACE_COMMAND_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/trace_context.h"
#include "polis/trace.pb.h"
#include "tools/cluster_commands.h"

namespace polis::tools {

struct TraceCommand {
  std::string seed;                           // Endpoint of any node.
  absl::Duration timeout = absl::Seconds(5);  // For the whole command.
  bool json = false;
  TraceId trace_id;          // The trace to show (when `last` is 0).
  uint32_t last = 0;         // > 0: list this many recent traces instead.
  bool errors_only = false;  // With `last`: only traces with an error span.
};

// Errors (the command then exits 1): UNAVAILABLE if the seed does not
// answer within the timeout; NOT_FOUND if no node that answered holds a
// span of the trace (never sampled, spans dropped from the nodes' bounded
// stores, or the id is wrong); the first node's error if none answered.
// An empty --last listing is not an error.
absl::StatusOr<CommandOutput> RunTrace(const TraceCommand& command);

// What every node said, by node name.
using SpanAnswers = std::vector<std::pair<std::string, absl::StatusOr<wire::SpanQueryReply>>>;

// The answers that came, in node order; a note in *err for each node that
// did not answer or truncated its answer. The first error (UNAVAILABLE if
// there were no nodes to ask) if none answered. Exposed for tests.
absl::StatusOr<std::vector<wire::SpanQueryReply>> CollectAnswers(SpanAnswers answers,
                                                                 std::string* err);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_TRACE_COMMAND_H_
