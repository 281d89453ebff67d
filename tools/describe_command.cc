// tools/describe_command.cc — `polis describe` (declared in
// cluster_commands.h): a server's kind, where it runs, the types it accepts
// (each request type with its reply types) and their .proto definitions, rendered back from the FileDescriptorSet
// its description carries (Descriptor::DebugString gives .proto syntax).
#include <unistd.h>

#include <map>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "node/node.h"
#include "tools/client_command.h"
#include "tools/cluster_commands.h"
#include "tools/dynamic_types.h"
#include "tools/text_output.h"

namespace polis::tools {
namespace {

// Adds `m` and the message types its fields use, transitively, to `out`;
// well-known types (google.protobuf.*) they use are named, not defined.
void AddDefinition(const google::protobuf::Descriptor* m, bool declared,
                   std::map<std::string, std::string>* out) {
  if ((!declared && m->file()->package() == "google.protobuf") || out->count(m->full_name())) {
    return;
  }
  // A nested type is printed inside its outermost containing type.
  while (m->containing_type() != nullptr) m = m->containing_type();
  if (!out->emplace(m->full_name(), m->DebugString()).second) return;
  std::vector<const google::protobuf::Descriptor*> todo = {m};
  while (!todo.empty()) {
    const google::protobuf::Descriptor* t = todo.back();
    todo.pop_back();
    for (int i = 0; i < t->nested_type_count(); ++i) todo.push_back(t->nested_type(i));
    for (int i = 0; i < t->field_count(); ++i) {
      if (const google::protobuf::Descriptor* f = t->field(i)->message_type()) {
        if (f->containing_type() == nullptr) AddDefinition(f, /*declared=*/false, out);
      }
    }
  }
}

// "polis.examples.CounterRequest" -> its .proto text, for every declared
// type and the message types those use.
absl::StatusOr<std::map<std::string, std::string>> Definitions(const wire::ServerDescription& d) {
  absl::StatusOr<std::unique_ptr<DynamicTypes>> types =
      DynamicTypes::Create(d.file_descriptor_set());
  if (!types.ok()) return types.status();
  std::set<std::string> names(d.call_types().begin(), d.call_types().end());
  for (const wire::CallType& c : d.calls()) {
    names.insert(c.request_type());
    names.insert(c.reply_types().begin(), c.reply_types().end());
  }
  names.insert(d.cast_types().begin(), d.cast_types().end());
  names.insert(d.info_types().begin(), d.info_types().end());
  std::map<std::string, std::string> out;
  for (const std::string& name : names) {
    absl::StatusOr<const google::protobuf::Descriptor*> desc = (*types)->Find(name);
    if (desc.ok()) {
      AddDefinition(*desc, /*declared=*/true, &out);
    } else {
      out[name] = absl::StrCat("// not in the server's .proto files\n");
    }
  }
  return out;
}

std::string TypeList(const google::protobuf::RepeatedPtrField<std::string>& types, bool any) {
  std::string list = types.empty() ? "-" : absl::StrJoin(types, ", ");
  return any ? absl::StrCat(list, " (and any other type)") : list;
}

// The CALL rows: one per request type, "REQUEST -> REPLY | REPLY"; a
// description without `calls` (a node from before it) lists the request
// types alone.
void AddCallRows(const wire::ServerDescription& d, TextTable* table) {
  if (d.calls().empty()) {
    table->AddRow({"CALL", TypeList(d.call_types(), d.accepts_any_call())});
    return;
  }
  for (int i = 0; i < d.calls_size(); ++i) {
    const wire::CallType& c = d.calls(i);
    std::string row = absl::StrCat(c.request_type(), " -> ",
                                   c.reply_types().empty() ? "-" : absl::StrJoin(c.reply_types(), " | "));
    if (i + 1 == d.calls_size() && d.accepts_any_call()) {
      absl::StrAppend(&row, " (and any other type)");
    }
    table->AddRow({i == 0 ? "CALL" : "", row});
  }
}

absl::StatusOr<std::string> AsJson(const wire::ServerDescription& d, const Pid& pid,
                                   const std::map<std::string, std::string>& definitions) {
  wire::ServerDescription bare = d;
  bare.clear_file_descriptor_set();
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  if (auto s = google::protobuf::util::MessageToJsonString(bare, &json, options); !s.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot print the description as JSON: ", s.message().as_string()));
  }
  // The set is cleared (its definitions follow as text), and printed as ""
  // because every field is: leave it out.
  const std::string kEmptySet = "\"file_descriptor_set\":\"\",";
  if (size_t at = json.find(kEmptySet); at != std::string::npos) json.erase(at, kEmptySet.size());
  json.pop_back();  // The closing brace: the object goes on.
  std::vector<std::string> defs;
  for (const auto& [type, text] : definitions) {
    defs.push_back(absl::StrCat(JsonQuote(type), ":", JsonQuote(text)));
  }
  return absl::StrCat(json, ",\"node\":", JsonQuote(pid.node), ",\"pid\":", pid.id,
                      ",\"definitions\":{", absl::StrJoin(defs, ","), "}}\n");
}

}  // namespace

absl::StatusOr<CommandOutput> FormatDescribe(const wire::ServerDescription& d, const Pid& pid,
                                             bool json) {
  absl::StatusOr<std::map<std::string, std::string>> definitions = Definitions(d);
  if (!definitions.ok()) return definitions.status();
  if (json) {
    absl::StatusOr<std::string> text = AsJson(d, pid, *definitions);
    if (!text.ok()) return text.status();
    return CommandOutput{*text, ""};
  }
  TextTable head({"NAME", d.name()});
  head.AddRow({"KIND", d.kind().empty() ? "-" : d.kind()});
  head.AddRow({"NODE", pid.node});
  head.AddRow({"PID", absl::StrCat(pid.id)});
  AddCallRows(d, &head);
  head.AddRow({"CAST", TypeList(d.cast_types(), d.accepts_any_cast())});
  head.AddRow({"INFO", TypeList(d.info_types(), d.accepts_any_info())});
  std::string out = head.Render();
  for (const auto& [type, text] : *definitions) {
    absl::StrAppend(&out, "\n", type, " is a message:\n", text);
  }
  return CommandOutput{out, ""};
}

absl::StatusOr<CommandOutput> RunDescribe(const ClusterCommand& command) {
  const absl::Time deadline = absl::Now() + command.timeout;
  absl::StatusOr<std::unique_ptr<Node>> node = JoinAsClient(command.seed, deadline);
  if (!node.ok()) return node.status();
  absl::StatusOr<wire::ServerDescription> d = (*node)->Describe(command.name, Remaining(deadline));
  if (!d.ok()) return d.status();
  absl::StatusOr<Pid> pid = (*node)->WhereIs(command.name);
  if (!pid.ok()) return pid.status();
  return FormatDescribe(*d, *pid, command.json);
}

}  // namespace polis::tools
