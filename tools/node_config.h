// tools/node_config.h — settings of `polis node`, from a file and flags.
//
// A NodeConfig (tools/node_config.proto) is read from a protobuf text-format
// file, then flags override it. Errors name the file and the line, or the
// field of the supervision tree. RootSupervisorSpec turns the result into
// the node's root supervisor: the file's tree plus the `serve` entries.
//
// Thread-safety: pure functions.
//
// Example:
//   absl::StatusOr<NodeConfig> c = LoadNodeConfig("a.textproto");
//   // INVALID_ARGUMENT: a.textproto:3:7: Expected ":", found "x".
//   absl::Status s = ApplyNodeFlags(args, &*c);
//   absl::StatusOr<supervision::SupervisorSpec> root = RootSupervisorSpec(*c);
//   node->Spawn(*Supervisor::Create(*root), {.name = RootName(*c)});
#ifndef POLIS_TOOLS_NODE_CONFIG_H_
#define POLIS_TOOLS_NODE_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "polis/supervisor.pb.h"
#include "tools/args.h"
#include "tools/node_config.pb.h"

namespace polis::tools {

// Parses text-format `text`; `filename` is used in error messages.
// INVALID_ARGUMENT "FILE:LINE:COLUMN: message" for a syntax error or an
// unknown field (an unknown enum value such as `strategy: BOGUS` too), with
// "field NAME: " before the message for a bad value ("FILE:2:38: field
// max_mailbox: Expected integer, got: 1.5"); INVALID_ARGUMENT
// "FILE: serve[1] (kind 'echo'): max_mailbox must be in [0, 1000000000]..."
// for a serve entry's bound out of range;
// INVALID_ARGUMENT "FILE: supervision.children[0] (id 'x'): message" for a
// supervision tree that cannot start (see CheckSupervisionTree).
// With TreeCheck::kLater the supervision tree is not checked here: its
// kinds may come from plugins the config itself loads (`load`); the caller
// checks it (CheckServerKinds, then CheckSupervisionTree) once they are in.
enum class TreeCheck { kNow, kLater };
absl::StatusOr<NodeConfig> ParseNodeConfig(const std::string& text, const std::string& filename,
                                           TreeCheck tree = TreeCheck::kNow);

// Reads and parses `path`. NOT_FOUND if it cannot be read.
absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path,
                                          TreeCheck tree = TreeCheck::kNow);

// The plugins a `polis node` command line loads, in the order
// ApplyNodeFlags leaves them in config.load(): the --config file's `load`
// entries, then --load's, each once. Called before the file is parsed for
// real: its `typed_args` may use a message type only such a plugin defines,
// so this read of the file skips any Any whose type is not (yet) known.
// Without the file's entries if it cannot be read or parsed even so (the
// strict LoadNodeConfig that follows says why).
std::vector<std::string> PluginsToLoad(const ParsedArgs& args);

// OK if every kind `config` names (serve entries, the supervision tree and
// its nested supervisors, dynamic supervisors' templates) is registered.
// NOT_FOUND otherwise, naming where, the kind, the known ones, and how to
// bring one in (--load, or polis::NodeMain), e.g. `serve accounts:a:
// unknown server kind "accounts" (known: counter, echo, kv); a kind from
// your own code: ...`.
absl::Status CheckServerKinds(const NodeConfig& config);

// "kind" or "kind:name". INVALID_ARGUMENT for an empty kind or name.
absl::StatusOr<ServeSpec> ParseServeSpec(const std::string& text);

// Overrides `config` with the flags of `polis node` present in `args`
// (--name, --listen, --seed, --serve, --load, --threads, --root, --failure-timeout,
// --trace-sample, --trace-buffer, --trace-file, --otlp-endpoint, --metrics;
// an empty --trace-file= or --otlp-endpoint= turns off what the file set),
// then checks the result: INVALID_ARGUMENT for a bad value (an OTLP endpoint
// that is not http://HOST:PORT, a metrics address that is not HOST:PORT) or
// a missing name. The trace file is opened later (CreateSpanExporter). The kinds and names of --serve are checked by
// RootSupervisorSpec (when the node starts).
// "tcp://H:P@KEY" -> {"tcp://H:P", "KEY"}: split at the first '@' after
// "://" (tcp, ipc) or after "dns:". No '@': {seed, ""}.
std::pair<std::string, std::string> SplitSeedKey(const std::string& seed);

absl::Status ApplyNodeFlags(const ParsedArgs& args, NodeConfig* config);

// True if `listen` can only be reached from this host: empty, ipc://, or tcp
// on a loopback address (127.0.0.0/8, ::1, localhost).
bool ListensOnlyLocally(const std::string& listen);

// Defaults of the root supervisor where the config sets none.
inline constexpr int kRootIntensity = 10;
inline constexpr int64_t kRootPeriodMs = 5000;

// The name the root supervisor registers: config.root_name(), or
// "root@" + config.name() (names are cluster-wide; each node needs its own).
std::string RootName(const NodeConfig& config);

// The root supervisor of the node: config.supervision() (policy and
// children), with kRootIntensity / kRootPeriodMs where it sets none, and
// then one permanent child per `serve` entry (id and name: the serve name,
// or its kind), in order. INVALID_ARGUMENT naming the entry if a serve
// entry has an unknown kind or bad args, or its id or name is already used
// by the tree or the root.
absl::StatusOr<supervision::SupervisorSpec> RootSupervisorSpec(const NodeConfig& config);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_NODE_CONFIG_H_
