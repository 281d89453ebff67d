// tools/main.cc — the `polis` command: run nodes, talk to servers, benchmark.
//
//   polis node  --name=NAME --listen=EP [--seed=EP,...] [--serve=KIND[:NAME],...]
//               [--root=NAME] [--threads=N] [--config=FILE]
//               [--trace-file=PATH] [--otlp-endpoint=http://HOST:PORT] [--metrics=HOST:PORT]
//               [--load=PLUGIN.so,...]   (tools/node_cli.h; the same as polis::NodeMain)
//   polis call  --seed=EP [--timeout=5s] [--type=FULL.NAME] [--traceparent=TP] [--json]
//               NAME 'JSON'
//   polis cast  ... (same; no reply)      polis send ... (info; no reply)
//   polis nodes --seed=EP [--json] [--timeout=5s]
//   polis ps    --seed=EP [--json] [--all] [--timeout=5s]
//   polis describe --seed=EP [--json] [--timeout=5s] NAME
//   polis trace --seed=EP [--json] [--timeout=5s] TRACE_ID
//   polis trace --seed=EP [--json] [--timeout=5s] --last=N [--errors]
//   polis bench local [--json]    polis bench remote [--json]    polis bench scale [--json]
//
// Exit codes: 0 success; 1 the request failed (stderr: "CODE: message"),
// or a node's root supervisor failed; 2 usage error or bad config file.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "bus/curve_keys.h"
#include "absl/status/status.h"
#include "tools/args.h"
#include "tools/bench.h"
#include "tools/client_command.h"
#include "tools/cluster_commands.h"
#include "tools/malloc_tuning.h"
#include "tools/node_cli.h"
#include "tools/trace_command.h"

namespace polis::tools {
namespace {

// Everything but `polis node`'s part (tools/node_cli.h: NodeUsage).
constexpr char kClientUsage[] =
    R"(  polis call --seed=ENDPOINT [--timeout=DURATION] [--type=FULL.NAME]
             [--traceparent=00-TRACE-PARENT-FLAGS] [--json] NAME 'JSON'
      Calls the server registered as NAME anywhere in the cluster; prints
      the reply as JSON. Durations: 500ms, 5s, 1m (default 5s). The JSON
      becomes the request type --type names; without it, the server's one
      declared type, or of several the one type whose fields accept the
      JSON: JSON that several accept ('{}' always does) or none accepts is
      refused (exit 1, INVALID_ARGUMENT naming the types; pick with --type).
      A server that accepts any type (e.g. echo) gets its first declared
      type unless --type names another. The call starts a new trace, or
      continues the W3C traceparent given; its id is printed on stderr as
      trace_id=<32 hex digits> (see polis trace).
      --json: stdout is one object {"reply": REPLY, "trace_id": "..."}
      ({"error": {"code", "message"}, "trace_id"} if it failed).
      Every client command takes --key=NAME.key (this client's secret key)
      and --server-key=NAME.pub (the seed node's key; or --seed=EP@NAME.pub)
      to reach nodes that run with keys.
  polis cast ...   same arguments; casts, prints nothing ({"trace_id"} with --json).
  polis send ...   same arguments; sends an info message, prints nothing.
  polis keygen --out=DIR/NAME
      Writes a CURVE keypair: DIR/NAME.pub (public, share it) and
      DIR/NAME.key (secret, mode 0600). Never overwrites (exit 1).
  polis nodes --seed=ENDPOINT [--json] [--timeout=DURATION]
      Every member: NODE ENDPOINT INCARNATION STATE UPTIME SERVERS LAST_HEARD
      (STATE, LAST_HEARD as the seed sees it; ERROR for a node that did not
      answer within --timeout). --json: {"nodes":[{"name","endpoint",
      "incarnation" (decimal string),"state","seed","uptime_ms","servers",
      "names","last_heard_ms","clock_offset_ms","error"}]}.
  polis ps --seed=ENDPOINT [--json] [--all] [--timeout=DURATION]
      Every registered name: NAME NODE PID KIND MAILBOX RESTARTS (--all:
      unregistered processes too). --json: {"names":[{"name","node","pid",
      "kind","mailbox","restarts","dropped"}],"unreachable":[{"node","error"}]}.
  polis describe --seed=ENDPOINT [--json] [--timeout=DURATION] NAME
      The server's kind, node, pid, accepted types and their .proto
      definitions. --json: its ServerDescription plus "node", "pid" and
      "definitions": {TYPE: PROTO_TEXT}.
  polis trace --seed=ENDPOINT [--json] [--timeout=DURATION] TRACE_ID
      Every span of the trace, from every node, as a tree: server and node,
      kind (call, cast, info, timer, reply: the caller's side of a call),
      start offset, duration with a bar, status. --json: {"trace_id",
      "spans":[{"span_id","parent_span_id","node","server","kind",
      "start_unix_nano","end_unix_nano" (decimal strings),"status_code",
      "status_message"}]}. Exit 1 (NOT_FOUND) if no node holds the trace.
  polis trace --seed=ENDPOINT [--json] [--timeout=DURATION] --last=N [--errors]
      The N most recent traces across the cluster: TRACE_ID ROOT NODE SPANS
      DURATION AGE STATUS; --errors: only those with a failed span. --json:
      {"traces":[{"trace_id","root_server","root_node","span_count",
      "start_unix_nano","end_unix_nano","error","status_code"}]}.
      A node that does not answer is named on stderr; the rest is printed.
  polis bench local [--json] [--only=local_call|external_call|local_cast|local_call_traced|spawn]
  polis bench remote [--json] [--only=remote_call|remote_cast|remote_call_pipelined]
  polis bench scale [--json] [--only=size|pairs|callers|idle]
      Benchmarks (see issues 2, 3 and 18); one JSON object per line with --json.
Exit codes: 0 ok, 1 request failed ("CODE: message" on stderr) or the node's
root supervisor failed, 2 usage error or bad config file.
)";

std::string Usage() { return "usage:\n" + NodeUsage("polis node") + kClientUsage; }

int UsageError(const std::string& message) {
  std::cerr << "INVALID_ARGUMENT: " << message << "\n\n" << Usage();
  return 2;
}

int Fail(const absl::Status& status) {
  std::cerr << absl::StatusCodeToString(status.code()) << ": " << status.message() << std::endl;
  return 1;
}

int KeygenMain(const std::vector<std::string>& argv) {
  absl::StatusOr<ParsedArgs> args = ParseArgs(argv, {{"out", FlagKind::kValue}});
  if (!args.ok()) return UsageError(std::string(args.status().message()));
  if (!args->Has("out") || args->Get("out").empty() || !args->positional.empty()) {
    return UsageError("polis keygen --out=DIR/NAME");
  }
  absl::StatusOr<bus::CurveKeyPair> keys = bus::GenerateCurveKeyPair();
  if (!keys.ok()) return Fail(keys.status());
  if (absl::Status s = bus::WriteCurveKeyFiles(args->Get("out"), *keys); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  std::cout << args->Get("out") << ".pub " << keys->public_key << "\n"
            << args->Get("out") << ".key (secret, mode 0600)\n";
  return 0;
}

// The seed of a client command, its CURVE keys applied (UseClientKeys).
absl::StatusOr<std::string> ClientSeed(const ParsedArgs& args) {
  return UseClientKeys(args.Get("seed"), args.Get("key"), args.Get("server-key"));
}

int ClientMain(wire::Kind kind, const std::vector<std::string>& argv) {
  absl::StatusOr<ParsedArgs> args = ParseArgs(argv, {{"seed", FlagKind::kValue},
                                                     {"key", FlagKind::kValue},
                                                     {"server-key", FlagKind::kValue},
                                                     {"timeout", FlagKind::kValue},
                                                     {"type", FlagKind::kValue},
                                                     {"traceparent", FlagKind::kValue},
                                                     {"json", FlagKind::kBool}});
  if (!args.ok()) return UsageError(std::string(args.status().message()));
  if (!args->Has("seed")) return UsageError("--seed=ENDPOINT is required");
  if (args->positional.size() != 2) return UsageError("expected NAME and 'JSON'");
  absl::StatusOr<std::string> seed = ClientSeed(*args);
  if (!seed.ok()) return UsageError(std::string(seed.status().message()));
  ClientRequest request{.kind = kind,
                        .seed = *seed,
                        .name = args->positional[0],
                        .json = args->positional[1],
                        .type = args->Get("type"),
                        .json_output = args->Has("json")};
  if (args->Has("timeout")) {
    absl::StatusOr<absl::Duration> timeout = ParseTimeout(args->Get("timeout"));
    if (!timeout.ok()) return UsageError(std::string(timeout.status().message()));
    request.timeout = *timeout;
  }
  if (args->Has("traceparent")) {
    absl::StatusOr<TraceContext> trace = ParseTraceparent(args->Get("traceparent"));
    if (!trace.ok()) return UsageError("--traceparent: " + std::string(trace.status().message()));
    request.trace = *trace;
  }
  const ClientOutput out = FormatClientResult(request, RunClient(request));
  std::cout << out.out << std::flush;
  std::cerr << out.err << std::flush;
  return out.exit_code;
}

// nodes, ps, describe: `positionals` names what the command takes.
int ClusterMain(const std::string& command, const std::vector<std::string>& argv) {
  std::map<std::string, FlagKind> flags = {
      {"seed", FlagKind::kValue}, {"timeout", FlagKind::kValue}, {"json", FlagKind::kBool},
      {"key", FlagKind::kValue},  {"server-key", FlagKind::kValue}};
  if (command == "ps") flags["all"] = FlagKind::kBool;
  absl::StatusOr<ParsedArgs> args = ParseArgs(argv, flags);
  if (!args.ok()) return UsageError(std::string(args.status().message()));
  if (!args->Has("seed")) return UsageError("--seed=ENDPOINT is required");
  absl::StatusOr<std::string> seed = ClientSeed(*args);
  if (!seed.ok()) return UsageError(std::string(seed.status().message()));
  ClusterCommand c{.seed = *seed, .json = args->Has("json"), .all = args->Has("all")};
  if (command == "describe") {
    if (args->positional.size() != 1) {
      return UsageError("polis describe takes one NAME (the server's registered name)");
    }
    c.name = args->positional[0];
  } else if (!args->positional.empty()) {
    return UsageError("polis " + command + " takes no positional arguments (got \"" +
                      args->positional[0] + "\")");
  }
  if (args->Has("timeout")) {
    absl::StatusOr<absl::Duration> timeout = ParseTimeout(args->Get("timeout"));
    if (!timeout.ok()) return UsageError(std::string(timeout.status().message()));
    c.timeout = *timeout;
  }
  absl::StatusOr<CommandOutput> out =
      command == "nodes" ? RunNodes(c) : command == "ps" ? RunPs(c) : RunDescribe(c);
  if (!out.ok()) return Fail(out.status());
  std::cout << out->out << std::flush;
  std::cerr << out->err << std::flush;
  return 0;
}

int TraceMain(const std::vector<std::string>& argv) {
  absl::StatusOr<ParsedArgs> args = ParseArgs(argv, {{"seed", FlagKind::kValue},
                                                     {"key", FlagKind::kValue},
                                                     {"server-key", FlagKind::kValue},
                                                     {"timeout", FlagKind::kValue},
                                                     {"json", FlagKind::kBool},
                                                     {"last", FlagKind::kValue},
                                                     {"errors", FlagKind::kBool}});
  if (!args.ok()) return UsageError(std::string(args.status().message()));
  if (!args->Has("seed")) return UsageError("--seed=ENDPOINT is required");
  absl::StatusOr<std::string> seed = ClientSeed(*args);
  if (!seed.ok()) return UsageError(std::string(seed.status().message()));
  TraceCommand c{.seed = *seed,
                 .json = args->Has("json"),
                 .errors_only = args->Has("errors")};
  if (args->Has("timeout")) {
    absl::StatusOr<absl::Duration> timeout = ParseTimeout(args->Get("timeout"));
    if (!timeout.ok()) return UsageError(std::string(timeout.status().message()));
    c.timeout = *timeout;
  }
  if (args->Has("last")) {
    absl::StatusOr<int> last = ParsePositiveInt("--last", args->Get("last"));
    if (!last.ok()) return UsageError(std::string(last.status().message()));
    if (!args->positional.empty()) return UsageError("polis trace takes a TRACE_ID or --last=N, not both");
    c.last = static_cast<uint32_t>(*last);
  } else {
    if (c.errors_only) return UsageError("--errors goes with --last=N");
    if (args->positional.size() != 1) {
      return UsageError("polis trace takes one TRACE_ID (32 hex digits), or --last=N");
    }
    absl::StatusOr<TraceId> id = TraceId::FromHex(args->positional[0]);
    if (!id.ok()) {
      return UsageError("bad TRACE_ID \"" + args->positional[0] + "\": " +
                        std::string(id.status().message()));
    }
    c.trace_id = *id;
  }
  absl::StatusOr<CommandOutput> out = RunTrace(c);
  if (!out.ok()) return Fail(out.status());
  std::cout << out->out << std::flush;
  std::cerr << out->err << std::flush;
  return 0;
}

int BenchMain(const std::vector<std::string>& argv) {
  absl::StatusOr<ParsedArgs> args =
      ParseArgs(argv, {{"json", FlagKind::kBool}, {"only", FlagKind::kValue}});
  if (!args.ok()) return UsageError(std::string(args.status().message()));
  if (args->positional.size() != 1) {
    return UsageError("expected: polis bench local|remote|scale");
  }
  const std::string& which = args->positional[0];
  const std::string only = args->Get("only", "");
  absl::Status checked = which == "scale"   ? CheckScaleCurveName(only)
                         : which == "local" ? CheckLocalBenchName(only)
                                            : CheckRemoteBenchName(only);
  if (!checked.ok()) return UsageError(std::string(checked.message()));
  const bool json = args->Has("json");
  absl::Status s;
  if (which == "local") {
    s = RunLocalBench(json, only);
  } else if (which == "remote") {
    s = RunRemoteBench(json, only);
  } else if (which == "scale") {
    s = RunScaleBench(json, only);
  } else {
    return UsageError("unknown bench \"" + which + "\" (local, remote or scale)");
  }
  return s.ok() ? 0 : Fail(s);
}

int Main(int argc, char** argv) {
  if (argc < 2) return UsageError("missing command");
  const std::string command = argv[1];
  const std::vector<std::string> rest(argv + 2, argv + argc);
  if (command == "node") return RunNodeCommand("polis node", rest);
  if (command == "keygen") return KeygenMain(rest);
  if (command == "call") return ClientMain(wire::KIND_CALL, rest);
  if (command == "cast") return ClientMain(wire::KIND_CAST, rest);
  if (command == "send") return ClientMain(wire::KIND_INFO, rest);
  if (command == "nodes" || command == "ps" || command == "describe") {
    return ClusterMain(command, rest);
  }
  if (command == "trace") return TraceMain(rest);
  if (command == "bench") return BenchMain(rest);
  if (command == kBenchPeerCommand) {
    absl::Status s = RunBenchPeer(rest);
    return s.ok() ? 0 : Fail(s);
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << Usage();
    return 0;
  }
  return UsageError("unknown command \"" + command + "\"");
}

}  // namespace
}  // namespace polis::tools

int main(int argc, char** argv) {
  polis::tools::KeepLargeBuffers();  // before any thread: see tools/malloc_tuning.h
  return polis::tools::Main(argc, argv);
}
