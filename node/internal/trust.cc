// TrustGate's rules: see trust.h. (Counting and logging: trust_counts.cc.)
#include "node/internal/trust.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "node/behaviour.h"
#include "node/internal/membership_gate.h"
#include "node/internal/process.h"
#include "node/internal/registry.h"
#include "polis/envelope.pb.h"

namespace polis::internal {

absl::Status TrustGate::CheckMessage(const bus::EnvelopeView& env,
                                     const bus::Sender& sender) const {
  if (sender.role != bus::PeerRole::kClient) return absl::OkStatus();
  if (env.recipient.name.empty()) {
    return absl::PermissionDeniedError("a client may address servers by name only, not by pid");
  }
  if (!sender.MayReach(env.recipient.name)) {
    return absl::PermissionDeniedError(
        absl::StrCat("this client's key may not reach \"", std::string(env.recipient.name), "\""));
  }
  if (std::shared_ptr<Process> p = parts_.registry->FindByName(std::string(env.recipient.name));
      p != nullptr && p->behaviour().privileged()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "\"", std::string(env.recipient.name), "\" is a supervisor: only an admin or a node may reach it"));
  }
  return absl::OkStatus();
}

absl::Status TrustGate::CheckSystem(const bus::EnvelopeView& env,
                                    const bus::Sender& sender) const {
  if (sender.is_privileged()) return absl::OkStatus();
  if (env.type == wire::DescribeRequest::descriptor()->full_name() &&
      !env.recipient.name.empty()) {
    if (sender.MayReach(env.recipient.name)) return absl::OkStatus();
    return absl::PermissionDeniedError(absl::StrCat(
        "this client key", sender.key != nullptr ? absl::StrCat(" (authorized keys line ", sender.key->line, ")") : "",
        " may not reach \"", std::string(env.recipient.name), "\""));
  }
  return absl::PermissionDeniedError(
      absl::StrCat("a client may not send \"", std::string(env.type), "\" (admin or node only)"));
}

bool TrustGate::IsNoticeType(std::string_view type) {
  return type == wire::ProcessDown::descriptor()->full_name();
}

absl::Status TrustGate::CheckNotice(const bus::EnvelopeView& env,
                                    const bus::Sender& sender) const {
  if (!sender.may_be_node()) {
    return absl::PermissionDeniedError("only a node sends runtime notices");
  }
  wire::ProcessDown down;
  if (!down.ParseFromArray(env.payload.data(), static_cast<int>(env.payload.size()))) {
    return absl::DataLossError("ProcessDown does not parse");
  }
  if (env.sender.node.empty() || env.sender.node == parts_.self->name ||
      down.process().node() != env.sender.node || env.recipient.pid == 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "node \"", std::string(env.sender.node), "\" may only say that its own processes ended (not one on \"",
        down.process().node(), "\")"));
  }
  if (sender.role == bus::PeerRole::kAnonymous) return absl::OkStatus();  // Nothing is bound.
  // A node speaks only for itself: the sender proved the key bound to the
  // node it names (as for membership messages, CheckSpeaksForItself). No
  // monitor here watches a node that is not a member.
  const std::string node(env.sender.node);
  const std::optional<Directory::Member> m = parts_.directory->Find(node);
  if (!m || m->public_key != ProvedKey(sender, parts_.self->curve.get())) {
    return absl::PermissionDeniedError(absl::StrCat(
        "ProcessDown about node \"", node, "\" from a key that is not ", m ? "its own" : "a member's",
        sender.key != nullptr ? absl::StrCat(" (authorized keys line ", sender.key->line, ")")
                              : std::string(),
        ": refused, a node speaks only for itself"));
  }
  return absl::OkStatus();
}

absl::Status TrustGate::CheckMembership(const bus::EnvelopeView& env, const bus::Sender& sender,
                                        MembershipAdmission* admission) const {
  admission->proved = ProvedKey(sender, parts_.self->curve.get());
  absl::Status s = CheckMembershipSender(env, sender, &admission->pin, &admission->listed);
  if (s.ok()) s = CheckSpeaksForItself(env, sender, admission->proved, *parts_.directory);
  return s;
}

}  // namespace polis::internal
