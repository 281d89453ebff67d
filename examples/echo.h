// examples/echo.h — the `echo` server: every call is answered with itself.
//
// Accepts a call of any protobuf type and replies with the same message
// (same type, same bytes). It declares google.protobuf.Struct as its call
// type, so that tools turn arbitrary JSON objects into a request:
//   polis call --seed=... echo '{"hello": "world"}'  ->  {"hello":"world"}
// Casts and info of any type are accepted and dropped. Registered as server
// kind "echo"; takes no args.
//
// Thread-safety: a GenServer; stateless.
//
// Example:
//   node->Spawn(std::make_unique<polis::examples::Echo>(), {.name = "echo"});
//   google::protobuf::StringValue s; s.set_value("hi");
//   node->Call<google::protobuf::StringValue>("echo", s);   // "hi"
#ifndef POLIS_EXAMPLES_ECHO_H_
#define POLIS_EXAMPLES_ECHO_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "genserver/genserver.h"

namespace polis::examples {

class Echo : public GenServer {
 public:
  Echo();

  Task<absl::StatusOr<Reply>> HandleCall(const Message& request, const From& from) override;
  Task<absl::Status> HandleCast(const Message& message) override;
  Task<absl::Status> HandleInfo(const Message& message) override;
};

}  // namespace polis::examples

#endif  // POLIS_EXAMPLES_ECHO_H_
