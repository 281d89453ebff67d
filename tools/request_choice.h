// tools/request_choice.h — which declared type a CLI request's JSON becomes.
//
// `polis call/cast/send NAME JSON` learn the server's declared types from its
// ServerDescription. With --type the named type is used; a server with one
// declared type of the kind gets it; a server that declares several gets
// the one type whose fields accept the JSON. The JSON is parsed into every
// declared type (DynamicTypes::FromJson, strict: a field the type lacks is
// refused); exactly one must accept it. No guessing: JSON that several types
// accept (`{}` always does) is refused, naming them, and so is JSON none
// accepts, with each type's reason. A server that accepts any type of the
// kind (accepts_any_call, e.g. echo) keeps the simple rule: --type, else its
// first declared type.
//
// Thread-safety: pure functions.
//
// Example:
//   absl::StatusOr<ChosenRequest> r =
//       ChooseRequest(description, wire::KIND_CALL, /*wanted=*/"", *types, R"({"add": 5})");
//   node->CallRaw(name, *r->message);   // r->type == "polis.examples.CounterRequest"
#ifndef POLIS_TOOLS_REQUEST_CHOICE_H_
#define POLIS_TOOLS_REQUEST_CHOICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "polis/envelope.pb.h"
#include "tools/dynamic_types.h"

namespace polis::tools {

struct ChosenRequest {
  std::string type;                                    // Full protobuf name.
  std::unique_ptr<google::protobuf::Message> message;  // `json` parsed as `type`.
};

// The request `json` becomes for a request of `kind` to the server `d`
// describes (`types` built from its file_descriptor_set), `wanted` being
// --type ("" = not given). Errors, all INVALID_ARGUMENT:
//   - `wanted` not declared (the message lists the declared types);
//   - no type of the kind declared and no --type;
//   - the JSON fits several declared types: "JSON fits several request types
//     of NAME: A, B; choose one with --type=";
//   - the JSON fits none: "JSON fits none of the request types of NAME:
//     A (why); B (why)" (with one candidate: FromJson's own error, as before).
absl::StatusOr<ChosenRequest> ChooseRequest(const wire::ServerDescription& d, wire::Kind kind,
                                            const std::string& wanted, const DynamicTypes& types,
                                            const std::string& json);

// The type, without looking at the JSON: `wanted` if the server declares it
// (or if `wanted` is set and the server declares none), else the first
// declared type. INVALID_ARGUMENT if there is none or `wanted` is not
// declared (the message lists the declared ones). ChooseRequest uses it for
// --type, a single declared type and servers that accept any type.
absl::StatusOr<std::string> PickRequestType(const wire::ServerDescription& d, wire::Kind kind,
                                            const std::string& wanted);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_REQUEST_CHOICE_H_
