// tools/client_command.h — `polis call`, `polis cast` and `polis send`.
//
// Joins a cluster as a short-lived client node, asks the named server for
// its description (types + .proto files), turns the JSON argument into a
// request of the declared type it fits (tools/request_choice.h), sends it,
// and for a call returns the reply as JSON.
//
// Every request is part of a trace (base/trace_context.h): the one a
// `--traceparent` names (its calls are children of that parent span), or
// a new one (Node::StartTrace, sampled by the client node: always). The
// request is sent under a ScopedTrace, so the spans it causes on every node
// carry that trace id, and the command prints it:
//   stderr  "trace_id=<32 hex digits>" as its last line (after the
//           "CODE: message" line of an error, which stays the first);
//   --json  stdout is one object: {"reply":<reply>,"trace_id":"..."} for a
//           call, {"trace_id":"..."} for a cast or send, and on an error
//           {"error":{"code":"NOT_FOUND","message":"..."},"trace_id":"..."}.
// Without --json stdout is as before: the reply's JSON for a call, nothing
// for a cast or send or on an error. A request that failed before a trace
// was chosen (no seed answered, without --traceparent) prints no trace id
// ("trace_id" null in JSON).
//
// Thread-safety: RunClient is thread-safe (each run has its own node);
// FormatClientResult is pure.
//
// Example:
//   ClientRequest r{.kind = wire::KIND_CALL, .seed = "tcp://127.0.0.1:7101",
//                   .name = "counter", .json = R"({"add": 5})"};
//   ClientResult res = RunClient(r);   // res.reply_json == {"value":"5"}
//   ClientOutput out = FormatClientResult(r, res);
//   std::cout << out.out; std::cerr << out.err;   // trace_id=4bf9...
#ifndef POLIS_TOOLS_CLIENT_COMMAND_H_
#define POLIS_TOOLS_CLIENT_COMMAND_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/trace_context.h"
#include "node/node.h"
#include "polis/envelope.pb.h"

namespace polis::tools {

struct ClientRequest {
  wire::Kind kind = wire::KIND_CALL;  // KIND_CALL, KIND_CAST or KIND_INFO.
  std::string seed;                   // Endpoint of any node of the cluster.
  std::string name;                   // Registered name of the server.
  std::string json;                   // The request, in the protobuf JSON mapping.
  // Request type (--type); "" = the declared one the JSON fits (request_choice.h).
  std::string type;
  absl::Duration timeout = absl::Seconds(5);  // For the whole command.
  // The trace to continue (a parsed --traceparent); none = a new trace.
  std::optional<TraceContext> trace;
  bool json_output = false;  // --json: FormatClientResult prints one JSON object.
};

struct ClientResult {
  // The request's outcome. Errors: UNAVAILABLE if the seed does not answer
  // within the timeout; NOT_FOUND if no server has the name;
  // INVALID_ARGUMENT for bad JSON, an unknown field, a type the server
  // does not declare, JSON that fits several or none of the declared
  // types (request_choice.h); DEADLINE_EXCEEDED; and the server's own
  // errors, with their messages.
  absl::Status status;
  std::string reply_json;  // A call's reply as JSON ("{}" for an empty one).
  std::string trace_id;    // 32 hex digits; "" if no trace was chosen.
};

// Runs one request (never throws; every failure is in the result).
ClientResult RunClient(const ClientRequest& request);

// What a client command prints, and its exit code (0, or 1 for a failed
// request).
struct ClientOutput {
  std::string out;  // stdout
  std::string err;  // stderr
  int exit_code = 0;
};
ClientOutput FormatClientResult(const ClientRequest& request, const ClientResult& result);

// Time left until `deadline`, at least 1 ms (a timeout argument).
absl::Duration Remaining(absl::Time deadline);

// What every client command starts with: a client node ("polis-cli-PID",
// one scheduler thread) seeded by `seed`, once it has the seed's view.
// UNAVAILABLE if the seed did not answer by `deadline`; Node::Create's
// errors (e.g. INVALID_ARGUMENT for a bad seed).
// With CURVE keys set by UseClientKeys, the client node connects with them.
absl::StatusOr<std::unique_ptr<Node>> JoinAsClient(const std::string& seed, absl::Time deadline);

// Client commands' keys (--key=NAME.key, the client's secret key file;
// --server-key=NAME.pub|Z85, the seed's public key, or the seed written as
// ENDPOINT@KEY): from then on JoinAsClient connects with CurveZMQ. Returns
// the seed's endpoint (without @KEY). INVALID_ARGUMENT for a key without
// the other half; the key files' own errors (curve_keys.h: NOT_FOUND,
// FAILED_PRECONDITION for a secret readable by others, INVALID_ARGUMENT).
absl::StatusOr<std::string> UseClientKeys(const std::string& seed, const std::string& key_file,
                                          const std::string& server_key);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_CLIENT_COMMAND_H_
