// tools/node_cli.cc — see node_cli.h.
#include "tools/node_cli.h"

#include <iostream>
#include <memory>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tools/args.h"
#include "tools/node_command.h"
#include "tools/malloc_tuning.h"
#include "tools/node_config.h"
#include "tools/node_main.h"
#include "tools/plugin_loader.h"
#include "tools/supervision_config.h"

namespace polis::tools {
namespace {

// After the program name; continuation lines are aligned for "polis node".
constexpr char kNodeUsageBody[] =
    R"(--name=NAME --listen=ENDPOINT [--advertise=ENDPOINT] [--seed=EP,...]
             [--serve=KIND[:NAME],...] [--root=NAME] [--threads=N] [--config=FILE]
             [--failure-timeout=800ms] [--trace-sample=always|never|RATIO]
             [--trace-buffer=SPANS] [--trace-file=PATH]
             [--otlp-endpoint=http://HOST:PORT] [--metrics=HOST:PORT]
             [--key=NAME.key --authorized-keys=FILE] [--server-key=NAME.pub|Z85]
             (CurveZMQ; a seed may carry its key: --seed=ENDPOINT@NAME.pub)
             [--insecure] [--load=PATH[,PATH]]... [--help]
      Runs a node hosting servers of the given kinds until SIGINT/SIGTERM.
      Kinds: those built into this program, and those of the plugins
      --load names (repeatable; also `load` in the config file): shared
      libraries loaded before anything starts (README, "Your own servers").
      A kind no one registered, a plugin that cannot be loaded, is not a
      polis plugin, was built against another polis, or registers no kind
      or a kind already there: exit 2, before the node starts.
      Prints "node NAME listening on ENDPOINT" when ready. Flags override
      the text-format config file (tools/node_config.proto). --advertise is
      the endpoint peers use (required with --listen=tcp://0.0.0.0:PORT).
      --seed=dns:HOST:PORT joins every address HOST resolves to (resolved
      again every 5s). Seeds and former members are greeted again until
      they answer, so the node joins a seed that starts later and rejoins
      after a pause or a partition. A member silent for --failure-timeout
      (default 800ms; the same on every node) is declared down.
      Tracing: --trace-sample decides which traces that start here are
      recorded (default always; a trace sampled where it started is
      recorded on every node); each node keeps the last --trace-buffer
      spans (default 65536) in memory for `polis trace`.
      They are exported in OpenTelemetry's OTLP/JSON:
      --trace-file appends one ExportTraceServiceRequest per line (what the
      Collector's otlpjsonfile receiver reads); --otlp-endpoint POSTs them
      to a collector's http://HOST:PORT/v1/traces (retried with back-off; a
      collector that is down or slow never slows the node: what it cannot
      take is dropped and counted). A file that cannot be opened or an
      endpoint that is not http://HOST:PORT is a usage error.
      Every server runs under a root supervisor registered as --root
      (default root@NAME): the config file's `supervision` tree, then each
      --serve entry as a permanent child; one_for_one, at most 10 restarts
      in 5s, no backoff unless the file says otherwise. A crashed server is
      restarted with fresh state (calls meanwhile: NOT_FOUND). Ask the
      root: polis call --seed=EP root@NAME '{"which_children": {}}'.
      A server's mailbox holds at most 100000 letters (then calls get
      RESOURCE_EXHAUSTED at once, casts are dropped and counted: polis ps
      DROPPED); the config file sets it per server: `serve { kind: "echo"
      max_mailbox: 1000 }` or max_mailbox in a supervision child (0 = no
      bound, at most 1000000000).
      SIGINT/SIGTERM stop the tree (reverse start order), then the node:
      exit 0. SIGHUP reloads --authorized-keys (a file that does not parse
      keeps the keys in use and logs FILE:LINE; a removed key's open
      connections are refused from their next message). If the root itself fails (restart intensity exceeded), the
      node stops and exits 1 ("ABORTED: ... root supervisor ... failed").
      --metrics=HOST:PORT (or [IPV6]:PORT, :PORT for all interfaces; port 0
      picks one) serves Prometheus metrics at http://HOST:PORT/metrics and
      prints "node NAME serves metrics at URL" after the ready line (the
      metric names: WORKSPACE.md, Metrics).
      Security: with --key and --authorized-keys, every connection is
      CurveZMQ (authenticated, encrypted) and only keys in the file get in,
      each with its role (node, client, admin; README, Security). Without
      keys a node listens only on loopback or ipc; --insecure lets it listen
      anywhere unauthenticated (it logs a warning).
)";

// "CODE: message" on stderr; exit code 2 (not the node's failure: bad input).
int BadInput(const absl::Status& status) {
  std::cerr << absl::StatusCodeToString(status.code()) << ": " << status.message() << std::endl;
  return 2;
}

}  // namespace

std::string NodeUsage(const std::string& program) {
  return absl::StrCat("  ", program, " ", kNodeUsageBody);
}

int RunNodeCommand(const std::string& program, const std::vector<std::string>& argv) {
  auto usage_error = [&program](absl::string_view message) {
    std::cerr << "INVALID_ARGUMENT: " << message << "\n\nusage:\n" << NodeUsage(program);
    return 2;
  };
  for (const std::string& arg : argv) {
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h") {
      std::cout << "usage:\n" << NodeUsage(program);
      return 0;
    }
  }
  absl::StatusOr<ParsedArgs> args = ParseArgs(argv, {{"name", FlagKind::kValue},
                                                     {"listen", FlagKind::kValue},
                                                     {"advertise", FlagKind::kValue},
                                                     {"seed", FlagKind::kValue},
                                                     {"serve", FlagKind::kValue},
                                                     {"load", FlagKind::kList},
                                                     {"root", FlagKind::kValue},
                                                     {"threads", FlagKind::kValue},
                                                     {"failure-timeout", FlagKind::kValue},
                                                     {"trace-sample", FlagKind::kValue},
                                                     {"trace-buffer", FlagKind::kValue},
                                                     {"trace-file", FlagKind::kValue},
                                                     {"otlp-endpoint", FlagKind::kValue},
                                                     {"metrics", FlagKind::kValue},
                                                     {"key", FlagKind::kValue},
                                                     {"authorized-keys", FlagKind::kValue},
                                                     {"server-key", FlagKind::kValue},
                                                     {"insecure", FlagKind::kBool},
                                                     {"config", FlagKind::kValue}});
  if (!args.ok()) return usage_error(args.status().message());
  if (!args->positional.empty()) return usage_error(program + " takes no positional arguments");
  // Plugins first: they may define the kinds, and the file's typed_args
  // types, that the config file names.
  if (absl::Status s = LoadServerPlugins(PluginsToLoad(*args)); !s.ok()) return BadInput(s);
  NodeConfig config;
  const std::string config_path = args->Get("config");
  if (args->Has("config")) {
    // The tree is checked below (CheckServerKinds, CheckSupervisionTree).
    absl::StatusOr<NodeConfig> loaded = LoadNodeConfig(config_path, TreeCheck::kLater);
    if (!loaded.ok()) return BadInput(loaded.status());
    config = *std::move(loaded);
  }
  if (absl::Status s = ApplyNodeFlags(*args, &config); !s.ok()) return usage_error(s.message());
  if (absl::Status s = CheckServerKinds(config); !s.ok()) return BadInput(s);
  if (config.has_supervision()) {
    std::set<std::string> names;
    const std::string path =
        config_path.empty() ? "supervision" : absl::StrCat(config_path, ": supervision");
    if (absl::Status s = CheckSupervisionTree(config.supervision(), path, &names); !s.ok()) {
      return BadInput(s);
    }
  }
  if (absl::Status s = RootSupervisorSpec(config).status(); !s.ok()) return BadInput(s);
  // Made (the trace file opened) before the node starts, and before
  // RunNode blocks the stop signals: it starts no thread until the node runs.
  absl::StatusOr<std::unique_ptr<telemetry::SpanExporter>> exporter = CreateSpanExporter(config);
  if (!exporter.ok()) return BadInput(exporter.status());
  absl::Status s = RunNode(config, *std::move(exporter));
  if (s.ok()) return 0;
  std::cerr << absl::StatusCodeToString(s.code()) << ": " << s.message() << std::endl;
  return 1;
}

}  // namespace polis::tools

namespace polis {

int NodeMain(int argc, char** argv) {
  tools::KeepLargeBuffers();  // before any thread: see tools/malloc_tuning.h
  const std::string program = argc > 0 && argv[0] != nullptr ? argv[0] : "node";
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  return tools::RunNodeCommand(program, args);
}

}  // namespace polis
