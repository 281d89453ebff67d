// tools/cluster_commands.h — seeing the cluster: `polis nodes`, `polis ps`
// and `polis describe`.
//
//   nodes     every member (through the seed, tools/cluster_view.h): NODE
//             ENDPOINT INCARNATION STATE UPTIME SERVERS LAST_HEARD, and an
//             ERROR column when a node did not answer. STATE and LAST_HEARD
//             are the seed's view; the rest is each node's own answer.
//   ps        every registered name cluster-wide: NAME NODE PID KIND MAILBOX
//             RESTARTS (`all`: unregistered processes too, NAME "-").
//   describe  one server: its kind, node, pid, accepted call/cast/info
//             types and their .proto definitions (as grpcurl describe);
//             one CALL row per request type: "REQ -> REPLY | REPLY".
//
// JSON (`json`), one object, keys in a fixed order, rows sorted:
//   nodes:    {"nodes":[{"name","endpoint","incarnation","state","seed",
//              "uptime_ms","servers","names","last_heard_ms",
//              "clock_offset_ms","error"}]}
//             incarnation is a decimal string (a uint64 does not fit a
//             JSON number's exact range), null if unknown (a former member
//             the seed lists as "down"); uptime_ms and servers are null
//             and error a "CODE: message" string for a node that did not
//             answer (else error is null); last_heard_ms is -1 for the
//             seed itself or a member never heard.
//   ps:       {"names":[{"name","node","pid","kind","mailbox","restarts","dropped"}],
//              "unreachable":[{"node","error"}]}   pid is a number.
//   describe: the wire::ServerDescription in the protobuf JSON mapping
//             (field names as in envelope.proto, file_descriptor_set left
//             out; "calls" gives each request type with its
//             "reply_types"), plus "node", "pid" and "definitions": {TYPE:
//             ".proto text of TYPE"} for every request, reply, cast and
//             info type.
// Rows are sorted: nodes by name; names by name, node, pid. MAILBOX is
// approximate (read without locks).
//
// Thread-safety: every function is thread-safe (each run has its own node).
//
// Example:
//   ClusterCommand c{.seed = "tcp://127.0.0.1:7101", .json = true};
//   absl::StatusOr<CommandOutput> out = RunNodes(c);   // {"nodes":[...]}
#ifndef POLIS_TOOLS_CLUSTER_COMMANDS_H_
#define POLIS_TOOLS_CLUSTER_COMMANDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/message.h"
#include "polis/envelope.pb.h"
#include "tools/cluster_view.h"

namespace polis::tools {

struct ClusterCommand {
  std::string seed;                           // Endpoint of any node.
  absl::Duration timeout = absl::Seconds(5);  // For the whole command.
  bool json = false;
  bool all = false;  // ps: unregistered processes too.
  std::string name;  // describe: the server's registered name.
};

// What a command prints: `out` to stdout; `err` (notes, e.g. nodes that did
// not answer `polis ps`) to stderr. Neither makes the command fail.
struct CommandOutput {
  std::string out;
  std::string err;
};

// Errors (the command then exits 1): UNAVAILABLE if the seed does not
// answer within the timeout; describe: NOT_FOUND for an unknown name,
// DEADLINE_EXCEEDED, INVALID_ARGUMENT if the server's .proto files do not
// build.
absl::StatusOr<CommandOutput> RunNodes(const ClusterCommand& command);
absl::StatusOr<CommandOutput> RunPs(const ClusterCommand& command);
absl::StatusOr<CommandOutput> RunDescribe(const ClusterCommand& command);

// The printing steps, without sockets (for tests). `now` is for uptimes.
CommandOutput FormatNodes(const ClusterView& view, bool json, absl::Time now);
CommandOutput FormatPs(const ClusterView& view, bool json, bool all);
// `d` (the server `pid` runs) as `polis describe` prints it. INVALID_ARGUMENT
// if its .proto files do not build.
absl::StatusOr<CommandOutput> FormatDescribe(const wire::ServerDescription& d, const Pid& pid,
                                             bool json);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_CLUSTER_COMMANDS_H_
