// tools/dynamic_types.cc — see dynamic_types.h.
#include "tools/dynamic_types.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/util/json_util.h"

namespace polis::tools {
namespace {

// Well-known types, always available (e.g. for --type=google.protobuf.StringValue).
constexpr const char* kWellKnownFiles[] = {
    "google/protobuf/any.proto",      "google/protobuf/duration.proto",
    "google/protobuf/empty.proto",    "google/protobuf/field_mask.proto",
    "google/protobuf/struct.proto",   "google/protobuf/timestamp.proto",
    "google/protobuf/wrappers.proto",
};

// Adds to `set` every dependency it lacks that this binary has compiled in
// (google/protobuf/empty.proto etc.), recursively, and the well-known types.
void AddMissingDependencies(google::protobuf::FileDescriptorSet* set) {
  std::set<std::string> have;
  for (const auto& f : set->file()) have.insert(f.name());
  std::vector<std::string> todo(std::begin(kWellKnownFiles), std::end(kWellKnownFiles));
  for (const auto& f : set->file()) {
    for (const std::string& dep : f.dependency()) todo.push_back(dep);
  }
  while (!todo.empty()) {
    std::string name = todo.back();
    todo.pop_back();
    if (have.count(name)) continue;
    const google::protobuf::FileDescriptor* file =
        google::protobuf::DescriptorPool::generated_pool()->FindFileByName(name);
    if (file == nullptr) continue;  // Reported when the pool builds.
    have.insert(name);
    google::protobuf::FileDescriptorProto* proto = set->add_file();
    file->CopyTo(proto);
    for (int i = 0; i < file->dependency_count(); ++i) todo.push_back(file->dependency(i)->name());
  }
}

// Records the first error of building a file from the database.
class BuildErrors : public google::protobuf::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name,
                const google::protobuf::Message*, ErrorLocation,
                const std::string& message) override {
    if (error_.empty()) error_ = absl::StrCat(filename, ": ", element_name, ": ", message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<DynamicTypes>> DynamicTypes::Create(
    const std::string& file_descriptor_set) {
  google::protobuf::FileDescriptorSet set;
  if (!set.ParseFromString(file_descriptor_set)) {
    return absl::InvalidArgumentError("server description: FileDescriptorSet does not parse");
  }
  AddMissingDependencies(&set);
  std::unique_ptr<DynamicTypes> types(new DynamicTypes());
  for (const auto& f : set.file()) {
    // Adding the same file twice is harmless only if identical; skip repeats.
    if (types->database_.FindFileByName(f.name(), nullptr)) continue;
    if (!types->database_.Add(f)) {
      return absl::InvalidArgumentError(absl::StrCat("server description: bad file ", f.name()));
    }
  }
  types->pool_ = std::make_unique<google::protobuf::DescriptorPool>(&types->database_);
  // Build every file now, so that a broken set is reported here, clearly.
  BuildErrors errors;
  google::protobuf::DescriptorPool checker(&types->database_, &errors);
  for (const auto& f : set.file()) {
    if (checker.FindFileByName(f.name()) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "server description: cannot build ", f.name(), ": ",
          errors.error().empty() ? "missing dependency" : errors.error()));
    }
  }
  types->factory_ = std::make_unique<google::protobuf::DynamicMessageFactory>(types->pool_.get());
  return types;
}

absl::StatusOr<const google::protobuf::Descriptor*> DynamicTypes::Find(
    const std::string& full_name) const {
  const google::protobuf::Descriptor* d = pool_->FindMessageTypeByName(full_name);
  if (d == nullptr) {
    return absl::NotFoundError(absl::StrCat("message type ", full_name,
                                            " is not described by the server"));
  }
  return d;
}

absl::StatusOr<std::unique_ptr<google::protobuf::Message>> DynamicTypes::FromJson(
    const std::string& full_name, const std::string& json) const {
  absl::StatusOr<const google::protobuf::Descriptor*> d = Find(full_name);
  if (!d.ok()) return d.status();
  std::unique_ptr<google::protobuf::Message> m(factory_->GetPrototype(*d)->New());
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, m.get(), options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad JSON for ", full_name, ": ", status.message().as_string()));
  }
  return m;
}

absl::StatusOr<std::string> DynamicTypes::ToJson(const std::string& full_name,
                                                 const std::string& bytes) const {
  absl::StatusOr<const google::protobuf::Descriptor*> d = Find(full_name);
  if (!d.ok()) return d.status();
  std::unique_ptr<google::protobuf::Message> m(factory_->GetPrototype(*d)->New());
  if (!m->ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("reply does not parse as ", full_name));
  }
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(*m, &out, options);
  if (!status.ok()) {
    // The bytes parsed but hold what JSON cannot show (an Any of a type the
    // description lacks, ...): the peer's data, not our bug (not INTERNAL).
    return absl::DataLossError(absl::StrCat("reply parses as ", full_name,
                                            " but cannot be printed as JSON: ",
                                            status.message().as_string()));
  }
  return out;
}

}  // namespace polis::tools
