// node/internal/trust.h — what an envelope from a given peer may make this
// node do (WORKSPACE.md, "Trust rules").
//
// The transport tells who sent each envelope (bus::Sender: role, authorized
// key, the endpoint this node dialed). NodeCore asks the TrustGate before
// it acts on one:
//   * a runtime notice from the wire (KIND_SYSTEM ProcessDown) is trusted
//     only from a node peer (Sender::may_be_node) about a process of the
//     node that sent it; it then reaches the watcher as a runtime notice,
//     checked against the monitors that watcher holds (Process::StaleDown);
//   * a client (PeerRole::kClient) may call, cast and send only to a name
//     (never to a bare pid) that its key's names= globs allow and that is
//     not a supervisor (Behaviour::privileged), and may send no system
//     request but DescribeRequest for such a name;
//   * node, admin and anonymous peers (no keys configured: the trusted
//     network) may do everything.
// A refused call or system request is answered PERMISSION_DENIED (it has a
// ref); a refused cast or info is dropped. Each refusal is counted; the log
// says so rate-limited (the 1st, 2nd, 4th, 8th... refusal).
//
// Thread-safety: thread-safe (the registry is; counters are atomic).
//
// Example:
//   TrustGate gate(&registry, self.name);
//   if (absl::Status s = gate.CheckMessage(envelope, sender); !s.ok()) ...refuse
#ifndef POLIS_NODE_INTERNAL_TRUST_H_
#define POLIS_NODE_INTERNAL_TRUST_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "bus/envelope.h"
#include "bus/peer.h"

namespace polis::internal {

class Registry;

class TrustGate {
 public:
  // `registry` (the processes here, to tell supervisors) outlives the gate.
  TrustGate(const Registry* registry, std::string self_node)
      : registry_(*registry), self_node_(std::move(self_node)) {}

  // A call, cast or info `env` from `sender`: OK or PERMISSION_DENIED.
  absl::Status CheckMessage(const bus::EnvelopeView& env, const bus::Sender& sender) const;
  // A system request `env` (not membership's, not a runtime notice) from
  // `sender`: OK or PERMISSION_DENIED.
  absl::Status CheckSystem(const bus::EnvelopeView& env, const bus::Sender& sender) const;

  // True for the types the runtime sends as notices (ProcessDown; between
  // nodes as KIND_SYSTEM).
  static bool IsNoticeType(std::string_view type);
  // A KIND_SYSTEM notice `env` (IsNoticeType) from `sender`: OK if a node
  // peer says one of its own processes ended; PERMISSION_DENIED otherwise;
  // DATA_LOSS if it does not parse.
  absl::Status CheckNotice(const bus::EnvelopeView& env, const bus::Sender& sender) const;

  // Counts a refusal of `env` for `why` and logs it (rate-limited).
  void Refused(const bus::EnvelopeView& env, const bus::Sender& sender, const absl::Status& why);
  // Refusals so far.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  const Registry& registry_;
  const std::string self_node_;
  std::atomic<uint64_t> refused_{0};
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_TRUST_H_
