// TrustGate: see trust.h.
#include "node/internal/trust.h"

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "node/behaviour.h"
#include "node/internal/process.h"
#include "node/internal/registry.h"
#include "polis/envelope.pb.h"

namespace polis::internal {
namespace {

std::string_view Who(const bus::Sender& s) {
  return s.key != nullptr && !s.key->comment.empty() ? std::string_view(s.key->comment)
                                                     : bus::PeerRoleName(s.role);
}

}  // namespace

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
  if (std::shared_ptr<Process> p = registry_.FindByName(std::string(env.recipient.name));
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
  if (env.sender.node.empty() || env.sender.node == self_node_ ||
      down.process().node() != env.sender.node || env.recipient.pid == 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "node \"", std::string(env.sender.node), "\" may only say that its own processes ended (not one on \"",
        down.process().node(), "\")"));
  }
  return absl::OkStatus();
}

void TrustGate::Refused(const bus::EnvelopeView& env, const bus::Sender& sender,
                        const absl::Status& why) {
  const uint64_t n = refused_.fetch_add(1, std::memory_order_relaxed) + 1;
  if ((n & (n - 1)) != 0) return;  // 1, 2, 4, 8...: a flood costs a few lines
  POLIS_LOG(WARNING) << "polis: refused " << wire::Kind_Name(env.kind) << " \"" << env.type
                     << "\" from " << Who(sender) << ": " << why.message() << " (" << n
                     << " refused so far)";
}

}  // namespace polis::internal
