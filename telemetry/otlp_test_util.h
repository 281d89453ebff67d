// telemetry/otlp_test_util.h — test-only: reading OTLP/JSON back.
//
// ParseOtlpJson parses an ExportTraceServiceRequest with protobuf's own
// JSON parser into a google.protobuf.Struct (so the text is valid JSON by
// an independent parser), then flattens it into the spans it holds with
// the resource they came under. Anything not shaped as OTLP/JSON (a key
// missing, a number where a string belongs) is an error naming the place.
//
// Thread-safety: pure functions.
//
// Example:
//   absl::StatusOr<std::vector<OtlpTestSpan>> spans = ParseOtlpJson(line);
//   EXPECT_EQ((*spans)[0].attributes["polis.server"], "counter");
#ifndef POLIS_TELEMETRY_OTLP_TEST_UTIL_H_
#define POLIS_TELEMETRY_OTLP_TEST_UTIL_H_

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace polis::telemetry::testing {

struct OtlpTestSpan {
  std::string service;  // resource attribute service.name
  std::string scope;    // scope name
  std::string trace_id, span_id, parent_span_id, name;
  int kind = -1;
  std::string start, end;  // Decimal strings, as sent.
  int status_code = -1;
  std::string status_message;
  // Attribute -> its value as sent: a stringValue's text, an intValue's
  // decimal string. attribute_types: "stringValue" or "intValue".
  std::map<std::string, std::string> attributes;
  std::map<std::string, std::string> attribute_types;
};

namespace otlp_test_internal {

using google::protobuf::Struct;
using google::protobuf::Value;

inline absl::StatusOr<const Value*> Field(const Struct& s, const std::string& key,
                                          Value::KindCase kind, const std::string& where) {
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return absl::NotFoundError(absl::StrCat(where, ": no ", key));
  if (it->second.kind_case() != kind) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": wrong JSON type"));
  }
  return &it->second;
}

// Reads an OTLP KeyValue list into `out` (and the value's type into `types`).
inline absl::Status ReadAttributes(const Value& list, const std::string& where,
                                   std::map<std::string, std::string>* out,
                                   std::map<std::string, std::string>* types) {
  if (list.kind_case() != Value::kListValue) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": not a list"));
  }
  for (const Value& kv : list.list_value().values()) {
    if (kv.kind_case() != Value::kStructValue) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": an attribute is not an object"));
    }
    absl::StatusOr<const Value*> key = Field(kv.struct_value(), "key", Value::kStringValue, where);
    if (!key.ok()) return key.status();
    absl::StatusOr<const Value*> value =
        Field(kv.struct_value(), "value", Value::kStructValue, where);
    if (!value.ok()) return value.status();
    const auto& fields = (*value)->struct_value().fields();
    if (fields.size() != 1 || fields.begin()->second.kind_case() != Value::kStringValue) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".", (*key)->string_value(), ": not one string-encoded AnyValue"));
    }
    (*out)[(*key)->string_value()] = fields.begin()->second.string_value();
    (*types)[(*key)->string_value()] = fields.begin()->first;
  }
  return absl::OkStatus();
}

}  // namespace otlp_test_internal

inline absl::StatusOr<std::vector<OtlpTestSpan>> ParseOtlpJson(const std::string& json) {
  using namespace otlp_test_internal;  // NOLINT
  Struct root;
  if (auto s = google::protobuf::util::JsonStringToMessage(json, &root); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("not valid JSON: ", s.ToString()));
  }
  std::vector<OtlpTestSpan> spans;
  absl::StatusOr<const Value*> rs = Field(root, "resourceSpans", Value::kListValue, "request");
  if (!rs.ok()) return rs.status();
  for (const Value& r : (*rs)->list_value().values()) {
    const std::string where = "resourceSpans[]";
    if (r.kind_case() != Value::kStructValue) return absl::InvalidArgumentError(where);
    absl::StatusOr<const Value*> resource =
        Field(r.struct_value(), "resource", Value::kStructValue, where);
    if (!resource.ok()) return resource.status();
    absl::StatusOr<const Value*> rattrs =
        Field((*resource)->struct_value(), "attributes", Value::kListValue, where + ".resource");
    if (!rattrs.ok()) return rattrs.status();
    std::map<std::string, std::string> resource_attrs, resource_types;
    if (auto s = ReadAttributes(**rattrs, where + ".resource", &resource_attrs, &resource_types);
        !s.ok()) {
      return s;
    }
    absl::StatusOr<const Value*> scopes =
        Field(r.struct_value(), "scopeSpans", Value::kListValue, where);
    if (!scopes.ok()) return scopes.status();
    for (const Value& ss : (*scopes)->list_value().values()) {
      const std::string sw = where + ".scopeSpans[]";
      absl::StatusOr<const Value*> scope = Field(ss.struct_value(), "scope", Value::kStructValue, sw);
      if (!scope.ok()) return scope.status();
      absl::StatusOr<const Value*> scope_name =
          Field((*scope)->struct_value(), "name", Value::kStringValue, sw + ".scope");
      if (!scope_name.ok()) return scope_name.status();
      absl::StatusOr<const Value*> list = Field(ss.struct_value(), "spans", Value::kListValue, sw);
      if (!list.ok()) return list.status();
      for (const Value& v : (*list)->list_value().values()) {
        const Struct& sp = v.struct_value();
        const std::string w = sw + ".spans[]";
        OtlpTestSpan span;
        span.service = resource_attrs["service.name"];
        span.scope = (*scope_name)->string_value();
        auto str = [&](const char* key, std::string* out, bool required) -> absl::Status {
          absl::StatusOr<const Value*> f = Field(sp, key, Value::kStringValue, w);
          if (!f.ok()) return required || f.status().code() != absl::StatusCode::kNotFound
                                  ? f.status()
                                  : absl::OkStatus();
          *out = (*f)->string_value();
          return absl::OkStatus();
        };
        for (auto [key, out, required] :
             {std::tuple{"traceId", &span.trace_id, true}, {"spanId", &span.span_id, true},
              {"parentSpanId", &span.parent_span_id, false}, {"name", &span.name, true},
              {"startTimeUnixNano", &span.start, true}, {"endTimeUnixNano", &span.end, true}}) {
          if (auto s = str(key, out, required); !s.ok()) return s;
        }
        absl::StatusOr<const Value*> kind = Field(sp, "kind", Value::kNumberValue, w);
        if (!kind.ok()) return kind.status();
        span.kind = static_cast<int>((*kind)->number_value());
        absl::StatusOr<const Value*> status = Field(sp, "status", Value::kStructValue, w);
        if (!status.ok()) return status.status();
        absl::StatusOr<const Value*> code =
            Field((*status)->struct_value(), "code", Value::kNumberValue, w + ".status");
        if (!code.ok()) return code.status();
        span.status_code = static_cast<int>((*code)->number_value());
        auto message = (*status)->struct_value().fields().find("message");
        if (message != (*status)->struct_value().fields().end()) {
          span.status_message = message->second.string_value();
        }
        absl::StatusOr<const Value*> attrs = Field(sp, "attributes", Value::kListValue, w);
        if (!attrs.ok()) return attrs.status();
        if (auto s = ReadAttributes(**attrs, w + ".attributes", &span.attributes,
                                    &span.attribute_types);
            !s.ok()) {
          return s;
        }
        spans.push_back(std::move(span));
      }
    }
  }
  return spans;
}

}  // namespace polis::telemetry::testing

#endif  // POLIS_TELEMETRY_OTLP_TEST_UTIL_H_
