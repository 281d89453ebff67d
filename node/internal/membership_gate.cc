// node/internal/membership_gate.cc — see membership_gate.h.
#include "node/internal/membership_gate.h"

#include <optional>

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

std::string ProvedKey(const bus::Sender& sender, const bus::CurveSecurity* curve) {
  if (sender.role == bus::PeerRole::kAnonymous) return "";
  if (sender.key != nullptr) return sender.key->public_key;
  if (sender.dialed.empty() || curve == nullptr) return "";
  absl::StatusOr<std::string> pinned = curve->ServerKeyFor(std::string(sender.dialed));
  return pinned.ok() ? *std::move(pinned) : std::string();
}

namespace {

// The member a membership message speaks for (its `node` field; every one
// of the four has it), and for a node Hello the endpoint it claims.
// False if there is nothing to check (a client's Hello, a bad payload).
bool SpokenFor(const bus::EnvelopeView& env, std::string* node, std::string* endpoint) {
  const std::string_view t = env.type;
  const int size = static_cast<int>(env.payload.size());
  if (t == wire::Hello::descriptor()->full_name()) {
    wire::Hello m;
    if (!m.ParseFromArray(env.payload.data(), size) || m.client()) return false;
    *node = m.node();
    *endpoint = m.endpoint();
  } else if (t == wire::NamesChanged::descriptor()->full_name()) {
    wire::NamesChanged m;
    if (!m.ParseFromArray(env.payload.data(), size)) return false;
    *node = m.node();
  } else if (t == wire::Members::descriptor()->full_name()) {
    wire::Members m;
    if (!m.ParseFromArray(env.payload.data(), size)) return false;
    *node = m.node();
  } else if (t == wire::Goodbye::descriptor()->full_name()) {
    wire::Goodbye m;
    if (!m.ParseFromArray(env.payload.data(), size)) return false;
    *node = m.node();
  } else {
    return false;
  }
  return true;
}

}  // namespace

absl::Status CheckSpeaksForItself(const bus::EnvelopeView& env, const bus::Sender& sender,
                                  std::string_view proved_key, const Directory& directory) {
  if (sender.role == bus::PeerRole::kAnonymous) return absl::OkStatus();
  std::string node, endpoint;
  if (!SpokenFor(env, &node, &endpoint)) return absl::OkStatus();
  auto refuse = [&](const std::string& what, const std::string& member) {
    return absl::PermissionDeniedError(absl::StrCat(
        std::string(env.type), " ", what, " from a key that is not ", member, "'s",
        sender.key != nullptr ? absl::StrCat(" (authorized keys line ", sender.key->line, ")")
                              : absl::StrCat(" (dialed ", std::string(sender.dialed), ")"),
        ": refused, a node speaks only for itself"));
  };
  if (std::optional<Directory::Member> m = directory.Find(node);
      m && !m->public_key.empty() && m->public_key != proved_key) {
    return refuse(absl::StrCat("about node \"", node, "\""), absl::StrCat("\"", node, "\""));
  }
  if (!endpoint.empty()) {
    if (std::optional<std::string> holder = directory.NodeAt(endpoint); holder && *holder != node) {
      if (std::optional<Directory::Member> m = directory.Find(*holder);
          m && !m->public_key.empty() && m->public_key != proved_key) {
        return refuse(absl::StrCat("claiming ", endpoint, ", where node \"", *holder, "\" is,"),
                      absl::StrCat("\"", *holder, "\""));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace polis::internal
