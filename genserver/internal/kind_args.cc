// genserver/internal/kind_args.cc — see kind_args.h.
#include "genserver/internal/kind_args.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace polis::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

// Integers a double holds exactly, with their neighbours: |v| <= 2^53 - 1.
constexpr double kMaxExact = 9007199254740991.0;

const char* JsonKind(const Value& v) {
  switch (v.kind_case()) {
    case Value::kNullValue:
      return "null";
    case Value::kNumberValue:
      return "a number";
    case Value::kStringValue:
      return "a string";
    case Value::kBoolValue:
      return "a bool";
    case Value::kStructValue:
      return "an object";
    case Value::kListValue:
      return "a list";
    default:
      return "nothing";
  }
}

class Checker {
 public:
  explicit Checker(const std::string& kind) : kind_(kind) {}

  // Checks `s` against `type`, rewriting integers as exact decimal strings
  // (protobuf's JSON parser takes "123" for every integer type) so that
  // the conversion never sees a double's exponent form.
  absl::Status CheckStruct(const std::string& path, const Descriptor* type, Struct* s) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : s->fields()) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    for (const std::string& key : keys) {
      const std::string field_path = absl::StrCat(path, ".", key);
      const FieldDescriptor* field = type->FindFieldByName(key);
      for (int i = 0; field == nullptr && i < type->field_count(); ++i) {
        if (type->field(i)->json_name() == key) field = type->field(i);
      }
      if (field == nullptr) {
        std::vector<std::string> names;
        for (int i = 0; i < type->field_count(); ++i) names.push_back(type->field(i)->name());
        return Bad(field_path,
                   absl::StrCat("no such field in ", type->full_name(), " (fields: ",
                                names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
      }
      Value& value = (*s->mutable_fields())[key];
      if (value.kind_case() == Value::kNullValue) continue;  // JSON null: the default.
      if (field->is_map()) {
        if (value.kind_case() != Value::kStructValue)
          return Expected(field_path, "an object", value);
        const FieldDescriptor* map_value = field->message_type()->map_value();
        for (auto& [k, v] : *value.mutable_struct_value()->mutable_fields()) {
          if (absl::Status st = CheckSingular(absl::StrCat(field_path, ".", k), map_value, &v);
              !st.ok()) {
            return st;
          }
        }
      } else if (field->is_repeated()) {
        if (value.kind_case() != Value::kListValue) return Expected(field_path, "a list", value);
        ListValue* list = value.mutable_list_value();
        for (int i = 0; i < list->values_size(); ++i) {
          if (absl::Status st = CheckSingular(absl::StrCat(field_path, "[", i, "]"), field,
                                              list->mutable_values(i));
              !st.ok()) {
            return st;
          }
        }
      } else if (absl::Status st = CheckSingular(field_path, field, &value); !st.ok()) {
        return st;
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status CheckSingular(const std::string& path, const FieldDescriptor* field, Value* v) {
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        return Integer(path, v, std::numeric_limits<int32_t>::min(),
                       std::numeric_limits<int32_t>::max(), false);
      case FieldDescriptor::CPPTYPE_UINT32:
        return Integer(path, v, 0, std::numeric_limits<uint32_t>::max(), false);
      case FieldDescriptor::CPPTYPE_INT64:
        return Integer(path, v, -kMaxExact, kMaxExact, true);
      case FieldDescriptor::CPPTYPE_UINT64:
        return Integer(path, v, 0, kMaxExact, true);
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        if (v->kind_case() != Value::kNumberValue) return Expected(path, "a number", *v);
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_BOOL:
        if (v->kind_case() != Value::kBoolValue) return Expected(path, "a bool", *v);
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_STRING:
        if (v->kind_case() != Value::kStringValue) return Expected(path, "a string", *v);
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_ENUM:
        if (v->kind_case() == Value::kStringValue) {
          if (field->enum_type()->FindValueByName(v->string_value()) != nullptr) {
            return absl::OkStatus();
          }
          return Bad(path, absl::StrCat("\"", v->string_value(), "\" is not a value of ",
                                        field->enum_type()->full_name()));
        }
        return Integer(path, v, std::numeric_limits<int32_t>::min(),
                       std::numeric_limits<int32_t>::max(), false);
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        const Descriptor* type = field->message_type();
        // Well-known types (Duration, Struct, wrappers...) have JSON forms of
        // their own: protobuf's parser judges them.
        if (type->file()->package() == "google.protobuf") return absl::OkStatus();
        if (v->kind_case() != Value::kStructValue) return Expected(path, "an object", *v);
        return CheckStruct(path, type, v->mutable_struct_value());
      }
    }
    return absl::OkStatus();
  }

  absl::Status Integer(const std::string& path, Value* v, double min, double max, bool wide) {
    if (v->kind_case() != Value::kNumberValue) return Expected(path, "a whole number", *v);
    const double d = v->number_value();
    if (d != std::trunc(d)) {
      return Bad(path, absl::StrCat("must be a whole number, got ", d));
    }
    if (wide && std::abs(d) > kMaxExact) {
      return Bad(path, absl::StrCat(absl::StrFormat("%.17g", d),
                                    " is 2^53 or more in magnitude, which a Struct number (a "
                                    "double) cannot hold exactly; give the args as typed_args"));
    }
    if (d < min || d > max) {
      return Bad(path, absl::StrCat(absl::StrFormat("%.17g", d), " is out of range [",
                                    absl::StrFormat("%.17g", min), ", ",
                                    absl::StrFormat("%.17g", max), "]"));
    }
    v->set_string_value(absl::StrFormat("%.0f", d));
    return absl::OkStatus();
  }

  absl::Status Expected(const std::string& path, const char* want, const Value& got) {
    return Bad(path, absl::StrCat("expected ", want, ", got ", JsonKind(got)));
  }

  absl::Status Bad(const std::string& path, absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat("kind ", kind_, ": ", path, ": ", message));
  }

  const std::string& kind_;
};

}  // namespace

std::string AnyTypeName(const google::protobuf::Any& any) {
  const std::string& url = any.type_url();
  const size_t slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

absl::Status ArgsFromAny(const std::string& kind, const google::protobuf::Any& any,
                         google::protobuf::Message* out) {
  const std::string want = out->GetDescriptor()->full_name();
  const std::string got = AnyTypeName(any);
  if (got != want) {
    return absl::InvalidArgumentError(absl::StrCat("kind ", kind, " takes ", want, ", got ",
                                                   got.empty() ? "an empty typed_args" : got));
  }
  out->Clear();
  if (!out->ParseFromString(any.value())) {
    return absl::InvalidArgumentError(
        absl::StrCat("kind ", kind, ": typed_args does not parse as ", want));
  }
  return absl::OkStatus();
}

absl::Status ArgsFromStruct(const std::string& kind, const google::protobuf::Struct& args,
                            google::protobuf::Message* out) {
  Struct normalized = args;
  Checker checker(kind);
  if (absl::Status s = checker.CheckStruct("args", out->GetDescriptor(), &normalized); !s.ok()) {
    return s;
  }
  std::string json;
  if (auto s = google::protobuf::util::MessageToJsonString(normalized, &json); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("kind ", kind, ": args: ", s.ToString()));
  }
  out->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (auto s = google::protobuf::util::JsonStringToMessage(json, out, options); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("kind ", kind, ": args do not fit ",
                                                   out->GetDescriptor()->full_name(), ": ",
                                                   s.message().as_string()));
  }
  return absl::OkStatus();
}

}  // namespace polis::internal
