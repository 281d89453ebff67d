// node/internal/seed_spec.cc — see seed_spec.h.
#include "node/internal/seed_spec.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"

namespace polis::internal {
namespace {

constexpr absl::string_view kTcp = "tcp://";
constexpr absl::string_view kIpc = "ipc://";
constexpr absl::string_view kDns = "dns:";

absl::Status Bad(absl::string_view spec, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad seed \"", spec, "\": ", why,
                   " (expected tcp://HOST:PORT, ipc://PATH or dns:HOST:PORT)"));
}

// A host and port split out of "HOST:PORT" or "[IPv6]:PORT".
struct HostPort {
  std::string host;  // Without the brackets.
  uint16_t port = 0;
  bool bracketed = false;
};

// True if `addr` is an IPv6 address, optionally with a "%zone" suffix.
bool IsIpv6(absl::string_view addr) {
  const size_t percent = addr.find('%');
  if (percent != absl::string_view::npos) {
    absl::string_view zone = addr.substr(percent + 1);
    if (zone.empty() || !absl::c_all_of(zone, [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                 c == '.';
        })) {
      return false;
    }
    addr = addr.substr(0, percent);
  }
  const std::string text(addr);
  in6_addr out;
  return inet_pton(AF_INET6, text.c_str(), &out) == 1;
}

absl::StatusOr<uint16_t> ParsePort(absl::string_view spec, absl::string_view port) {
  if (port.empty()) return Bad(spec, "no port");
  uint32_t n = 0;
  if (!absl::c_all_of(port, absl::ascii_isdigit) || !absl::SimpleAtoi(port, &n) || n == 0 ||
      n > 65535) {
    return Bad(spec, absl::StrCat("port must be 1-65535, not \"", port, "\""));
  }
  return static_cast<uint16_t>(n);
}

// Splits `rest` (the part of `spec` after the scheme) into host and port.
absl::StatusOr<HostPort> SplitHostPort(absl::string_view spec, absl::string_view rest) {
  HostPort out;
  absl::string_view host;
  absl::string_view port;
  if (absl::StartsWith(rest, "[")) {
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos) return Bad(spec, "no ']' after the IPv6 address");
    host = rest.substr(1, close - 1);
    absl::string_view after = rest.substr(close + 1);
    if (after.empty()) return Bad(spec, "no port");
    if (after[0] != ':') return Bad(spec, "expected \":PORT\" after ']'");
    port = after.substr(1);
    if (host.empty()) return Bad(spec, "empty host");
    if (!IsIpv6(host)) return Bad(spec, absl::StrCat("\"", host, "\" is not an IPv6 address"));
    out.bracketed = true;
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos) return Bad(spec, "no port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.empty()) return Bad(spec, "empty host");
  }
  POLIS_ASSIGN_OR_RETURN(out.port, ParsePort(spec, port));
  out.host = std::string(host);
  return out;
}

// A DNS name (or IPv4 address): labels of letters, digits, '-' and '_',
// separated by dots, a trailing dot allowed (a fully qualified name).
absl::Status CheckDnsName(absl::string_view spec, absl::string_view host) {
  if (absl::StrContains(host, ':')) {
    return Bad(spec, "an IPv6 address needs brackets, as in dns:[fd00::1]:PORT");
  }
  if (host.size() > 254 || (host.size() == 254 && host.back() != '.')) {
    return Bad(spec, "host name longer than 253 characters");
  }
  if (absl::EndsWith(host, ".")) host.remove_suffix(1);
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    if (label.empty()) return Bad(spec, "empty label in host name");
    if (label.size() > 63) return Bad(spec, "host name label longer than 63 characters");
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
        return Bad(spec,
                   absl::StrCat("invalid character '", absl::string_view(&c, 1), "' in host name"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<HostPort> ParseDnsSeed(absl::string_view spec) {
  absl::string_view rest = spec.substr(kDns.size());
  if (absl::StartsWith(rest, "//")) return Bad(spec, "write dns:HOST:PORT, without \"//\"");
  if (absl::StrContains(rest, '/')) return Bad(spec, "a dns: seed has no path");
  POLIS_ASSIGN_OR_RETURN(HostPort hp, SplitHostPort(spec, rest));
  if (!hp.bracketed) POLIS_RETURN_IF_ERROR(CheckDnsName(spec, hp.host));
  return hp;
}

absl::Status ValidateTcpSeed(absl::string_view spec) {
  POLIS_ASSIGN_OR_RETURN(HostPort hp, SplitHostPort(spec, spec.substr(kTcp.size())));
  if (hp.bracketed) return absl::OkStatus();
  if (hp.host == "*") return Bad(spec, "a wildcard host can only be bound, not connected to");
  for (char c : hp.host) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '/') {
      return Bad(spec, "invalid character in host");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateIpcSeed(absl::string_view spec) {
  absl::string_view path = spec.substr(kIpc.size());
  if (path.empty()) return Bad(spec, "empty ipc path");
  if (path == "*") return Bad(spec, "a wildcard ipc path can only be bound");
  // sockaddr_un.sun_path holds 107 characters plus the terminator.
  if (path.size() > 107) return Bad(spec, "ipc path longer than 107 bytes");
  return absl::OkStatus();
}

// The status for getaddrinfo's error `rc` (`err` is errno right after it).
absl::Status GaiError(absl::string_view spec, absl::string_view host, int rc, int err) {
  const std::string what =
      absl::StrCat("cannot resolve \"", host, "\" (seed \"", spec,
                   "\"): ", rc == EAI_SYSTEM ? std::strerror(err) : gai_strerror(rc));
  switch (rc) {
    case EAI_AGAIN:
    case EAI_SYSTEM:
      return absl::UnavailableError(what);
    case EAI_MEMORY:
      return absl::ResourceExhaustedError(what);
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_ADDRFAMILY:
    case EAI_FAIL:
      return absl::NotFoundError(what);
    default:
      return absl::InternalError(what);
  }
}

// "tcp://IP:PORT" for one address getaddrinfo returned; empty for a family
// that is neither IPv4 nor IPv6.
std::string Endpoint(const addrinfo& ai, uint16_t port) {
  char ip[INET6_ADDRSTRLEN] = {};
  if (ai.ai_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(ai.ai_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip) == nullptr) return "";
    return absl::StrCat("tcp://", ip, ":", port);
  }
  if (ai.ai_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai.ai_addr);
    if (inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip) == nullptr) return "";
    std::string zone;
    if (sin6->sin6_scope_id != 0) {
      char name[IF_NAMESIZE] = {};
      zone = if_indextoname(sin6->sin6_scope_id, name) != nullptr
                 ? absl::StrCat("%", name)
                 : absl::StrCat("%", sin6->sin6_scope_id);
    }
    return absl::StrCat("tcp://[", ip, zone, "]:", port);
  }
  return "";
}

}  // namespace

bool IsDnsSeed(absl::string_view spec) { return absl::StartsWith(spec, kDns); }

absl::Status ValidateSeedSpec(absl::string_view spec) {
  if (spec.empty()) return Bad(spec, "empty");
  if (absl::StartsWith(spec, kTcp)) return ValidateTcpSeed(spec);
  if (absl::StartsWith(spec, kIpc)) return ValidateIpcSeed(spec);
  if (IsDnsSeed(spec)) return ParseDnsSeed(spec).status();
  const size_t scheme_end = spec.find("://");
  if (scheme_end != absl::string_view::npos) {
    return Bad(spec, absl::StrCat("unknown scheme \"", spec.substr(0, scheme_end), "\""));
  }
  return Bad(spec, "no scheme");
}

absl::StatusOr<std::vector<std::string>> ResolveDnsSeed(absl::string_view spec) {
  if (!IsDnsSeed(spec)) return Bad(spec, "not a dns: seed");
  POLIS_ASSIGN_OR_RETURN(HostPort hp, ParseDnsSeed(spec));
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: it hides IPv4 answers in a namespace whose only IPv4
  // address is the loopback one.
  hints.ai_flags = AI_NUMERICSERV;
  const std::string port = absl::StrCat(hp.port);
  addrinfo* list = nullptr;
  errno = 0;
  const int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) return GaiError(spec, hp.host, rc, errno);
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owned(list, freeaddrinfo);
  std::vector<std::string> out;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    std::string endpoint = Endpoint(*ai, hp.port);
    if (!endpoint.empty()) out.push_back(std::move(endpoint));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.empty()) {
    return absl::NotFoundError(absl::StrCat("cannot resolve \"", hp.host, "\" (seed \"", spec,
                                            "\"): no IPv4 or IPv6 address"));
  }
  return out;
}

}  // namespace polis::internal
