// genserver/internal/kind_args.h — filling a typed kind's Args message from
// a spec's `typed_args` (google.protobuf.Any) or `args` (google.protobuf.Struct).
//
// The rules (server_kinds.h states them for users): typed_args must hold
// exactly the Args type; a Struct is checked field by field against the
// Args descriptor (unknown field, wrong JSON type, a fraction for an integer
// field, an integer of magnitude >= 2^53 for a 64-bit field, out of range
// for a 32-bit one), then converted through protobuf's JSON parser. Every
// error is INVALID_ARGUMENT and names the kind ("kind counter: ...") and,
// for a Struct, the field ("args.initial").
//
// Thread-safety: pure functions.
//
// Example:
//   CounterArgs out;
//   POLIS_RETURN_IF_ERROR(ArgsFromAny("counter", spec.typed_args(), &out));
#ifndef POLIS_GENSERVER_INTERNAL_KIND_ARGS_H_
#define POLIS_GENSERVER_INTERNAL_KIND_ARGS_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"

namespace polis::internal {

// The message name in an Any's type_url (what follows the last '/').
std::string AnyTypeName(const google::protobuf::Any& any);

// Fills `*out` (cleared first) from `any`, which must hold `out`'s type.
absl::Status ArgsFromAny(const std::string& kind, const google::protobuf::Any& any,
                         google::protobuf::Message* out);

// Fills `*out` (cleared first) from `args` under the rules above.
absl::Status ArgsFromStruct(const std::string& kind, const google::protobuf::Struct& args,
                            google::protobuf::Message* out);

}  // namespace polis::internal

#endif  // POLIS_GENSERVER_INTERNAL_KIND_ARGS_H_
