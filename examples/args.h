// examples/args.h — reading the google.protobuf.Struct args of a server kind.
//
// Server kinds receive their configuration as a Struct (from `polis node`
// config files or supervisor child specs). These helpers turn it into typed
// values with clear INVALID_ARGUMENT errors naming the kind and the field.
//
// Thread-safety: pure functions.
//
// Example:
//   POLIS_RETURN_IF_ERROR(CheckKnownArgs("counter", args, {"initial"}));
//   absl::StatusOr<int64_t> initial = IntArg("counter", args, "initial", 0);
#ifndef POLIS_EXAMPLES_ARGS_H_
#define POLIS_EXAMPLES_ARGS_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"

namespace polis::examples {

// INVALID_ARGUMENT if `args` has a field not in `known`.
absl::Status CheckKnownArgs(const std::string& kind, const google::protobuf::Struct& args,
                            std::initializer_list<const char*> known);

// The integer field `name`, or `fallback` if absent. INVALID_ARGUMENT if it
// is not a whole number.
absl::StatusOr<int64_t> IntArg(const std::string& kind, const google::protobuf::Struct& args,
                               const std::string& name, int64_t fallback);

}  // namespace polis::examples

#endif  // POLIS_EXAMPLES_ARGS_H_
