// bus/internal/endpoint.h — syntax checks for ZeroMQ endpoints polis accepts.
//
// polis speaks "tcp://HOST:PORT" and "ipc://PATH" between processes. Binding
// also accepts a wildcard port ("tcp://HOST:*") or host ("tcp://*:PORT");
// connecting needs both concrete. The check is syntactic only: whether HOST
// resolves or PATH is writable is found out by bind/connect.
//
// Thread-safety: stateless.
//
// Example:
//   POLIS_RETURN_IF_ERROR(ValidateEndpoint(ep, EndpointUse::kConnect));
#ifndef POLIS_BUS_INTERNAL_ENDPOINT_H_
#define POLIS_BUS_INTERNAL_ENDPOINT_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace polis::bus::internal {

enum class EndpointUse { kBind, kConnect };

// OK if `endpoint` is usable for `use`; otherwise INVALID_ARGUMENT naming the
// endpoint and what is wrong with it.
absl::Status ValidateEndpoint(absl::string_view endpoint, EndpointUse use);

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_ENDPOINT_H_
