// bus/internal/endpoint.cc — see endpoint.h.
#include "bus/internal/endpoint.h"

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace polis::bus::internal {
namespace {

absl::Status Bad(absl::string_view endpoint, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("bad endpoint \"", endpoint, "\": ", why,
                                                 " (expected tcp://HOST:PORT or ipc://PATH)"));
}

absl::Status ValidateTcp(absl::string_view endpoint, absl::string_view rest, EndpointUse use) {
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) return Bad(endpoint, "no port");
  absl::string_view host = rest.substr(0, colon);
  absl::string_view port = rest.substr(colon + 1);
  if (host.empty()) return Bad(endpoint, "empty host");
  for (char c : host) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '/') {
      return Bad(endpoint, "invalid character in host");
    }
  }
  if (use == EndpointUse::kConnect && host == "*") {
    return Bad(endpoint, "a wildcard host can only be bound, not connected to");
  }
  if (port == "*") {
    if (use == EndpointUse::kConnect) {
      return Bad(endpoint, "a wildcard port can only be bound, not connected to");
    }
    return absl::OkStatus();
  }
  uint32_t n = 0;
  if (port.empty() || !absl::c_all_of(port, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port, &n) || n > 65535) {
    return Bad(endpoint, "port must be 1-65535 or *");
  }
  if (n == 0 && use == EndpointUse::kConnect) return Bad(endpoint, "port 0");
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateEndpoint(absl::string_view endpoint, EndpointUse use) {
  if (absl::StartsWith(endpoint, "tcp://")) {
    return ValidateTcp(endpoint, endpoint.substr(6), use);
  }
  if (absl::StartsWith(endpoint, "ipc://")) {
    absl::string_view path = endpoint.substr(6);
    if (path.empty()) return Bad(endpoint, "empty ipc path");
    if (path == "*" && use == EndpointUse::kConnect) {
      return Bad(endpoint, "a wildcard ipc path can only be bound");
    }
    // sockaddr_un.sun_path holds 107 characters plus the terminator.
    if (path.size() > 107) return Bad(endpoint, "ipc path longer than 107 bytes");
    return absl::OkStatus();
  }
  return Bad(endpoint, "unsupported transport");
}

}  // namespace polis::bus::internal
