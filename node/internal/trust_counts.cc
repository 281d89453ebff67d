// TrustGate's counting and logging of refusals: see trust.h. (The rules:
// trust.cc.)
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "node/internal/trust.h"
#include "polis/envelope.pb.h"

namespace polis::internal {
namespace {

// How much of a key's Z85 text and comment a label carries.
constexpr size_t kKeyPrefix = 8;
constexpr size_t kCommentChars = 32;

}  // namespace

std::string TrustGate::PeerLabel(const bus::Sender& sender, std::string_view claimed_node) const {
  const Directory& directory = *parts_.directory;
  if (sender.key != nullptr) {
    if (std::optional<std::string> member = directory.NodeWithKey(sender.key->public_key)) {
      return *member;
    }
    std::string label = absl::StrCat("key:", sender.key->public_key.substr(0, kKeyPrefix));
    if (!sender.key->comment.empty()) {
      absl::StrAppend(&label, " ", sender.key->comment.substr(0, kCommentChars));
    }
    return label;
  }
  if (!sender.dialed.empty()) {
    const std::string endpoint(sender.dialed);
    if (std::optional<std::string> member = directory.NodeAt(endpoint)) return *member;
    return absl::StrCat("endpoint:", endpoint);
  }
  // Without keys nothing is authenticated: a member is known by the name
  // it gives (anyone could give it; members are few, the table bounded).
  if (sender.role == bus::PeerRole::kAnonymous && !claimed_node.empty() &&
      directory.Known(std::string(claimed_node))) {
    return std::string(claimed_node);
  }
  if (std::string address = sender.Address(); !address.empty()) {
    return absl::StrCat("addr:", address);
  }
  return "anonymous";
}

std::string TrustGate::Tally(const absl::Status& why, const bus::Sender& sender,
                             std::string_view claimed_node, absl::Time now) {
  const BadInputReason reason = ClassifyBadInput(why);
  bad_input_.Count(reason);
  std::string peer = PeerLabel(sender, claimed_node);
  by_peer_.Count(peer, reason, now);
  return peer;
}

void TrustGate::Count(const absl::Status& why, const bus::Sender& sender,
                      std::string_view claimed_node) {
  Tally(why, sender, claimed_node, base::Now());
}

void TrustGate::BadInput(const absl::Status& why, const bus::Sender& sender,
                         std::string_view claimed_node) {
  const absl::Time now = base::Now();
  const std::string peer = Tally(why, sender, claimed_node, now);
  uint64_t suppressed = 0;
  if (!log::Enabled(log::WARNING) ||
      !bad_input_log_.Admit(BadInputReasonName(ClassifyBadInput(why)), now, &suppressed)) {
    return;
  }
  POLIS_LOG(WARNING) << "polis: node " << parts_.self->name << " dropped bad input from " << peer
                     << ": " << why << base::Suppressed(suppressed);
}

void TrustGate::Refused(const bus::EnvelopeView& env, const bus::Sender& sender,
                        const absl::Status& why) {
  const uint64_t n = refused_.fetch_add(1, std::memory_order_relaxed) + 1;
  const absl::Time now = base::Now();
  const std::string peer = Tally(why, sender, env.sender.node, now);
  uint64_t suppressed = 0;
  if (!log::Enabled(log::WARNING) || !refused_log_.Admit(peer, now, &suppressed)) return;
  POLIS_LOG(WARNING) << "polis: refused " << wire::Kind_Name(env.kind) << " \"" << env.type
                     << "\" from " << peer << ": " << why.message() << " (" << n
                     << " refused so far)" << base::Suppressed(suppressed);
}

}  // namespace polis::internal
