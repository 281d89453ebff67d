// node/internal/membership_gate.cc — see membership_gate.h.
#include "node/internal/membership_gate.h"

#include "absl/strings/str_cat.h"
#include "polis/envelope.pb.h"

namespace polis::internal {

bool IsMembershipMessage(const bus::EnvelopeView& env) {
  const std::string_view t = env.type;
  return t == wire::Hello::descriptor()->full_name() ||
         t == wire::NamesChanged::descriptor()->full_name() ||
         t == wire::Members::descriptor()->full_name() ||
         t == wire::Goodbye::descriptor()->full_name();
}

absl::Status CheckMembershipSender(const bus::EnvelopeView& env, const bus::Sender& sender,
                                   std::pair<std::string, std::string>* pin,
                                   std::vector<std::pair<std::string, std::string>>* hearsay) {
  if (sender.role == bus::PeerRole::kAnonymous || !IsMembershipMessage(env)) {
    return absl::OkStatus();
  }
  const bool is_hello = std::string_view(env.type) == wire::Hello::descriptor()->full_name();
  wire::Hello hello;
  if (is_hello &&
      !hello.ParseFromArray(env.payload.data(), static_cast<int>(env.payload.size()))) {
    return absl::OkStatus();  // membership reports what does not parse
  }
  if (sender.role != bus::PeerRole::kNode) {
    if (is_hello && hello.client()) return absl::OkStatus();
    return absl::PermissionDeniedError(absl::StrCat(
        std::string(env.type), " from a ", std::string(bus::PeerRoleName(sender.role)), " key",
        sender.key != nullptr ? absl::StrCat(" (authorized keys line ", sender.key->line, ")")
                              : std::string(),
        " refused: a client key is never accepted as a node"));
  }
  if (is_hello && !hello.client() && sender.key != nullptr) {
    // A node speaks only for itself: its entry's key is the one it proved.
    if (!hello.self().public_key().empty() && hello.self().public_key() != sender.key->public_key) {
      return absl::PermissionDeniedError(absl::StrCat(
          "Hello from node \"", hello.node(), "\" (authorized keys line ", sender.key->line,
          ") claims another key for itself: refused"));
    }
    if (!hello.endpoint().empty()) *pin = {hello.endpoint(), sender.key->public_key};
  }
  if (is_hello && hearsay != nullptr) {
    for (const auto* list : {&hello.members(), &hello.view()}) {
      for (const wire::NodeEntry& m : *list) {
        if (!m.public_key().empty() && !m.endpoint().empty()) {
          hearsay->emplace_back(m.endpoint(), m.public_key());
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace polis::internal
