// bus/authorized_keys.h — who may connect to a node with CURVE on.
//
// An authorized keys file has one key per line:
//   ROLE PUBLIC_KEY [names=GLOB,...] [comment...]
// ROLE is node, client or admin; PUBLIC_KEY the 40-character Z85 key (the
// content of a NAME.pub); `names=` (client lines only) lists fnmatch(3)
// globs of the server names that key may address (none: every name). '#'
// starts a comment line; blank lines are skipped. Decisions:
//   * any malformed line fails the whole file: INVALID_ARGUMENT "FILE:LINE: why";
//   * the same key twice (even with the same role) is an error;
//   * `names=` on a node or admin line is refused (they reach every name;
//     a restriction that would be silently ignored is a trap).
//
// Thread-safety: immutable once loaded; share it as
// std::shared_ptr<const AuthorizedKeys>. Pointers to its entries stay valid
// for its lifetime.
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(auto keys, AuthorizedKeys::LoadFile("/etc/polis/authorized_keys"));
//   const AuthorizedKey* k = keys->FindBinary(user_id_32_bytes);
//   if (k == nullptr || k->role != PeerRole::kNode) ...refuse
#ifndef POLIS_BUS_AUTHORIZED_KEYS_H_
#define POLIS_BUS_AUTHORIZED_KEYS_H_

#include <deque>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bus/peer.h"

namespace polis::bus {

class AuthorizedKeys {
 public:
  // Parses `text`; `source` names it in errors ("FILE:LINE: why").
  static absl::StatusOr<std::shared_ptr<const AuthorizedKeys>> Parse(absl::string_view text,
                                                                     absl::string_view source);
  // Reads and parses a file. NOT_FOUND / UNAVAILABLE if it cannot be read.
  static absl::StatusOr<std::shared_ptr<const AuthorizedKeys>> LoadFile(const std::string& path);

  // The entry for a key given as its 32 bytes (ZAP's client key) or its
  // Z85 text; null if none.
  const AuthorizedKey* FindBinary(absl::string_view key32) const;
  const AuthorizedKey* FindZ85(absl::string_view z85) const;

  size_t size() const { return entries_.size(); }
  // Every entry, in file order.
  const std::deque<AuthorizedKey>& entries() const { return entries_; }

 private:
  std::deque<AuthorizedKey> entries_;  // stable addresses
  absl::flat_hash_map<std::string, const AuthorizedKey*> by_binary_;
  absl::flat_hash_map<std::string, const AuthorizedKey*> by_z85_;  // per-message lookup
};

}  // namespace polis::bus

#endif  // POLIS_BUS_AUTHORIZED_KEYS_H_
