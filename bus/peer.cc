// bus/peer.cc — see peer.h.
#include "bus/peer.h"

#include <fnmatch.h>

namespace polis::bus {

std::string_view PeerRoleName(PeerRole role) {
  switch (role) {
    case PeerRole::kAnonymous:
      return "anonymous";
    case PeerRole::kNode:
      return "node";
    case PeerRole::kClient:
      return "client";
    case PeerRole::kAdmin:
      return "admin";
    case PeerRole::kRevoked:
      return "revoked";
  }
  return "unknown";
}

bool AuthorizedKey::MayReach(std::string_view name) const {
  if (role != PeerRole::kClient || name_globs.empty() || name.empty()) return true;
  const std::string n(name);
  for (const std::string& glob : name_globs) {
    if (fnmatch(glob.c_str(), n.c_str(), 0) == 0) return true;
  }
  return false;
}

}  // namespace polis::bus
