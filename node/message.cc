#include "node/message.h"

namespace polis {

Message Message::From(const google::protobuf::Message& m) {
  std::string bytes;
  m.SerializeToString(&bytes);
  return Message(m.GetDescriptor()->full_name(), std::move(bytes));
}

absl::Status Message::UnpackTo(google::protobuf::Message& m) const {
  const std::string& want = m.GetDescriptor()->full_name();
  if (type_ != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a message of type \"", want, "\", got \"", type_, "\""));
  }
  if (!m.ParseFromString(bytes_)) {
    return absl::InvalidArgumentError(absl::StrCat("payload of type \"", type_, "\" does not parse"));
  }
  return absl::OkStatus();
}

}  // namespace polis
