// tools/node_command.h — `polis node`: a generic node hosting server kinds.
//
// Starts a Node from a NodeConfig, spawns the configured servers by kind
// (genserver/server_kinds.h; the examples are linked in), prints one line
//   node NAME listening on ENDPOINT
// to stdout when ready, and runs until SIGINT or SIGTERM, then shuts the
// node down cleanly (every server's Terminate runs, peers are told).
//
// Thread-safety: RunNode blocks SIGINT/SIGTERM in the calling thread (and
// so in every thread the node starts) and waits for them with sigwait; call
// it once, from main, before starting other threads.
//
// Example:
//   NodeConfig c; c.set_name("a"); c.set_listen("tcp://127.0.0.1:*");
//   c.add_serve()->set_kind("counter");
//   return RunNode(c).ok() ? 0 : 1;
#ifndef POLIS_TOOLS_NODE_COMMAND_H_
#define POLIS_TOOLS_NODE_COMMAND_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/node.h"
#include "tools/node_config.pb.h"

namespace polis::tools {

// Creates the node and starts every server of config.serve, in order.
// Errors: the node's (bad endpoint: INVALID_ARGUMENT / UNAVAILABLE), an
// unknown kind (NOT_FOUND), bad args, a name taken (ALREADY_EXISTS) — the
// message names the failing entry. Joins the seeds first (a seed that does
// not answer within 5 s is a warning on stderr, not an error).
absl::StatusOr<std::unique_ptr<Node>> StartNode(const NodeConfig& config);

// StartNode, print the ready line, wait for SIGINT/SIGTERM, Shutdown.
absl::Status RunNode(const NodeConfig& config);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_NODE_COMMAND_H_
