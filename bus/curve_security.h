// bus/curve_security.h — a transport's CURVE settings: its own keypair, who
// may connect to it, and the server key of every endpoint it dials.
//
// With a CurveSecurity in ZmqTransportOptions (bus/zmq_transport.h) the
// listening ROUTER is a CURVE server that admits only the keys in
// `authorized` (ZAP, bus/internal/zap_handler.h), and every DEALER and
// Channel is a CURVE client that pins the server key known for its
// endpoint: the one set by SetServerKey, else `default_server_key`.
// Without one (null), everything is anonymous and in clear.
//
// Thread-safety: `own`, `authorized` and `default_server_key` are fixed
// at construction; SetServerKey / ServerKeyFor are thread-safe (Channels
// are opened by any thread).
//
// Example:
//   auto sec = std::make_shared<CurveSecurity>(keys, authorized, seed_key);
//   sec->SetServerKey("tcp://10.0.0.2:7000", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
//   options.curve = sec;
#ifndef POLIS_BUS_CURVE_SECURITY_H_
#define POLIS_BUS_CURVE_SECURITY_H_

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

class CurveSecurity {
 public:
  // `authorized` must not be null (an empty table admits no one).
  // `default_server_key`: Z85 or "" (then only endpoints given a key by
  // SetServerKey can be dialed).
  CurveSecurity(CurveKeyPair own, std::shared_ptr<const AuthorizedKeys> authorized,
                std::string default_server_key = "")
      : own_(std::move(own)),
        authorized_(std::move(authorized)),
        default_server_key_(std::move(default_server_key)) {}

  const CurveKeyPair& own() const { return own_; }
  const AuthorizedKeys& authorized() const { return *authorized_; }
  const std::shared_ptr<const AuthorizedKeys>& authorized_ptr() const { return authorized_; }

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
  const std::shared_ptr<const AuthorizedKeys> authorized_;
  const std::string default_server_key_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> server_keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace polis::bus

#endif  // POLIS_BUS_CURVE_SECURITY_H_
