// bus/curve_security.cc — see curve_security.h.
#include "bus/curve_security.h"

#include <utility>

namespace polis::bus {

AuthorizedKeysChange CurveSecurity::SetAuthorized(std::shared_ptr<const AuthorizedKeys> keys) {
  AuthorizedKeysChange change;
  change.keys = keys->size();
  std::shared_ptr<const AuthorizedKeys> old;
  {
    absl::MutexLock lock(&mu_);
    old = std::exchange(authorized_, keys);
    version_.fetch_add(1, std::memory_order_release);
  }
  for (const AuthorizedKey& k : keys->entries()) {
    if (old->FindZ85(k.public_key) == nullptr) ++change.added;
  }
  for (const AuthorizedKey& k : old->entries()) {
    if (keys->FindZ85(k.public_key) == nullptr) ++change.removed;
  }
  return change;  // `old` goes here (or with a reader's last snapshot), not under the lock
}

absl::StatusOr<AuthorizedKeysChange> ReloadAuthorizedKeys(CurveSecurity& security,
                                                          const std::string& path) {
  absl::StatusOr<std::shared_ptr<const AuthorizedKeys>> keys = AuthorizedKeys::LoadFile(path);
  if (!keys.ok()) return keys.status();
  return security.SetAuthorized(*std::move(keys));
}

}  // namespace polis::bus
