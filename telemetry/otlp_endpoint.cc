// telemetry/otlp_endpoint.cc — see otlp_endpoint.h.
#include "telemetry/otlp_endpoint.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace polis::telemetry {
namespace {

// Debian's Abseil has its own string_view (not std's).
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (!s->starts_with(prefix)) return false;
  s->remove_prefix(prefix.size());
  return true;
}

absl::Status BadEndpoint(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("OTLP endpoint \"", AV(text), "\": ", AV(why),
                                                 " (expected http://HOST:PORT, e.g. "
                                                 "http://127.0.0.1:4318; spans go to its ",
                                                 kOtlpTracesPath, ")"));
}

bool HostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

bool Ipv6Char(char c) {
  return absl::ascii_isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

}  // namespace

std::string OtlpEndpoint::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return absl::StrCat("http://", v6 ? "[" : "", host, v6 ? "]" : "", ":", port);
}

absl::StatusOr<OtlpEndpoint> ParseOtlpEndpoint(std::string_view text) {
  std::string_view rest = text;
  if (absl::StartsWithIgnoreCase(AV(rest), "https://")) {
    return BadEndpoint(text, "https is not supported (send to a local collector over http)");
  }
  if (!ConsumePrefix(&rest, "http://")) return BadEndpoint(text, "not an http:// URL");
  if (rest.ends_with("/")) rest.remove_suffix(1);
  for (char c : rest) {
    if (c == '/' || c == '?' || c == '#' || c == '@') {
      return BadEndpoint(text, "a path, query or user name is not supported");
    }
  }
  OtlpEndpoint endpoint;
  std::string_view port;
  if (ConsumePrefix(&rest, "[")) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return BadEndpoint(text, "unclosed '[' of an IPv6 host");
    std::string_view host = rest.substr(0, close);
    if (host.empty() || !std::all_of(host.begin(), host.end(), Ipv6Char)) {
      return BadEndpoint(text, "bad IPv6 address");
    }
    endpoint.host = std::string(host);
    rest.remove_prefix(close + 1);
    if (!ConsumePrefix(&rest, ":")) return BadEndpoint(text, "missing :PORT");
    port = rest;
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return BadEndpoint(text, "missing :PORT");
    std::string_view host = rest.substr(0, colon);
    if (host.empty()) return BadEndpoint(text, "missing HOST");
    if (!std::all_of(host.begin(), host.end(), HostChar) || host.front() == '-') {
      return BadEndpoint(text, "bad HOST (a host name or an IPv4 address; IPv6 in [brackets])");
    }
    endpoint.host = std::string(host);
    port = rest.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(),
                   [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }) ||
      !absl::SimpleAtoi(AV(port), &endpoint.port) || endpoint.port < 1 || endpoint.port > 65535) {
    return BadEndpoint(text, "PORT must be a number from 1 to 65535");
  }
  return endpoint;
}

}  // namespace polis::telemetry
