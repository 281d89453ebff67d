// tools/client_command.h — `polis call`, `polis cast` and `polis send`.
//
// Joins a cluster as a short-lived client node, asks the named server for
// its description (types + .proto files), turns the JSON argument into a
// request of the declared type, sends it, and for a call returns the reply
// as JSON.
//
// Thread-safety: RunClient is thread-safe (each run has its own node).
//
// Example:
//   ClientRequest r{.kind = wire::KIND_CALL, .seed = "tcp://127.0.0.1:7101",
//                   .name = "counter", .json = R"({"add": 5})"};
//   absl::StatusOr<std::string> out = RunClient(r);   // {"value":"5"}
#ifndef POLIS_TOOLS_CLIENT_COMMAND_H_
#define POLIS_TOOLS_CLIENT_COMMAND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/node.h"
#include "polis/envelope.pb.h"

namespace polis::tools {

struct ClientRequest {
  wire::Kind kind = wire::KIND_CALL;  // KIND_CALL, KIND_CAST or KIND_INFO.
  std::string seed;                   // Endpoint of any node of the cluster.
  std::string name;                   // Registered name of the server.
  std::string json;                   // The request, in the protobuf JSON mapping.
  std::string type;                   // Request type; "" = the server's first declared one.
  absl::Duration timeout = absl::Seconds(5);  // For the whole command.
};

// Runs one request. Returns the reply as JSON for a call, "" for a cast or
// info. Errors: UNAVAILABLE if the seed does not answer within the timeout;
// NOT_FOUND if no server has the name; INVALID_ARGUMENT for bad JSON, an
// unknown field, or a type the server does not declare; DEADLINE_EXCEEDED;
// and the server's own errors, with their messages.
absl::StatusOr<std::string> RunClient(const ClientRequest& request);

// Time left until `deadline`, at least 1 ms (a timeout argument).
absl::Duration Remaining(absl::Time deadline);

// What every client command starts with: a client node ("polis-cli-PID",
// one scheduler thread) seeded by `seed`, once it has the seed's view.
// UNAVAILABLE if the seed did not answer by `deadline`; Node::Create's
// errors (e.g. INVALID_ARGUMENT for a bad seed).
absl::StatusOr<std::unique_ptr<Node>> JoinAsClient(const std::string& seed, absl::Time deadline);

// Which declared type a request uses: `wanted` if the server declares it
// (or if `wanted` is set and the server declares none), else the only or
// first declared type. INVALID_ARGUMENT if there is none or `wanted` is not
// declared (the message lists the declared ones).
absl::StatusOr<std::string> PickRequestType(const wire::ServerDescription& d, wire::Kind kind,
                                            const std::string& wanted);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_CLIENT_COMMAND_H_
