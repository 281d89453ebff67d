// bus/curve_keys.h — CurveZMQ keypairs and the files that hold them.
//
// A node or client proves who it is with a CURVE keypair (libzmq's
// zmq_curve_keypair; Debian's libzmq has CURVE through libsodium). Two files:
//   NAME.pub  the 40-character Z85 public key and a newline (share it: it
//             goes into other nodes' authorized keys files, --server-key).
//   NAME.key  the secret key file, mode 0600 (created with O_EXCL|0600):
//               public-key <Z85>
//               secret-key <Z85>
//             '#' comment lines and blank lines are allowed.
// Loading a secret key file readable by group or others is refused, as ssh
// does. Keys are kept in Z85 (40 characters); `Binary` gives the 32 bytes.
//
// Thread-safety: free functions; a CurveKeyPair is a plain value.
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(CurveKeyPair kp, GenerateCurveKeyPair());
//   POLIS_RETURN_IF_ERROR(WriteCurveKeyFiles("/etc/polis/node1", kp));
//   POLIS_ASSIGN_OR_RETURN(CurveKeyPair again, LoadCurveSecretKeyFile("/etc/polis/node1.key"));
//   POLIS_ASSIGN_OR_RETURN(std::string pub, LoadCurvePublicKey("/etc/polis/node1.pub"));
#ifndef POLIS_BUS_CURVE_KEYS_H_
#define POLIS_BUS_CURVE_KEYS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace polis::bus {

inline constexpr size_t kCurveKeyZ85Chars = 40;
inline constexpr size_t kCurveKeyBytes = 32;

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

// True if libzmq was built with CURVE (zmq_has("curve")).
bool CurveAvailable();

// A fresh keypair. FAILED_PRECONDITION if libzmq has no CURVE.
absl::StatusOr<CurveKeyPair> GenerateCurveKeyPair();

// Checks `z85` is a 40-character Z85 key. INVALID_ARGUMENT saying why.
absl::Status ValidateCurveKey(absl::string_view z85);

// The 32 bytes of a valid Z85 key ("" if it is not one).
std::string CurveKeyBinary(absl::string_view z85);

// Writes BASE.pub and BASE.key (mode 0600). ALREADY_EXISTS if either file
// exists (nothing is overwritten; BASE.pub is not written if BASE.key
// could not be); UNAVAILABLE for other I/O errors (errno text).
absl::Status WriteCurveKeyFiles(const std::string& base, const CurveKeyPair& keys);

// Reads a secret key file. FAILED_PRECONDITION if its mode lets group or
// others read it ("FILE is readable by group or others (mode 0644); run
// chmod 600 FILE"); NOT_FOUND if missing; INVALID_ARGUMENT "FILE:LINE: why"
// if malformed or the public key does not belong to the secret key.
absl::StatusOr<CurveKeyPair> LoadCurveSecretKeyFile(const std::string& path);

// A public key given as a file (NAME.pub, or a secret key file: its public
// key) or as the 40-character Z85 text itself. NOT_FOUND / INVALID_ARGUMENT.
absl::StatusOr<std::string> LoadCurvePublicKey(const std::string& file_or_z85);

}  // namespace polis::bus

#endif  // POLIS_BUS_CURVE_KEYS_H_
