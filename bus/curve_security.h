// bus/curve_security.h — a transport's CURVE settings: its own keypair, who
// may connect to it, and the server key of every endpoint it dials.
//
// With a CurveSecurity in ZmqTransportOptions (bus/zmq_transport.h) the
// listening ROUTER is a CURVE server that admits only the keys in the
// authorized table (ZAP, bus/internal/zap_handler.h), and every DEALER and
// Channel is a CURVE client that pins the server key known for its
// endpoint: the one set by SetServerKey, else `default_server_key`.
// Without one (null), everything is anonymous and in clear.
//
// The authorized table can be replaced while the transport runs
// (SetAuthorized: `polis node` on SIGHUP). Each reader takes a snapshot:
// the ZAP handler for each handshake, the I/O thread once per batch of
// messages it reads (AuthorizedSnapshot: one atomic load per batch while the
// table is unchanged). A key that is no longer in the table is refused at
// its next handshake and, on a connection it opened before, at its next
// message (bus/peer.h PeerRole::kRevoked); a key whose role or names
// changed gets the new ones from its next message.
//
// Thread-safety: `own` and `default_server_key` are fixed at construction;
// every other method is thread-safe (Channels are opened by any thread, the
// table is read on the I/O and ZAP threads and replaced from any).
//
// Example:
//   auto sec = std::make_shared<CurveSecurity>(keys, authorized, seed_key);
//   sec->SetServerKey("tcp://10.0.0.2:7000", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
//   options.curve = sec;
//   ...
//   AuthorizedKeysChange c = sec->SetAuthorized(*AuthorizedKeys::LoadFile(path));
#ifndef POLIS_BUS_CURVE_SECURITY_H_
#define POLIS_BUS_CURVE_SECURITY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "bus/authorized_keys.h"
#include "bus/curve_keys.h"

namespace polis::bus {

// What SetAuthorized changed: keys in the new table and not the old one,
// and the other way round (a key whose role or names changed is neither).
struct AuthorizedKeysChange {
  size_t keys = 0;     // in the new table
  size_t added = 0;
  size_t removed = 0;
};

class CurveSecurity {
 public:
  // `authorized` must not be null (an empty table admits no one).
  // `default_server_key`: Z85 or "" (then only endpoints given a key by
  // SetServerKey can be dialed).
  CurveSecurity(CurveKeyPair own, std::shared_ptr<const AuthorizedKeys> authorized,
                std::string default_server_key = "")
      : own_(std::move(own)),
        default_server_key_(std::move(default_server_key)),
        authorized_(std::move(authorized)) {}

  const CurveKeyPair& own() const { return own_; }

  // The authorized table now (never null). A snapshot: it stays valid, and
  // unchanged, as long as the caller holds it. Thread-safe.
  std::shared_ptr<const AuthorizedKeys> authorized() const {
    absl::MutexLock lock(&mu_);
    return authorized_;
  }
  // Bumped by every SetAuthorized: a reader's cheap "has it changed?".
  uint64_t authorized_version() const { return version_.load(std::memory_order_acquire); }

  // Replaces the authorized table (`keys` must not be null) for handshakes
  // and messages from now on; says what changed. Thread-safe.
  AuthorizedKeysChange SetAuthorized(std::shared_ptr<const AuthorizedKeys> keys);

  // Pins `z85` as the server key of `endpoint` for connections opened from
  // now on. INVALID_ARGUMENT if it is not a key.
  absl::Status SetServerKey(const std::string& endpoint, const std::string& z85) {
    if (absl::Status s = ValidateCurveKey(z85); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    server_keys_[endpoint] = z85;
    return absl::OkStatus();
  }

  // The key pinned for `endpoint` by SetServerKey; "" if none (the default
  // is not returned).
  std::string PinnedKey(const std::string& endpoint) const {
    absl::MutexLock lock(&mu_);
    auto it = server_keys_.find(endpoint);
    return it == server_keys_.end() ? std::string() : it->second;
  }

  // The server key to pin for `endpoint`. FAILED_PRECONDITION if none is
  // known (no SetServerKey, no default).
  absl::StatusOr<std::string> ServerKeyFor(const std::string& endpoint) const {
    absl::MutexLock lock(&mu_);
    if (auto it = server_keys_.find(endpoint); it != server_keys_.end()) return it->second;
    if (!default_server_key_.empty()) return default_server_key_;
    return absl::FailedPreconditionError(
        "no CURVE server key known for " + endpoint +
        " (give it with ENDPOINT@KEY or --server-key, or learn it from a member list)");
  }

 private:
  const CurveKeyPair own_;
  const std::string default_server_key_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const AuthorizedKeys> authorized_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> version_{0};
  absl::flat_hash_map<std::string, std::string> server_keys_ ABSL_GUARDED_BY(mu_);
};

// Reads and parses the authorized keys file `path` and, if it is good,
// makes it `security`'s table (SetAuthorized). A file that cannot be read
// (NOT_FOUND) or parsed (INVALID_ARGUMENT "FILE:LINE: why") changes
// nothing: the table in use stays. Thread-safe.
absl::StatusOr<AuthorizedKeysChange> ReloadAuthorizedKeys(CurveSecurity& security,
                                                          const std::string& path);

// One thread's view of a CurveSecurity's authorized table: Current() costs
// one atomic load while the table is unchanged, and re-reads it (under the
// CurveSecurity's lock) after a SetAuthorized. Pointers into the table it
// returned stay valid until the next Current() on this object.
//
// Thread-safety: one thread at a time (the I/O thread; the ZAP thread has
// its own). `security` must outlive it.
class AuthorizedSnapshot {
 public:
  explicit AuthorizedSnapshot(const CurveSecurity& security)
      : security_(&security), version_(security.authorized_version()),
        keys_(security.authorized()) {}

  const AuthorizedKeys& Current() {
    const uint64_t v = security_->authorized_version();
    if (v != version_) {
      // A newer table may be read here than `v` names: the next call then
      // reads it once more, harmlessly.
      keys_ = security_->authorized();
      version_ = v;
    }
    return *keys_;
  }

 private:
  const CurveSecurity* security_;
  uint64_t version_;
  std::shared_ptr<const AuthorizedKeys> keys_;
};

}  // namespace polis::bus

#endif  // POLIS_BUS_CURVE_SECURITY_H_
