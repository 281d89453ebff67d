// bus/internal/heartbeat_auth.cc — see heartbeat_auth.h.
#include "bus/internal/heartbeat_auth.h"

#include <sodium.h>

#include "absl/strings/str_cat.h"

namespace polis::bus::internal {
namespace {

static_assert(crypto_auth_hmacsha256_KEYBYTES == kHeartbeatKeyBytes);
static_assert(crypto_auth_hmacsha256_BYTES == kHeartbeatMacBytes);

// wire::Heartbeat.mac = 6, wire type 2 (length-delimited): (6 << 3) | 2.
constexpr char kMacTag = 0x32;
constexpr char kMacLength = static_cast<char>(kHeartbeatMacBytes);

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

absl::StatusOr<HeartbeatKey> NewHeartbeatKey() {
  if (sodium_init() < 0) {  // Thread-safe; 1 when already done.
    return absl::UnavailableError("heartbeat key: libsodium cannot be initialised");
  }
  HeartbeatKey key;
  crypto_auth_hmacsha256_keygen(key.data());
  return key;
}

absl::StatusOr<HeartbeatKey> HeartbeatKeyFromBytes(std::string_view bytes) {
  if (bytes.size() != kHeartbeatKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("heartbeat key: ", bytes.size(),
                                                   " bytes, want ", kHeartbeatKeyBytes));
  }
  HeartbeatKey key;
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return key;
}

void AppendHeartbeatMac(const HeartbeatKey& key, std::string* serialized) {
  const size_t body = serialized->size();
  serialized->resize(body + kHeartbeatMacFieldBytes);
  char* field = serialized->data() + body;
  field[0] = kMacTag;
  field[1] = kMacLength;
  crypto_auth_hmacsha256(reinterpret_cast<unsigned char*>(field + 2), Bytes(*serialized), body,
                         key.data());
}

bool HeartbeatMacValid(const HeartbeatKey& key, std::string_view datagram) {
  if (datagram.size() < kHeartbeatMacFieldBytes) return false;
  const size_t body = datagram.size() - kHeartbeatMacFieldBytes;
  if (datagram[body] != kMacTag || datagram[body + 1] != kMacLength) return false;
  return crypto_auth_hmacsha256_verify(Bytes(datagram.substr(body + 2)), Bytes(datagram), body,
                                       key.data()) == 0;
}

}  // namespace polis::bus::internal
