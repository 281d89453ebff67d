// tools/dynamic_types.h — protobuf types learnt at run time, and JSON.
//
// A server describes its message types with a serialized
// google.protobuf.FileDescriptorSet (wire::ServerDescription). DynamicTypes
// builds a descriptor pool from it, so that the CLI can turn JSON into a
// request of a type it was not compiled against, and a reply back into
// JSON (the protobuf JSON mapping, like grpcurl). Well-known types
// (google/protobuf/*.proto) missing from the set are taken from the types
// compiled into this binary.
//
// Thread-safety: const methods are thread-safe; the object must outlive the
// messages it returns.
//
// Example:
//   auto types = DynamicTypes::Create(description.file_descriptor_set());
//   auto req = (*types)->FromJson("polis.examples.CounterRequest", R"({"add": 5})");
//   node->CallRaw("counter", **req);
//   std::string json = *(*types)->ToJson(reply.type(), reply.bytes());
#ifndef POLIS_TOOLS_DYNAMIC_TYPES_H_
#define POLIS_TOOLS_DYNAMIC_TYPES_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor_database.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"

namespace polis::tools {

class DynamicTypes {
 public:
  // `file_descriptor_set`: serialized google.protobuf.FileDescriptorSet.
  // INVALID_ARGUMENT if it does not parse or its files do not build.
  static absl::StatusOr<std::unique_ptr<DynamicTypes>> Create(
      const std::string& file_descriptor_set);

  // The descriptor of `full_name` (e.g. "polis.examples.CounterRequest").
  // NOT_FOUND if neither the set nor the well-known types define it.
  absl::StatusOr<const google::protobuf::Descriptor*> Find(const std::string& full_name) const;

  // A new message of type `full_name` parsed from `json`. INVALID_ARGUMENT
  // with the parser's message for bad JSON or a field the type lacks.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> FromJson(
      const std::string& full_name, const std::string& json) const;

  // The message of type `full_name` serialized as `bytes`, as JSON on one
  // line, every field printed (also zero and empty ones), with the .proto
  // field names. DATA_LOSS if `bytes` does not parse, or parses but cannot
  // be printed (an Any whose type URL names a type neither the set nor the
  // well-known types define).
  absl::StatusOr<std::string> ToJson(const std::string& full_name, const std::string& bytes) const;

 private:
  DynamicTypes() = default;

  google::protobuf::SimpleDescriptorDatabase database_;
  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
};

}  // namespace polis::tools

#endif  // POLIS_TOOLS_DYNAMIC_TYPES_H_
