// bus/peer.h — who is at the other end of the connection an envelope came on.
//
// A transport hands every envelope it delivers to the node together with a
// `Sender`: the role the connection authenticated with (CurveZMQ and the
// node's authorized keys, bus/authorized_keys.h) and, for a connection this
// node opened itself, the endpoint it dialed. The node (node/) decides from
// it what the envelope may do: only `kNode` peers (or, without CURVE,
// `kAnonymous` ones, bound to the connection they said Hello on) send
// system messages about themselves; a `kClient` may call, cast and send to
// the names its key's line allows; a `kAdmin` may also reach supervisors
// and system requests.
//
// Thread-safety: plain values. An `AuthorizedKey` is immutable once loaded
// and outlives the OnEnvelope call that gets a pointer to it (the transport
// holds a snapshot of the table it came from while it delivers; the table
// may be replaced later, so a pointer must not be kept past the call).
//
// Example:
//   void OnEnvelope(const EnvelopeView& e, const ReturnPath& from, absl::Time at,
//                   const Sender& sender) override {
//     if (e.kind == wire::KIND_CALL && !sender.MayReach(e.recipient_name)) ...refuse
//   }
#ifndef POLIS_BUS_PEER_H_
#define POLIS_BUS_PEER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace polis::bus {

enum class PeerRole : uint8_t {
  // The transport authenticates no one (no CURVE keys: a node on loopback,
  // ipc, or started with --insecure). Anyone who reaches the socket.
  kAnonymous = 0,
  // A cluster member: may join, say Hello/NamesChanged/Goodbye about itself,
  // place monitors, send the runtime's notifications.
  kNode,
  // May call, cast and send to the names its line allows (all if none).
  kClient,
  // A client that may also reach supervisors and system requests.
  kAdmin,
  // A key that authenticated when its connection opened but is no longer in
  // the authorized keys (the table was replaced since, CurveSecurity::
  // SetAuthorized). Everything it sends is refused: calls are answered
  // PERMISSION_DENIED, the rest dropped and counted. `Sender::key` is null.
  kRevoked,
};

// "anonymous", "node", "client", "admin".
std::string_view PeerRoleName(PeerRole role);

// One line of an authorized keys file:
//   ROLE PUBLIC_KEY [names=GLOB,...] [comment]
struct AuthorizedKey {
  PeerRole role = PeerRole::kClient;
  std::string public_key;                // Z85, 40 characters
  std::vector<std::string> name_globs;   // empty: any name
  std::string comment;                   // the rest of the line, for logs
  int line = 0;                          // in the file, for logs

  // True if this key may address the server `name` (fnmatch(3) globs:
  // `*`, `?`, `[...]`). An empty name (a pid, a system request) is not a
  // name: true. Nodes and admins reach every name.
  bool MayReach(std::string_view name) const;
};

// Where a connection comes from, asked only on the bad path (a refusal to
// count per peer): the transport's own lookup, valid while the envelope is.
class Origin {
 public:
  // The remote address ("127.0.0.1"; libzmq's Peer-Address property), or
  // "" if the transport cannot tell (ipc, inproc).
  virtual std::string Address() const = 0;

 protected:
  ~Origin() = default;
};

struct Sender {
  PeerRole role = PeerRole::kAnonymous;
  // The authorized key the connection authenticated with, for envelopes
  // that came in on this node's listening socket with CURVE on; null
  // otherwise (no CURVE, or a connection this node dialed).
  const AuthorizedKey* key = nullptr;
  // Non-empty: the envelope came back on the connection this node opened to
  // this endpoint (answers and replies from the node it dialed: with CURVE
  // that node proved the key this node pinned for the endpoint).
  std::string_view dialed;
  // Where an envelope on the listening socket came from (null: unknown).
  // Read only to count a refusal: a good envelope never asks.
  const Origin* origin = nullptr;

  // origin->Address(), or "".
  std::string Address() const { return origin != nullptr ? origin->Address() : std::string(); }
  // A peer that may speak as a cluster member (kNode, or kAnonymous on a
  // transport without authentication).
  bool may_be_node() const { return role == PeerRole::kNode || role == PeerRole::kAnonymous; }
  // May reach supervisors and system requests.
  bool is_privileged() const { return role != PeerRole::kClient && role != PeerRole::kRevoked; }
  // See AuthorizedKey::MayReach; true without a key.
  bool MayReach(std::string_view name) const { return key == nullptr || key->MayReach(name); }
};

}  // namespace polis::bus

#endif  // POLIS_BUS_PEER_H_
