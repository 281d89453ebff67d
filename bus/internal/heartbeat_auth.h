// bus/internal/heartbeat_auth.h — the heartbeat key and MAC (libsodium's
// HMAC-SHA-256), so that only a node that was told a member's key can speak
// for that member on the heartbeat socket.
//
// Each node draws one key per incarnation (NewHeartbeatKey) and tells it to
// its peers in its own Hello (wire::Hello.heartbeat_key), which travels on
// the node-to-node connection (encrypted and authenticated with CURVE).
// Each beat it sends is a wire::Heartbeat serialized without `mac`, followed
// by the `mac` field (tag 0x32, length 32, then HMAC-SHA-256 under the
// sender's key of every byte before that field): bus/WIRE.md, "Heartbeats".
// Appending a field to a serialized message is itself a valid serialization,
// so the receiver parses the whole datagram and checks the MAC over the
// bytes before its last 34 — no re-serialization, whatever the sender's
// protobuf library.
//
// Thread-safety: free functions over their arguments only; thread-safe.
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(HeartbeatKey key, NewHeartbeatKey());
//   beat.SerializeToString(&datagram);
//   AppendHeartbeatMac(key, &datagram);
//   bool ok = HeartbeatMacValid(key, datagram);   // at the receiver
#ifndef POLIS_BUS_INTERNAL_HEARTBEAT_AUTH_H_
#define POLIS_BUS_INTERNAL_HEARTBEAT_AUTH_H_

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace polis::bus::internal {

inline constexpr size_t kHeartbeatKeyBytes = 32;
inline constexpr size_t kHeartbeatMacBytes = 32;
// The `mac` field as it ends a signed datagram: tag (field 6, length-
// delimited), length, MAC.
inline constexpr size_t kHeartbeatMacFieldBytes = 2 + kHeartbeatMacBytes;

using HeartbeatKey = std::array<unsigned char, kHeartbeatKeyBytes>;

// A fresh key from libsodium's CSPRNG (getrandom(2)). UNAVAILABLE if
// libsodium cannot be initialised (no entropy source).
absl::StatusOr<HeartbeatKey> NewHeartbeatKey();

// The key as it travels in a Hello (32 raw bytes). INVALID_ARGUMENT for any
// other length (a missing key included).
absl::StatusOr<HeartbeatKey> HeartbeatKeyFromBytes(std::string_view bytes);
inline std::string_view HeartbeatKeyBytes(const HeartbeatKey& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

// Appends the `mac` field over all of `*serialized` (a wire::Heartbeat
// serialized without `mac`). Reuses the string's capacity: no allocation
// once it has grown.
void AppendHeartbeatMac(const HeartbeatKey& key, std::string* serialized);

// True if `datagram` ends with a `mac` field (tag 0x32, length 32) whose MAC
// under `key` covers every byte before it (constant-time compare). False for
// a datagram without one, or with another key's MAC.
bool HeartbeatMacValid(const HeartbeatKey& key, std::string_view datagram);

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_HEARTBEAT_AUTH_H_
