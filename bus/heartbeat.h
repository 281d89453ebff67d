// bus/heartbeat.h — the cluster's failure detector, on a path of its own.
//
// Each node beats to every peer it watches, `interval` apart, and declares a
// peer silent when no beat came for `timeout`. Beats are datagrams (one
// serialized polis.wire.Heartbeat each; wire contract: bus/WIRE.md,
// "Heartbeats") on a socket separate from the ZeroMQ data connections, sent
// and read by a dedicated thread. So a flood of large messages to a live
// node cannot make it look dead (ZMTP heartbeats share the data connection,
// whose reader stops reading when its pipe is full), while a peer that died
// (SIGKILL), froze (SIGSTOP: its sockets stay open and the kernel still ACKs
// TCP) or was cut off is noticed within about `timeout`.
//
// Authentication: each Heartbeater draws a random key (key(), 32 bytes, new
// per Create, i.e. per incarnation) and signs every beat with it
// (HMAC-SHA-256; bus/internal/heartbeat_auth.h). The node tells the key to
// its peers in its Hello, over the authenticated and (with CURVE) encrypted
// data path, and a peer's Watch passes it in. A beat counts only if its MAC
// verifies under the watched key and its seq is above the last accepted
// one; anything else (forged, unsigned, signed by another node, replayed)
// is dropped and counted, keeps no one alive and is never reported. So
// whoever can reach the heartbeat port but holds no member's key cannot
// keep a dead or frozen member looking alive. A restarted peer (new
// incarnation, new key) is learned from its Hello and its old connection
// dropping, not from its beats.
//
// Self-pause guard: if the heartbeat thread itself did not run for more than
// timeout/2 (this process was stopped, the VM paused), it gives every peer
// a fresh grace period instead of blaming them for its own absence.
//
// Threads:
//   * One thread per Heartbeater ("polis-heartbeat"), started by Create and
//     joined by the destructor. It alone uses the sockets, and it calls the
//     listener (never while holding the Heartbeater's lock). It asks for
//     nice -10 (ignored if not permitted).
//   * Watch, Unwatch, Stats, counters, address: thread-safe, never block on
//     I/O (one short mutex).
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(auto hb, Heartbeater::Create(
//       "tcp://10.0.0.1:7000", incarnation, {}, &listener,
//       [&] { return names_version.load(); }));
//   std::string mine = hb->address();   // "udp://10.0.0.1:41234", sent in Hello
//   std::string_view key = hb->key();   // 32 bytes, sent in Hello too
//   // On a peer's Hello, with the address and key it advertised:
//   POLIS_RETURN_IF_ERROR(hb->Watch(peer_endpoint, peer_incarnation, peer_hb_address,
//                                   peer_hb_key));
#ifndef POLIS_BUS_HEARTBEAT_H_
#define POLIS_BUS_HEARTBEAT_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bus/internal/datagram_socket.h"
#include "bus/internal/heartbeat_auth.h"
#include "bus/internal/heartbeat_peers.h"
#include "polis/envelope.pb.h"

namespace polis::bus {

struct HeartbeatOptions {
  // A beat to every watched peer this often.
  absl::Duration interval = absl::Milliseconds(100);
  // Silent this long => OnSilent. Detection comes at most about
  // timeout + interval/2 after the peer's last beat was sent. Must exceed
  // `interval` (a few beats may be lost without a false alarm).
  absl::Duration timeout = absl::Milliseconds(800);
  // Test seam: the key this node signs its beats with. Empty: a fresh random
  // one (what a node must use: a key per incarnation, never reused).
  std::optional<internal::HeartbeatKey> key;
  // Test seam: the monotonic clock silences and pauses are measured with
  // (the thread's waits still use real time). Called from the heartbeat
  // thread and from Watch/Stats callers: must be thread-safe. Empty:
  // CLOCK_MONOTONIC.
  std::function<absl::Time()> clock;
};

// What the detector tells the node. Called on the heartbeat thread, one
// call at a time, never after ~Heartbeater returns. Must not block (the
// node posts to its I/O thread) and must not destroy the Heartbeater.
class HeartbeatListener {
 public:
  virtual ~HeartbeatListener() = default;
  // A watched peer was silent for `timeout`: no beat of `incarnation` (the
  // watched one; 0 = any) since its grace period began. `silent_for` is the
  // time since then. Reported once; again only after it was heard again.
  virtual void OnSilent(const std::string& endpoint, uint64_t incarnation,
                        absl::Duration silent_for) = 0;
  // A beat from a watched endpoint that says something new: the first after
  // Watch or after a silence, or its incarnation (a restart, whether or not
  // it is the watched one) or state_version differs from the previous
  // beat's. At most once per beat. A beat of an incarnation other than the
  // watched one is reported but does not keep the watched one alive.
  // Only authentic beats (see the top of this file) are reported.
  virtual void OnHeard(const std::string& endpoint, const wire::Heartbeat& beat) = 0;
};

// Totals since Create, for diagnostics and tests.
struct HeartbeatCounters {
  uint64_t beats_sent = 0;         // datagrams handed to the kernel
  uint64_t send_failures = 0;      // sendto failed (peer socket gone or full, no route)
  uint64_t beats_accepted = 0;     // authentic, from a watched endpoint, watched incarnation
  uint64_t beats_other_incarnation = 0;  // authentic, watched endpoint, another incarnation
  uint64_t ignored_unwatched = 0;  // parsed, but nobody watches that endpoint
  uint64_t ignored_malformed = 0;  // not a Heartbeat, or no endpoint
  uint64_t ignored_oversized = 0;  // over kMaxHeartbeatBytes
  // Watched endpoint, but no MAC or one its key does not verify (forged,
  // signed by another node, or by an incarnation other than the watched).
  uint64_t ignored_unauthenticated = 0;
  uint64_t ignored_replayed = 0;   // authentic, but seq not above the last accepted
  uint64_t self_pauses = 0;        // times the self-pause guard fired
};

class Heartbeater {
 public:
  // Datagrams longer than this are dropped unread. A Heartbeat is ~60 bytes
  // plus its endpoint, plus 34 of MAC.
  static constexpr int kMaxHeartbeatBytes = 512;

  // `self_endpoint`: this node's advertised endpoint (tcp://HOST:PORT or
  // ipc://PATH); it names the sender in every beat. Binds the receiving
  // socket — for tcp://HOST:PORT a UDP socket on HOST (numeric IPv4/IPv6,
  // or a name resolved with getaddrinfo, IPv4 preferred: this may block on
  // DNS), at an ephemeral port; for ipc://PATH a unix datagram socket at
  // PATH + ".hb" (a stale socket file there is removed first) — and starts
  // the thread.
  // `state_version` (may be empty: 0) is called on the heartbeat thread once
  // per interval; it must be thread-safe and cheap. `listener` must be
  // non-null and outlive the Heartbeater.
  // INVALID_ARGUMENT: another scheme, a wildcard host or path, an ipc PATH
  // over 104 bytes, a null listener, interval <= 0 or timeout <= interval.
  // UNAVAILABLE: HOST does not resolve, the socket cannot be bound, or no
  // random key can be drawn (libsodium cannot initialise).
  static absl::StatusOr<std::unique_ptr<Heartbeater>> Create(
      std::string self_endpoint, uint64_t incarnation, HeartbeatOptions options,
      HeartbeatListener* listener, std::function<uint64_t()> state_version);

  // Stops and joins the thread (promptly: its wait is cut short through an
  // eventfd; no listener call after this returns), closes the sockets
  // and removes the unix socket file if it is still this one's. Not from a
  // listener callback.
  ~Heartbeater();
  Heartbeater(const Heartbeater&) = delete;
  Heartbeater& operator=(const Heartbeater&) = delete;

  // Where peers send beats: "udp://IP:PORT", "udp://[IPV6]:PORT" or
  // "unixgram://PATH". Goes into the node's Hello. Any thread.
  const std::string& address() const { return socket_->address(); }
  const std::string& endpoint() const { return self_endpoint_; }
  // The key this node's beats are signed with (32 raw bytes). Goes into the
  // node's Hello to nodes only: whoever holds it can speak for this node on
  // the heartbeat socket. Any thread.
  std::string_view key() const { return internal::HeartbeatKeyBytes(key_); }

  // Any thread. Starts beating to `peer_address` (a peer's address()) and
  // expecting beats from the peer named `peer_endpoint` with `incarnation`
  // (0 = any), signed with `peer_key` (the peer's key(), as its Hello told
  // it). Watching an endpoint again replaces its entry: new address,
  // incarnation and key, stats and last seq cleared, and a fresh grace
  // period (silence is measured from now). The first beat to it leaves
  // within one interval. A udp and a unixgram peer can both be watched
  // whatever this node's own address is. INVALID_ARGUMENT for an empty
  // endpoint, an address that is not udp://NUMERIC-IP:PORT or
  // unixgram://PATH, or a key that is not 32 bytes.
  absl::Status Watch(const std::string& peer_endpoint, uint64_t incarnation,
                     const std::string& peer_address, std::string_view peer_key);

  // Any thread. Stops beating to and expecting beats from `peer_endpoint`;
  // its later beats count as unwatched. Not an error if it was not watched.
  // A callback decided just before may still arrive after this returns.
  void Unwatch(const std::string& peer_endpoint);

  struct PeerStats {
    // Since its last accepted beat, or since Watch if none came yet.
    absl::Duration since_last_heard;
    bool heard_ever = false;
    // Reported silent and not heard since.
    bool silent = false;
    // Their wall clock minus ours: the median of the last 15 beats'
    // sent_unix_ns minus our clock at receipt. One-way latency is NOT
    // subtracted (a peer with the very same clock shows about -latency).
    absl::Duration clock_offset;
    // Accepted beats (watched incarnation) since Watch.
    uint64_t beats_received = 0;
  };
  // Any thread. nullopt if `peer_endpoint` is not watched.
  std::optional<PeerStats> Stats(const std::string& peer_endpoint) const;

  // Any thread.
  HeartbeatCounters counters() const;

 private:
  Heartbeater(std::string self_endpoint, uint64_t incarnation, HeartbeatOptions options,
              HeartbeatListener* listener, std::function<uint64_t()> state_version,
              std::unique_ptr<internal::DatagramSocket> socket, int wake_fd,
              const internal::HeartbeatKey& key);

  absl::Time Now() const;
  // The heartbeat thread's loop and its steps.
  void Run();
  void SendRound(const std::vector<internal::DatagramAddress>& targets);
  void WaitAndReceive(absl::Duration wait);
  void Receive();
  void Deliver(std::vector<internal::HeartbeatEvent>& events);
  int SendFdFor(int family);

  const std::string self_endpoint_;
  const uint64_t incarnation_;
  const HeartbeatOptions options_;
  HeartbeatListener* const listener_;
  const std::function<uint64_t()> state_version_;
  const std::unique_ptr<internal::DatagramSocket> socket_;
  const int wake_fd_;  // eventfd: the destructor wakes the thread with it
  const internal::HeartbeatKey key_;

  // Heartbeat thread only.
  uint64_t seq_ = 0;
  std::string send_buffer_;
  // Unbound sockets for peers of another address family (lazily opened).
  std::array<int, 3> other_fds_ = {-1, -1, -1};  // AF_INET, AF_INET6, AF_UNIX

  mutable absl::Mutex mu_;
  internal::HeartbeatPeers peers_ ABSL_GUARDED_BY(mu_);
  HeartbeatCounters counters_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: started after everything above exists
};

}  // namespace polis::bus

#endif  // POLIS_BUS_HEARTBEAT_H_
