// node/internal/seed_spec.h — the seeds a user gives a node (--seed),
// checked, and the "dns:" kind resolved to the addresses behind a name.
//
// A seed says where a starting node looks for its cluster:
//   tcp://HOST:PORT  one node. A host name stays a name: ZeroMQ resolves it
//                    when it connects (to one address).
//   ipc://PATH       one node on this machine.
//   dns:HOST:PORT    every address HOST resolves to — the many A/AAAA records
//                    of a Kubernetes headless service or a round-robin name —
//                    each as tcp://IP:PORT. SeedResolver (seed_resolver.h)
//                    resolves it again and again, so nodes that appear later
//                    are found.
// HOST may be an IPv6 literal in brackets: tcp://[::1]:7000, dns:[fd00::2]:7000.
//
// Thread-safety: stateless, callable from any thread. ResolveDnsSeed blocks
// as long as getaddrinfo(3) does: seconds when no DNS server answers
// (resolv.conf "timeout" x "attempts").
//
// Example:
//   POLIS_RETURN_IF_ERROR(ValidateSeedSpec(flag));
//   if (IsDnsSeed(flag)) {
//     POLIS_ASSIGN_OR_RETURN(std::vector<std::string> endpoints, ResolveDnsSeed(flag));
//     // endpoints: {"tcp://10.0.0.1:7000", "tcp://10.0.0.2:7000"}
//   }
#ifndef POLIS_NODE_INTERNAL_SEED_SPEC_H_
#define POLIS_NODE_INTERNAL_SEED_SPEC_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace polis::internal {

// True if `spec` is a "dns:" seed (whether or not it is well formed).
bool IsDnsSeed(absl::string_view spec);

// OK if `spec` is "tcp://HOST:PORT", "ipc://PATH" or "dns:HOST:PORT", with a
// port in 1..65535. Otherwise INVALID_ARGUMENT whose message quotes `spec`,
// says what is wrong (empty, no port, port out of range, unknown scheme, a
// path after a dns: seed, ...) and lists the three accepted forms.
// The tcp:// and ipc:// checks are those bus/ applies to a connect endpoint
// (a tcp host is not looked up here); a dns: host must be a DNS name
// (letters, digits, '-', '_', '.'), an IPv4 address, or an IPv6 address in
// brackets.
absl::Status ValidateSeedSpec(absl::string_view spec);

// Resolves the dns: seed `spec` with getaddrinfo (AF_UNSPEC, SOCK_STREAM):
// every address as "tcp://IP:PORT", "tcp://[IPv6]:PORT" for IPv6 (with
// "%ifname" for a link-local address's scope), without duplicates, sorted.
// A numeric host resolves to itself without asking DNS.
// Errors: INVALID_ARGUMENT if `spec` is not a valid dns: seed; NOT_FOUND if
// the name does not resolve or has no address (the message names it and
// gives gai_strerror); UNAVAILABLE for a temporary failure (EAI_AGAIN: no
// DNS server answered) or a system error, worth trying again later.
absl::StatusOr<std::vector<std::string>> ResolveDnsSeed(absl::string_view spec);

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_SEED_SPEC_H_
