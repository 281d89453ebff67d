// tools/request_choice.cc — see request_choice.h.
#include "tools/request_choice.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace polis::tools {
namespace {

// What a description declares for one kind of request, and the words the
// messages use for it.
struct Declared {
  const google::protobuf::RepeatedPtrField<std::string>& types;
  bool any;                // accepts_any_*: takes types it does not declare.
  const char* kind;        // "call" / "cast" / "info"
  const char* types_word;  // "request types" / "cast types" / "info types"
};

Declared DeclaredFor(const wire::ServerDescription& d, wire::Kind kind) {
  switch (kind) {
    case wire::KIND_CAST:
      return {d.cast_types(), d.accepts_any_cast(), "cast", "cast types"};
    case wire::KIND_INFO:
      return {d.info_types(), d.accepts_any_info(), "info", "info types"};
    default:
      return {d.call_types(), d.accepts_any_call(), "call", "request types"};
  }
}

// FromJson's refusal without its "bad JSON for TYPE: " prefix (the type is
// named beside it).
std::string Why(const std::string& type, const absl::Status& s) {
  std::string message(s.message());
  const std::string prefix = absl::StrCat("bad JSON for ", type, ": ");
  if (absl::StartsWith(message, prefix)) message.erase(0, prefix.size());
  return message;
}

}  // namespace

absl::StatusOr<std::string> PickRequestType(const wire::ServerDescription& d, wire::Kind kind,
                                            const std::string& wanted) {
  const Declared of = DeclaredFor(d, kind);
  const auto& declared = of.types;
  if (!wanted.empty()) {
    for (const std::string& t : declared) {
      if (t == wanted) return t;
    }
    // A server that declares no types of this kind may still accept any
    // (e.g. echo's casts); let the runtime decide.
    if (declared.empty()) return wanted;
    return absl::InvalidArgumentError(
        absl::StrCat("server \"", d.name(), "\" does not declare ", of.kind, " type ", wanted,
                     " (declared: ", absl::StrJoin(declared, ", "), ")"));
  }
  if (declared.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("server \"", d.name(), "\" declares no ",
                                                   of.kind,
                                                   " types; name one with --type=FULL.NAME"));
  }
  return declared[0];
}

absl::StatusOr<ChosenRequest> ChooseRequest(const wire::ServerDescription& d, wire::Kind kind,
                                            const std::string& wanted, const DynamicTypes& types,
                                            const std::string& json) {
  const Declared of = DeclaredFor(d, kind);
  const auto& declared = of.types;
  if (!wanted.empty() || declared.size() <= 1 || of.any) {
    absl::StatusOr<std::string> type = PickRequestType(d, kind, wanted);
    if (!type.ok()) return type.status();
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> m = types.FromJson(*type, json);
    if (!m.ok()) return m.status();
    return ChosenRequest{*std::move(type), *std::move(m)};
  }
  std::vector<ChosenRequest> fits;
  std::vector<std::string> refusals;  // "TYPE (why)"
  for (const std::string& type : declared) {
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> m = types.FromJson(type, json);
    if (m.ok()) {
      fits.push_back({type, *std::move(m)});
    } else {
      refusals.push_back(absl::StrCat(type, " (", Why(type, m.status()), ")"));
    }
  }
  if (fits.size() == 1) return std::move(fits[0]);
  if (fits.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("JSON fits none of the ", of.types_word, " of ",
                                                   d.name(), ": ", absl::StrJoin(refusals, "; ")));
  }
  std::vector<std::string> names;
  for (const ChosenRequest& c : fits) names.push_back(c.type);
  return absl::InvalidArgumentError(absl::StrCat("JSON fits several ", of.types_word, " of ",
                                                 d.name(), ": ", absl::StrJoin(names, ", "),
                                                 "; choose one with --type="));
}

}  // namespace polis::tools
