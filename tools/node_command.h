// tools/node_command.h — `polis node`: a generic node hosting server kinds.
//
// Starts a Node from a NodeConfig, then its root supervisor (registered as
// RootName(config), "root@NAME" by default): the config file's supervision
// tree plus one permanent child per --serve entry, servers made by kind
// (genserver/server_kinds.h; the examples are linked in). Prints one line
//   node NAME listening on ENDPOINT
// to stdout when every server has started (with --metrics, a second one:
//   node NAME serves metrics at http://HOST:PORT/metrics
// the port resolved), then runs until
//   * SIGINT or SIGTERM: the supervision tree is shut down first
//     (Supervisor::ShutdownTree: children in reverse start order, each
//     within its shutdown timeout, Terminate runs), then the node (peers are
//     told); RunNode returns OK (exit code 0);
//   * SIGHUP: with --authorized-keys, the file is read again and, if it
//     parses, replaces the keys in use (bus::ReloadAuthorizedKeys: the next
//     handshake and the next message of every open connection are checked
//     against it; a removed key's calls get PERMISSION_DENIED). One line on
//     stderr: "node NAME: authorized keys reloaded: N keys (+A -R)", or
//     "node NAME: error: authorized keys not reloaded (keeping the N in
//     use): FILE:LINE: why". Without keys, a line saying there is nothing
//     to reload. The node keeps running either way;
//   * the root supervisor ends by itself: a failure — its restart intensity
//     exceeded, which is as far as escalation goes — is returned as ABORTED
//     "node NAME: root supervisor 'R' failed: <its reason>" (exit code 1),
//     after the node is shut down; a normal stop (a `shutdown` call to the
//     root) shuts the node down and returns OK.
// See tools/node_root.h for how the end of the root is observed.
// With a trace file or an OTLP endpoint in the config, a SpanExporter
// (telemetry/span_exporter.h) exports the node's spans from right after the
// node is created; it is stopped (a last read of the store, a bounded
// flush) after the supervision tree and before the node shuts down, and
// one line on stderr says what it exported and dropped.
//
// Thread-safety: RunNode blocks SIGINT/SIGTERM/SIGHUP in the calling thread
// (and so in every thread the node starts) and waits for them on a thread of
// its own with sigwait; call it once, from main, before starting other threads.
//
// Example:
//   NodeConfig c; c.set_name("a"); c.set_listen("tcp://127.0.0.1:*");
//   c.add_serve()->set_kind("counter");
//   return RunNode(c).ok() ? 0 : 1;
#ifndef POLIS_TOOLS_NODE_COMMAND_H_
#define POLIS_TOOLS_NODE_COMMAND_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/node.h"
#include "telemetry/metrics_server.h"
#include "telemetry/span_exporter.h"
#include "tools/node_config.pb.h"
#include "tools/node_root.h"

namespace polis::tools {

// A node whose root supervisor has started.
struct StartedNode {
  std::unique_ptr<Node> node;
  // The node's CURVE settings (null without --key): SIGHUP reloads its
  // authorized keys.
  std::shared_ptr<bus::CurveSecurity> curve;
  std::string root;                // Registered name of the root supervisor.
  std::shared_ptr<NodeStop> stop;  // Gets the root's end (RootEnded).
  // Reads `node`'s spans (null if none are exported). Last, so that it is
  // stopped before the node is destroyed.
  std::unique_ptr<telemetry::SpanExporter> exporter;
  // Serves the node's metrics (config.metrics()); null without. Declared
  // after `node`: destroyed first.
  std::unique_ptr<telemetry::MetricsServer> metrics;
};

// The span exporter `config` asks for (trace_file, otlp_endpoint), not yet
// started; nullptr if it asks for neither. Errors: a trace file that cannot
// be opened ("cannot open trace file PATH: ...": NOT_FOUND,
// PERMISSION_DENIED, FAILED_PRECONDITION for a directory), a bad endpoint
// (INVALID_ARGUMENT). `polis node` makes it before anything else starts, so
// these are usage errors (exit code 2).
absl::StatusOr<std::unique_ptr<telemetry::SpanExporter>> CreateSpanExporter(
    const NodeConfig& config);

// Creates the node and starts its root supervisor with every child.
// Errors: the node's (bad endpoint: INVALID_ARGUMENT / UNAVAILABLE), a bad
// tree (INVALID_ARGUMENT, see RootSupervisorSpec), a child whose start
// failed or whose name is taken (ALREADY_EXISTS) — the message names the
// root and the child. Joins the seeds first (a seed that does not answer
// within 5 s is a warning on stderr, not an error). `exporter` (may be
// null) is started on the node as soon as it exists. With config.metrics(),
// serves the node's metrics from before the root starts (UNAVAILABLE if
// that address cannot be bound).
absl::StatusOr<StartedNode> StartNode(const NodeConfig& config,
                                      std::unique_ptr<telemetry::SpanExporter> exporter = nullptr);

// Reloads `config.authorized_keys_file()` into `curve` (SIGHUP) and says on
// stderr what happened (see above). `curve` may be null (no keys).
void ReloadKeysOnSignal(const NodeConfig& config, const std::string& node_name,
                        bus::CurveSecurity* curve);

// StartNode, print the ready line, wait for a stop signal or the end of the
// root supervisor, stop the tree, the exporter and the node (see above).
absl::Status RunNode(const NodeConfig& config,
                     std::unique_ptr<telemetry::SpanExporter> exporter = nullptr);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_NODE_COMMAND_H_
