// node/status_details.cc — see status_details.h.
#include "node/status_details.h"

#include <utility>

#include "absl/strings/cord.h"

namespace polis {

std::string DetailTypeUrl(const google::protobuf::Descriptor& type) {
  return std::string(kDetailTypeUrlPrefix) + type.full_name();
}

absl::Status WithDetail(absl::Status status, const google::protobuf::Message& detail) {
  if (status.ok()) return status;
  status.SetPayload(DetailTypeUrl(*detail.GetDescriptor()),
                    absl::Cord(detail.SerializeAsString()));
  return status;
}

bool UnpackDetail(const absl::Status& status, google::protobuf::Message* out) {
  const absl::optional<absl::Cord> payload = status.GetPayload(DetailTypeUrl(*out->GetDescriptor()));
  if (!payload.has_value()) return false;
  if (const auto flat = payload->TryFlat()) {
    return out->ParseFromArray(flat->data(), static_cast<int>(flat->size()));
  }
  return out->ParseFromString(std::string(*payload));
}

}  // namespace polis
