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
// A node speaks only for itself (CheckSpeaksForItself, secure transport):
// a member's key is the one its own Hello proved (kept with the member in
// the Directory). A Goodbye, NamesChanged, Members or node Hello whose
// `node` field names member X, or a node Hello that claims X's endpoint,
// is accepted only from X's key; otherwise PERMISSION_DENIED and nothing
// is applied. A node that is not a member yet binds its key with its first
// Hello; a restart (new incarnation) under the same key is fine; the same
// name under another key is refused while the old member is up.
//
// These are the rules; TrustGate::CheckMembership (trust.h) is where the
// node applies them, counts and logs what they refuse.
//
// Thread-safety: pure functions but for the Directory they read (the I/O
// thread calls them; only the I/O thread changes a node's members).
//
// Example (TrustGate::CheckMembership):
//   std::pair<std::string, std::string> pin;
//   const std::string proved = ProvedKey(sender, curve);
//   absl::Status s = CheckMembershipSender(env, sender, &pin);
//   if (s.ok()) s = CheckSpeaksForItself(env, sender, proved, directory);
//   if (!s.ok()) return s;                      // refused, counted by the gate
//   membership.PinKeys(sender, pin, listed);    // then Membership::HandleSystem
#ifndef POLIS_NODE_INTERNAL_MEMBERSHIP_GATE_H_
#define POLIS_NODE_INTERNAL_MEMBERSHIP_GATE_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "bus/curve_security.h"
#include "bus/envelope.h"
#include "bus/peer.h"
#include "node/internal/directory.h"

namespace polis::internal {

// True for the four membership message types.
bool IsMembershipMessage(const bus::EnvelopeView& env);

// See above. OK for messages that are not membership messages.
// `hearsay` gets the (endpoint, key) of every member a node's Hello lists
// with a key: candidates the caller pins only if it trusts them.
absl::Status CheckMembershipSender(const bus::EnvelopeView& env, const bus::Sender& sender,
                                   std::pair<std::string, std::string>* pin,
                                   std::vector<std::pair<std::string, std::string>>* hearsay = nullptr);

// The CURVE key `sender` proved: the authorized key its connection to this
// node's listening socket authenticated with; for an envelope that came
// back on a connection this node dialed, the server key this node pins for
// that endpoint (`curve`: the peer could not be reached without it; a key
// pinned after the connection opened is not told apart). "" for an
// anonymous sender, or with no key known.
std::string ProvedKey(const bus::Sender& sender, const bus::CurveSecurity* curve);

// See above: PERMISSION_DENIED if `env` (sent by `sender`, who proved
// `proved_key`) speaks for a member of `directory` whose key is not
// `proved_key`. OK for anonymous senders (nothing is authenticated), for
// messages that are not membership messages, for a client's Hello, for a
// node that is not a member or whose key is unknown (""), and for a payload
// that does not parse (membership reports it).
absl::Status CheckSpeaksForItself(const bus::EnvelopeView& env, const bus::Sender& sender,
                                  std::string_view proved_key, const Directory& directory);

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_MEMBERSHIP_GATE_H_
