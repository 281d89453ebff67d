// bus/internal/datagram_socket.cc — see datagram_socket.h.
#include "bus/internal/datagram_socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bus/internal/endpoint.h"

namespace polis::bus::internal {
namespace {

constexpr absl::string_view kUdp = "udp://";
constexpr absl::string_view kUnixgram = "unixgram://";
constexpr size_t kPathOffset = offsetof(sockaddr_un, sun_path);
constexpr size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;  // 107
constexpr absl::string_view kHeartbeatSuffix = ".hb";

absl::Status BadAddress(absl::string_view address, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad heartbeat address \"", address, "\": ", why,
                   " (expected udp://IP:PORT, udp://[IPV6]:PORT or unixgram://PATH)"));
}

std::string Errno(absl::string_view what) {
  return absl::StrCat(what, ": ", std::strerror(errno));
}

// Fills `out` with the unix socket address of `path` ("@NAME" is abstract).
void UnixAddress(absl::string_view path, DatagramAddress* out) {
  auto* un = reinterpret_cast<sockaddr_un*>(&out->storage);
  un->sun_family = AF_UNIX;
  if (absl::StartsWith(path, "@")) {
    un->sun_path[0] = '\0';
    std::memcpy(un->sun_path + 1, path.data() + 1, path.size() - 1);
    out->length = static_cast<socklen_t>(kPathOffset + path.size());
  } else {
    std::memcpy(un->sun_path, path.data(), path.size());
    un->sun_path[path.size()] = '\0';
    out->length = static_cast<socklen_t>(kPathOffset + path.size() + 1);
  }
}

absl::StatusOr<DatagramAddress> ParseUdp(absl::string_view address, absl::string_view rest) {
  absl::string_view host;
  absl::string_view port;
  if (absl::StartsWith(rest, "[")) {
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos) return BadAddress(address, "no closing ']'");
    host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (!absl::StartsWith(rest, ":")) return BadAddress(address, "no port");
    port = rest.substr(1);
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos) return BadAddress(address, "no port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != absl::string_view::npos) {
      return BadAddress(address, "an IPv6 address must be in brackets");
    }
  }
  uint32_t n = 0;
  if (port.empty() || port.size() > 5 || !absl::c_all_of(port, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port, &n) || n == 0 || n > 65535) {
    return BadAddress(address, "port must be 1-65535");
  }
  const std::string host_z(host);  // inet_pton wants a terminated string
  DatagramAddress out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET, host_z.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(n));
    out.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host_z.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(n));
    out.length = sizeof(sockaddr_in6);
  } else {
    return BadAddress(address, "host is not a numeric IPv4 or IPv6 address");
  }
  return out;
}

}  // namespace

absl::StatusOr<DatagramAddress> ParseDatagramAddress(absl::string_view address) {
  if (absl::StartsWith(address, kUdp)) return ParseUdp(address, address.substr(kUdp.size()));
  if (!absl::StartsWith(address, kUnixgram)) return BadAddress(address, "unsupported scheme");
  absl::string_view path = address.substr(kUnixgram.size());
  if (path.empty() || path == "@") return BadAddress(address, "empty path");
  if (path.size() > kMaxPath) return BadAddress(address, "path longer than 107 bytes");
  if (path.find('\0') != absl::string_view::npos) return BadAddress(address, "NUL in path");
  DatagramAddress out;
  UnixAddress(path, &out);
  return out;
}

std::string FormatDatagramAddress(const DatagramAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  switch (address.family()) {
    case AF_INET: {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address.storage);
      inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
      return absl::StrCat(kUdp, text, ":", ntohs(v4->sin_port));
    }
    case AF_INET6: {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address.storage);
      inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
      return absl::StrCat(kUdp, "[", text, "]:", ntohs(v6->sin6_port));
    }
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&address.storage);
      if (address.length <= kPathOffset) return std::string(kUnixgram);
      const size_t len = address.length - kPathOffset;
      if (un->sun_path[0] == '\0') {
        return absl::StrCat(kUnixgram, "@", absl::string_view(un->sun_path + 1, len - 1));
      }
      return absl::StrCat(kUnixgram, absl::string_view(un->sun_path, strnlen(un->sun_path, len)));
    }
    default:
      return "unknown://";
  }
}

absl::StatusOr<std::unique_ptr<DatagramSocket>> DatagramSocket::BindFor(
    absl::string_view endpoint) {
  if (absl::Status s = ValidateEndpoint(endpoint, EndpointUse::kConnect); !s.ok()) return s;
  DatagramAddress bind_to;
  std::string path;
  if (absl::StartsWith(endpoint, "ipc://")) {
    path = absl::StrCat(endpoint.substr(6), kHeartbeatSuffix);
    if (path.size() > kMaxPath) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ipc path of \"", endpoint, "\" is too long for its heartbeat socket \"", path,
          "\" (at most ", kMaxPath - kHeartbeatSuffix.size(), " bytes)"));
    }
    UnixAddress(path, &bind_to);
    // A socket file left by a node that died: rebinding needs it gone. Only
    // a socket is removed, never another kind of file.
    struct stat st;
    if (path[0] != '@' && lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      unlink(path.c_str());
    }
  } else {
    absl::string_view rest = endpoint.substr(6);
    std::string host(rest.substr(0, rest.rfind(':')));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    addrinfo hints = {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    if (const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
      return absl::UnavailableError(
          absl::StrCat("heartbeat socket for ", endpoint, ": cannot resolve \"", host,
                       "\": ", gai_strerror(rc)));
    }
    // IPv4 first, as ZeroMQ resolves a name (ZMQ_IPV6 off); else the first.
    const addrinfo* pick = found;
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
      if (ai->ai_family == AF_INET) {
        pick = ai;
        break;
      }
    }
    std::memcpy(&bind_to.storage, pick->ai_addr, pick->ai_addrlen);
    bind_to.length = pick->ai_addrlen;
    freeaddrinfo(found);
    // Port 0: the kernel picks one.
    if (bind_to.family() == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&bind_to.storage)->sin_port = 0;
    } else {
      reinterpret_cast<sockaddr_in6*>(&bind_to.storage)->sin6_port = 0;
    }
  }

  const int fd = socket(bind_to.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(Errno("heartbeat socket: socket()"));
  if (bind(fd, bind_to.addr(), bind_to.length) != 0) {
    const std::string error = Errno(absl::StrCat("heartbeat socket: bind to ",
                                                 FormatDatagramAddress(bind_to), " for ", endpoint));
    close(fd);
    return absl::UnavailableError(error);
  }
  DatagramAddress bound;
  bound.length = sizeof(bound.storage);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound.storage), &bound.length) != 0) {
    const std::string error = Errno("heartbeat socket: getsockname()");
    close(fd);
    return absl::UnavailableError(error);
  }
  std::unique_ptr<DatagramSocket> socket(
      new DatagramSocket(fd, bind_to.family(), FormatDatagramAddress(bound)));
  struct stat st;
  if (!path.empty() && path[0] != '@' && stat(path.c_str(), &st) == 0) {
    socket->path_ = std::move(path);
    socket->path_dev_ = st.st_dev;
    socket->path_ino_ = st.st_ino;
  }
  return socket;
}

DatagramSocket::~DatagramSocket() {
  struct stat st;
  if (!path_.empty() && stat(path_.c_str(), &st) == 0 && st.st_dev == path_dev_ &&
      st.st_ino == path_ino_) {
    unlink(path_.c_str());
  }
  close(fd_);
}

absl::StatusOr<int> OpenSendOnlySocket(int family) {
  const int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(Errno("heartbeat send socket: socket()"));
  return fd;
}

}  // namespace polis::bus::internal
