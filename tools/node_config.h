// tools/node_config.h — settings of `polis node`, from a file and flags.
//
// A NodeConfig (tools/node_config.proto) is read from a protobuf text-format
// file, then flags override it. Errors name the file and the line.
//
// Thread-safety: pure functions.
//
// Example:
//   absl::StatusOr<NodeConfig> c = LoadNodeConfig("a.textproto");
//   // INVALID_ARGUMENT: a.textproto:3:7: Expected ":", found "x".
//   absl::Status s = ApplyNodeFlags(args, &*c);
#ifndef POLIS_TOOLS_NODE_CONFIG_H_
#define POLIS_TOOLS_NODE_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/args.h"
#include "tools/node_config.pb.h"

namespace polis::tools {

// Parses text-format `text`; `filename` is used in error messages.
// INVALID_ARGUMENT "FILE:LINE:COLUMN: message" for a syntax error or an
// unknown field.
absl::StatusOr<NodeConfig> ParseNodeConfig(const std::string& text, const std::string& filename);

// Reads and parses `path`. NOT_FOUND if it cannot be read.
absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path);

// "kind" or "kind:name". INVALID_ARGUMENT for an empty kind or name.
absl::StatusOr<ServeSpec> ParseServeSpec(const std::string& text);

// Overrides `config` with the flags of `polis node` present in `args`
// (--name, --listen, --seed, --serve, --threads), then checks the result:
// INVALID_ARGUMENT for a bad value or a missing name.
absl::Status ApplyNodeFlags(const ParsedArgs& args, NodeConfig* config);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_NODE_CONFIG_H_
