// examples/args.cc — see args.h.
#include "examples/args.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace polis::examples {

absl::Status CheckKnownArgs(const std::string& kind, const google::protobuf::Struct& args,
                            std::initializer_list<const char*> known) {
  for (const auto& [field, value] : args.fields()) {
    bool found = false;
    for (const char* k : known) found = found || field == k;
    if (!found) {
      return absl::InvalidArgumentError(absl::StrCat(kind, ": unknown arg \"", field,
                                                     "\" (known: ", absl::StrJoin(known, ", "),
                                                     ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> IntArg(const std::string& kind, const google::protobuf::Struct& args,
                               const std::string& name, int64_t fallback) {
  auto it = args.fields().find(name);
  if (it == args.fields().end()) return fallback;
  const google::protobuf::Value& v = it->second;
  if (v.kind_case() != google::protobuf::Value::kNumberValue ||
      v.number_value() != std::trunc(v.number_value()) || std::abs(v.number_value()) > 9e15) {
    return absl::InvalidArgumentError(
        absl::StrCat(kind, ": arg \"", name, "\" must be a whole number"));
  }
  return static_cast<int64_t>(v.number_value());
}

}  // namespace polis::examples
