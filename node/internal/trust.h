// node/internal/trust.h — the one home of the trust rules: what an envelope
// from a given peer may make this node do, and the one count and log of
// what the node refused (WORKSPACE.md, "Trust rules").
//
// The transport tells who sent each envelope (bus::Sender: role, authorized
// key, the endpoint this node dialed, the connection's origin). NodeCore
// asks the TrustGate before it acts on one:
//   * membership messages (Hello, NamesChanged, Members, Goodbye):
//     CheckMembership, the rules of membership_gate.h — only from node
//     keys (a client key only says a client's Hello), and a node speaks
//     only for itself (the key its own Hello bound to it in the Directory);
//   * a runtime notice from the wire (KIND_SYSTEM ProcessDown) is trusted
//     only from a node peer (Sender::may_be_node) about a process of the
//     node that sent it, and with keys only under the key bound to that
//     node (a node key cannot say another member's process ended); it
//     then reaches the watcher as a runtime notice, checked against the
//     monitors that watcher holds (Process::StaleDown);
//   * a client (PeerRole::kClient) may call, cast and send only to a name
//     (never to a bare pid) that its key's names= globs allow and that is
//     not a supervisor (Behaviour::privileged), and may send no system
//     request but DescribeRequest for such a name;
//   * node, admin and anonymous peers (no keys configured: the trusted
//     network) may do everything.
// A refused call or system request is answered PERMISSION_DENIED (it has a
// ref); a refused cast or info is dropped (NodeCore does both).
//
// Counting: every refusal — the rules' (Refused) and any other bad input
// (BadInput: frames that do not decode, unknown kinds, replies not from the
// called node) — is counted by reason (bad_input.h) and per peer
// (peer_refusals.h, under PeerLabel), with one relaxed fetch_add and a
// locked table update on the bad path only. Logs are rate-limited
// (base/log_limiter.h): bad input 5 lines per reason per 10 s, the rules'
// refusals 5 lines per peer per 10 s, each saying what it held back.
//
// Thread-safety: thread-safe (the registry and directory are; counters are
// atomic or locked). NodeCore calls it on the I/O thread.
//
// Example:
//   TrustGate gate({.registry = &registry, .directory = &directory, .self = &self});
//   if (absl::Status s = gate.CheckMessage(envelope, sender); !s.ok()) {
//     gate.Refused(envelope, sender, s);   // counted, logged; then answer or drop
//   }
#ifndef POLIS_NODE_INTERNAL_TRUST_H_
#define POLIS_NODE_INTERNAL_TRUST_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "base/log_limiter.h"
#include "bus/envelope.h"
#include "bus/peer.h"
#include "node/internal/bad_input.h"
#include "node/internal/directory.h"
#include "node/internal/local_node.h"
#include "node/internal/peer_refusals.h"

namespace polis::internal {

class Registry;

class TrustGate {
 public:
  struct Parts {
    const Registry* registry;    // the processes here, to tell supervisors
    const Directory* directory;  // the members and the keys bound to them
    const LocalNode* self;       // this node's name and CURVE keys
  };
  // Every part outlives the gate.
  explicit TrustGate(Parts parts) : parts_(parts) {}

  // --- The rules ---

  // A call, cast or info `env` from `sender`: OK or PERMISSION_DENIED.
  absl::Status CheckMessage(const bus::EnvelopeView& env, const bus::Sender& sender) const;
  // A system request `env` (not membership's, not a runtime notice) from
  // `sender`: OK or PERMISSION_DENIED.
  absl::Status CheckSystem(const bus::EnvelopeView& env, const bus::Sender& sender) const;

  // True for the types the runtime sends as notices (ProcessDown; between
  // nodes as KIND_SYSTEM).
  static bool IsNoticeType(std::string_view type);
  // A KIND_SYSTEM notice `env` (IsNoticeType) from `sender`: OK if a node
  // peer says one of its own processes ended, and (with keys) the key it
  // proved is the one bound to that node in the Directory;
  // PERMISSION_DENIED otherwise; DATA_LOSS if it does not parse.
  absl::Status CheckNotice(const bus::EnvelopeView& env, const bus::Sender& sender) const;

  // What a membership message that passed CheckMembership hands on.
  struct MembershipAdmission {
    std::string proved;  // the CURVE key the sender proved (ProvedKey), "" anonymous
    // {endpoint, key} to pin: a member's Hello on the listening socket.
    std::pair<std::string, std::string> pin;
    // {endpoint, key} of every member a node's Hello lists with a key:
    // candidates Membership::PinKeys pins only if it trusts them.
    std::vector<std::pair<std::string, std::string>> listed;
  };
  // A membership message `env` (IsMembershipMessage) from `sender`: OK
  // (and `*admission` filled) or PERMISSION_DENIED (membership_gate.h:
  // CheckMembershipSender, then CheckSpeaksForItself).
  absl::Status CheckMembership(const bus::EnvelopeView& env, const bus::Sender& sender,
                               MembershipAdmission* admission) const;

  // --- Counting ---

  // Counts a refusal of `env` by the rules above for `why` (as bad input
  // too, under `env`'s sender) and logs it, rate-limited per peer.
  void Refused(const bus::EnvelopeView& env, const bus::Sender& sender, const absl::Status& why);
  // Counts bad input `why` from `sender` (by reason and per peer) and
  // logs it, rate-limited per reason. `claimed_node`: the node the
  // envelope says sent it, if one decoded ("" otherwise).
  void BadInput(const absl::Status& why, const bus::Sender& sender,
                std::string_view claimed_node = {});
  // Counts without logging (the caller logged already, e.g. a refused reply).
  void Count(const absl::Status& why, const bus::Sender& sender, std::string_view claimed_node);

  // The label refusals from `sender` count under: a member's node name (its
  // key's, with CURVE; the endpoint's member on a dialed connection; the
  // claimed member without keys), "key:" + the first 8 characters of an
  // authorized key that is no member's (+ " " + its comment), "addr:" + the
  // remote address of an anonymous connection, "endpoint:" + a dialed
  // endpoint that is no member's, else "anonymous".
  std::string PeerLabel(const bus::Sender& sender, std::string_view claimed_node) const;

  // Refusals by the rules so far (Refused).
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  // Bad input so far, by reason (every refusal counted here).
  uint64_t bad_input(BadInputReason reason) const { return bad_input_.Get(reason); }
  // Per peer (peer_refusals.h).
  std::vector<PeerRefusals::Entry> ByPeer() const { return by_peer_.Snapshot(); }

 private:
  // Counts `why` by reason and under the sender's label; returns the label.
  std::string Tally(const absl::Status& why, const bus::Sender& sender,
                    std::string_view claimed_node, absl::Time now);

  const Parts parts_;
  std::atomic<uint64_t> refused_{0};
  BadInputCounts bad_input_;
  PeerRefusals by_peer_;
  base::LogLimiter bad_input_log_{/*lines=*/5, absl::Seconds(10)};  // by reason
  base::LogLimiter refused_log_{/*lines=*/5, absl::Seconds(10)};    // by peer label
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_TRUST_H_
