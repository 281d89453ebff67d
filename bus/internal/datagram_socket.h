// bus/internal/datagram_socket.h — the heartbeat's datagram socket and the
// addresses beats are sent to.
//
// A node advertising "tcp://HOST:PORT" receives beats on a UDP socket bound
// to HOST's address at an ephemeral port ("udp://IP:PORT"); one advertising
// "ipc://PATH" on a unix datagram socket at PATH + ".hb"
// ("unixgram://PATH.hb"; a PATH starting with '@' is Linux's abstract
// namespace, as in ZeroMQ). Wire contract: bus/WIRE.md, "Heartbeats".
//
// Thread-safety: the functions are stateless. A DatagramSocket is a plain fd
// owner: any one thread may use it at a time (the heartbeat thread does).
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(auto socket, DatagramSocket::BindFor("tcp://127.0.0.1:7000"));
//   socket->address();                     // "udp://127.0.0.1:39012"
//   POLIS_ASSIGN_OR_RETURN(DatagramAddress to, ParseDatagramAddress(peer_address));
//   sendto(socket->fd(), bytes, n, MSG_DONTWAIT, to.addr(), to.length);
#ifndef POLIS_BUS_INTERNAL_DATAGRAM_SOCKET_H_
#define POLIS_BUS_INTERNAL_DATAGRAM_SOCKET_H_

#include <sys/socket.h>
#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace polis::bus::internal {

// Where to send a datagram: a socket address ready for sendto().
struct DatagramAddress {
  sockaddr_storage storage = {};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const ::sockaddr* addr() const { return reinterpret_cast<const ::sockaddr*>(&storage); }
};

// Parses "udp://IPV4:PORT", "udp://[IPV6]:PORT" (numeric addresses only, no
// name lookup; port 1-65535) or "unixgram://PATH" (PATH non-empty and at
// most 107 bytes; "@NAME" is abstract). INVALID_ARGUMENT otherwise, naming
// the address and what is wrong with it.
absl::StatusOr<DatagramAddress> ParseDatagramAddress(absl::string_view address);

// The inverse of ParseDatagramAddress: "udp://1.2.3.4:5", "udp://[::1]:5",
// "unixgram://PATH" or "unixgram://@NAME".
std::string FormatDatagramAddress(const DatagramAddress& address);

// A bound, non-blocking, close-on-exec datagram socket.
class DatagramSocket {
 public:
  // Binds the socket that receives beats for a node advertising `endpoint`
  // (see the file comment). HOST may be numeric or a name (resolved with
  // getaddrinfo, its first IPv4 address, else its first — this may block
  // on DNS). A stale
  // socket file at PATH.hb is unlinked first. INVALID_ARGUMENT for an
  // endpoint that is not tcp://HOST:PORT or ipc://PATH, a wildcard, or an
  // ipc path too long once ".hb" is added (PATH over 104 bytes);
  // UNAVAILABLE if HOST does not resolve or the socket cannot be bound.
  static absl::StatusOr<std::unique_ptr<DatagramSocket>> BindFor(absl::string_view endpoint);

  // Closes the socket; removes the socket file if it is still the one this
  // socket created (a newer socket bound at the same path is left alone).
  ~DatagramSocket();
  DatagramSocket(const DatagramSocket&) = delete;
  DatagramSocket& operator=(const DatagramSocket&) = delete;

  int fd() const { return fd_; }
  // AF_INET, AF_INET6 or AF_UNIX.
  int family() const { return family_; }
  // Where peers send to, in FormatDatagramAddress's form.
  const std::string& address() const { return address_; }

 private:
  DatagramSocket(int fd, int family, std::string address)
      : fd_(fd), family_(family), address_(std::move(address)) {}

  const int fd_;
  const int family_;
  const std::string address_;
  // For a unix socket at a path: the file and its identity at bind time.
  std::string path_;
  dev_t path_dev_ = 0;
  ino_t path_ino_ = 0;
};

// An unbound non-blocking datagram socket of `family`, for sending to a peer
// whose address family differs from the bound socket's (an ipc node beating
// to a tcp node on the same host). UNAVAILABLE if socket() fails.
absl::StatusOr<int> OpenSendOnlySocket(int family);

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_DATAGRAM_SOCKET_H_
