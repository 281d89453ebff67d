// bus/curve_keys.cc — see curve_keys.h.
#include "bus/curve_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include <zmq.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace polis::bus {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  const int err = errno;
  std::string text = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(text);
  if (err == EEXIST) return absl::AlreadyExistsError(text);
  return absl::UnavailableError(text);
}

// Creates `path` with O_EXCL|0600 and writes `text`.
absl::Status WriteNew(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Errno("cannot create", path);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = Errno("cannot write", path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Errno("cannot write", path);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Errno("cannot read", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool CurveAvailable() { return zmq_has("curve") != 0; }

absl::StatusOr<CurveKeyPair> GenerateCurveKeyPair() {
  if (!CurveAvailable()) {
    return absl::FailedPreconditionError("this libzmq was built without CURVE (libsodium)");
  }
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0) {
    return absl::InternalError(absl::StrCat("zmq_curve_keypair: ", zmq_strerror(zmq_errno())));
  }
  return CurveKeyPair{std::string(pub, 40), std::string(sec, 40)};
}

absl::Status ValidateCurveKey(absl::string_view z85) {
  if (z85.size() != kCurveKeyZ85Chars) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "a CURVE key is %d Z85 characters, not %d", kCurveKeyZ85Chars, z85.size()));
  }
  if (CurveKeyBinary(z85).empty()) {
    return absl::InvalidArgumentError("not a Z85 key (bad character)");
  }
  return absl::OkStatus();
}

std::string CurveKeyBinary(absl::string_view z85) {
  if (z85.size() != kCurveKeyZ85Chars) return "";
  std::string text(z85);
  uint8_t out[kCurveKeyBytes];
  if (zmq_z85_decode(out, text.c_str()) == nullptr) return "";
  // zmq_z85_decode accepts some characters outside the alphabet; a round
  // trip catches them.
  char back[kCurveKeyZ85Chars + 1];
  if (zmq_z85_encode(back, out, kCurveKeyBytes) == nullptr || text != back) return "";
  return std::string(reinterpret_cast<const char*>(out), kCurveKeyBytes);
}

absl::Status WriteCurveKeyFiles(const std::string& base, const CurveKeyPair& keys) {
  const std::string pub = base + ".pub", sec = base + ".key";
  struct stat st;
  if (::stat(pub.c_str(), &st) == 0) return absl::AlreadyExistsError(pub + " already exists");
  if (::stat(sec.c_str(), &st) == 0) return absl::AlreadyExistsError(sec + " already exists");
  if (absl::Status s = WriteNew(sec,
                                absl::StrCat("# polis CURVE secret key: keep it private (mode 0600)\n",
                                             "public-key ", keys.public_key, "\n", "secret-key ",
                                             keys.secret_key, "\n"),
                                0600);
      !s.ok()) {
    return s;
  }
  return WriteNew(pub, keys.public_key + "\n", 0644);
}

absl::StatusOr<CurveKeyPair> LoadCurveSecretKeyFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Errno("cannot read", path);
  if ((st.st_mode & 0077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s is readable by group or others (mode %04o); run chmod 600 %s", path,
                        st.st_mode & 07777, path));
  }
  auto text = ReadAll(path);
  if (!text.ok()) return text.status();
  CurveKeyPair keys;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_no, ": ", why));
    };
    if (words.size() != 2 || (words[0] != "public-key" && words[0] != "secret-key")) {
      return bad("expected 'public-key Z85' or 'secret-key Z85'");
    }
    if (absl::Status s = ValidateCurveKey(words[1]); !s.ok()) return bad(s.message());
    std::string& slot = words[0] == "public-key" ? keys.public_key : keys.secret_key;
    if (!slot.empty()) return bad(absl::StrCat("a second ", words[0]));
    slot = std::string(words[1]);
  }
  if (keys.secret_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", line_no, ": no secret-key line"));
  }
  char derived[41];
  if (zmq_curve_public(derived, keys.secret_key.c_str()) != 0) {
    return absl::FailedPreconditionError("this libzmq was built without CURVE (libsodium)");
  }
  if (keys.public_key.empty()) {
    keys.public_key = derived;
  } else if (keys.public_key != derived) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the public-key does not belong to the secret-key"));
  }
  return keys;
}

absl::StatusOr<std::string> LoadCurvePublicKey(const std::string& file_or_z85) {
  if (file_or_z85.size() == kCurveKeyZ85Chars && ValidateCurveKey(file_or_z85).ok()) {
    struct stat st;
    if (::stat(file_or_z85.c_str(), &st) != 0) return file_or_z85;  // the key itself
  }
  auto text = ReadAll(file_or_z85);
  if (!text.ok()) return text.status();
  if (absl::StrContains(*text, "secret-key")) {
    auto keys = LoadCurveSecretKeyFile(file_or_z85);
    if (!keys.ok()) return keys.status();
    return keys->public_key;
  }
  absl::string_view key = absl::StripAsciiWhitespace(*text);
  if (absl::Status s = ValidateCurveKey(key); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(file_or_z85, ":1: ", s.message()));
  }
  return std::string(key);
}

}  // namespace polis::bus
