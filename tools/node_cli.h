// tools/node_cli.h — the command line of the node runner: `polis node`
// and polis::NodeMain (tools/node_main.h) are this one implementation.
//
// RunNodeCommand parses the flags of `polis node` (tools/node_config.h:
// ApplyNodeFlags), reads --config, loads --load plugins
// (tools/plugin_loader.h), checks every kind the node would start, then
// runs the node (tools/node_command.h: RunNode) until a stop signal or the
// end of its root supervisor. Exit codes: 0 stopped cleanly (or --help);
// 1 the node failed (its root supervisor, a start error: "CODE: message"
// on stderr); 2 usage error, bad config file, unknown kind, bad plugin.
//
// Thread-safety: call once, from main, before other threads start (RunNode
// blocks SIGINT/SIGTERM/SIGHUP for every thread it starts).
//
// Example:
//   std::vector<std::string> args = {"--name=a", "--serve=counter"};
//   return RunNodeCommand("polis node", args);
#ifndef POLIS_TOOLS_NODE_CLI_H_
#define POLIS_TOOLS_NODE_CLI_H_

#include <string>
#include <vector>

namespace polis::tools {

// The usage text of the node runner invoked as `program` ("polis node", or
// a user's binary), one entry of polis's usage text.
std::string NodeUsage(const std::string& program);

// Runs the node runner with `args` (the flags, without the program name);
// returns the exit code. `program` names it in the usage text.
int RunNodeCommand(const std::string& program, const std::vector<std::string>& args);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_NODE_CLI_H_
