// node/internal/membership_gate.h — who may send membership messages
// (Hello, NamesChanged, Members, Goodbye), given the authenticated Sender
// of the connection they came on (bus/peer.h).
//
// Rules (secure transport, CurveZMQ on):
//   * kNode senders: accepted. A member's Hello that came in on this
//     node's listening socket gives the key to pin for its endpoint: the
//     key its connection authenticated with (an authorized `node` key), so
//     this node can dial it back; `*pin` is set to {endpoint, key}.
//   * kClient / kAdmin senders: only a client's Hello (client = true) —
//     a client key is never accepted as a node. Anything else is refused
//     with PERMISSION_DENIED.
//   * kAnonymous (no CURVE): accepted as before (no authentication: anyone
//     who reaches the socket may speak for any node; that is why nodes
//     refuse to listen off loopback without keys unless --insecure).
//
// Thread-safety: a pure function (the I/O thread calls it).
//
// Example:
//   std::pair<std::string, std::string> pin;
//   if (absl::Status s = CheckMembershipSender(env, sender, &pin); !s.ok()) return drop(s);
//   if (!pin.first.empty()) transport.SetPeerKey(pin.first, pin.second);
#ifndef POLIS_NODE_INTERNAL_MEMBERSHIP_GATE_H_
#define POLIS_NODE_INTERNAL_MEMBERSHIP_GATE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "bus/envelope.h"
#include "bus/peer.h"

namespace polis::internal {

// True for the four membership message types.
bool IsMembershipMessage(const bus::EnvelopeView& env);

// See above. OK for messages that are not membership messages.
// `hearsay` gets the (endpoint, key) of every member a node's Hello lists
// with a key: candidates the caller pins only if it trusts them.
absl::Status CheckMembershipSender(const bus::EnvelopeView& env, const bus::Sender& sender,
                                   std::pair<std::string, std::string>* pin,
                                   std::vector<std::pair<std::string, std::string>>* hearsay = nullptr);

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_MEMBERSHIP_GATE_H_
