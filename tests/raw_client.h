// tests/raw_client.h — a bare ZeroMQ DEALER speaking polis's wire by hand,
// and a node process's memory, for real-process hostile-input tests.
//
// RawClient connects one DEALER to a node's tcp endpoint and sends frames
// built here (bus/WIRE.md: "PL", version 1, flags 0, length LE32, then the
// envelope), with no polis code in between: what any peer on the network
// could send. Sync() sends a client Hello asking for an answer; the node
// handles a connection's messages in order, so the answer means it has read
// everything sent before (replies read meanwhile are passed to the caller).
// WaitFor waits for one envelope a predicate picks (a REPLY by ref, a Hello).
// ProcStatusBytes reads VmRSS / VmHWM (peak) from /proc/PID/status.
//
// Thread-safety: a RawClient is used by one thread (ZeroMQ sockets are
// not thread-safe); the functions are pure or read /proc.
//
// Example:
//   zmq::context_t ctx;
//   RawClient raw(ctx, node.endpoint());
//   raw.Send(Frame(envelope));
//   ASSERT_TRUE(raw.Sync("raw-1", [](const wire::Envelope& reply) {}));
//   auto r = raw.WaitFor([](const wire::Envelope& e) { return e.ref() == 7; }, 10'000);
//   uint64_t rss = ProcStatusBytes(node.pid(), "VmRSS");
#ifndef POLIS_TESTS_RAW_CLIENT_H_
#define POLIS_TESTS_RAW_CLIENT_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bus/curve_keys.h"
#include "polis/envelope.pb.h"
#include "zmq.hpp"

namespace polis::testing {

// A frame holding one envelope (WIRE.md "Frames").
inline std::string Frame(const wire::Envelope& e) {
  const std::string body = e.SerializeAsString();
  std::string f = {'P', 'L', 1, 0};
  for (int i = 0; i < 4; ++i) f.push_back(static_cast<char>((body.size() >> (8 * i)) & 0xff));
  return f + body;
}

// Calls `each` with every envelope of a received message (a batch of
// frames: WIRE.md, flag 1 = another frame follows). False if a frame is
// cut short or its envelope does not parse.
inline bool ForEachEnvelope(const zmq::message_t& m,
                            const std::function<void(const wire::Envelope&)>& each) {
  const auto* p = static_cast<const unsigned char*>(m.data());
  size_t at = 0;
  while (at + 8 <= m.size()) {
    const uint8_t flags = p[at + 3];
    const uint32_t n =
        p[at + 4] | (p[at + 5] << 8) | (p[at + 6] << 16) | (uint32_t{p[at + 7]} << 24);
    if (at + 8 + size_t{n} > m.size()) return false;
    wire::Envelope e;
    if (!e.ParseFromArray(p + at + 8, static_cast<int>(n))) return false;
    each(e);
    at += 8 + size_t{n};
    if ((flags & 1) == 0) return at == m.size();
  }
  return false;
}

// Whether `e` is the answer to a client Hello (a Hello with a view).
inline bool IsHelloAnswer(const wire::Envelope& e) {
  wire::Hello h;
  return e.type() == wire::Hello::descriptor()->full_name() && h.ParseFromString(e.payload()) &&
         !h.view().empty();
}

// A client Hello asking for an answer (WIRE.md, membership).
inline std::string ClientHelloFrame(const std::string& name) {
  wire::Hello ask;
  ask.set_node(name);
  ask.set_incarnation(7);
  ask.set_wire_version(1);
  ask.set_client(true);
  ask.set_reply_requested(true);
  wire::Envelope e;
  e.set_version(1);
  e.set_kind(wire::KIND_SYSTEM);
  e.set_type(wire::Hello::descriptor()->full_name());
  e.set_payload(ask.SerializeAsString());
  return Frame(e);
}

// `field` ("VmRSS", "VmHWM") of /proc/PID/status, in bytes; 0 if unreadable.
inline uint64_t ProcStatusBytes(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string key;
  uint64_t kib = 0;
  while (in >> key) {
    if (key == field + ":") {
      in >> kib;
      return kib * 1024;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

// Makes `dealer` a CURVE client with the keypair in `key_file` (a `polis
// keygen` secret key file) for a server whose public key is `server_pub`
// (Z85), and connects it to `endpoint`: whatever it sends arrives with that
// key's role, as from a real peer. Linger 0, 10 s send and receive
// timeouts. The key file's error if it does not load (nothing connected).
inline absl::Status ConnectCurveDealer(zmq::socket_t& dealer, const std::string& key_file,
                                       const std::string& server_pub,
                                       const std::string& endpoint) {
  absl::StatusOr<bus::CurveKeyPair> keys = bus::LoadCurveSecretKeyFile(key_file);
  if (!keys.ok()) return keys.status();
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 10'000);
  dealer.set(zmq::sockopt::sndtimeo, 10'000);
  dealer.set(zmq::sockopt::curve_serverkey, server_pub);
  dealer.set(zmq::sockopt::curve_publickey, keys->public_key);
  dealer.set(zmq::sockopt::curve_secretkey, keys->secret_key);
  dealer.connect(endpoint);
  return absl::OkStatus();
}

class RawClient {
 public:
  RawClient(zmq::context_t& ctx, const std::string& endpoint)
      : socket_(ctx, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::sndtimeo, 10'000);  // A node that stops reading fails the send.
    socket_.connect(endpoint);
  }

  // Queues one frame; false if it could not be sent within 10 s.
  bool Send(const std::string& frame) {
    return socket_.send(zmq::buffer(frame), zmq::send_flags::none).has_value();
  }

  // Reads what has arrived without waiting; calls `on_reply` for each
  // envelope but Hellos. Returns how many it passed on.
  int Drain(const std::function<void(const wire::Envelope&)>& on_reply) {
    int n = 0;
    zmq::message_t m;
    while (socket_.recv(m, zmq::recv_flags::dontwait)) n += Pass(m, on_reply);
    return n;
  }

  // Waits up to `timeout_ms` for a message holding an envelope that is not
  // a Hello, and passes what it holds to `on_reply`; false if none came.
  bool WaitReply(const std::function<void(const wire::Envelope&)>& on_reply, int timeout_ms) {
    socket_.set(zmq::sockopt::rcvtimeo, timeout_ms);
    zmq::message_t m;
    while (socket_.recv(m, zmq::recv_flags::none)) {
      if (Pass(m, on_reply) > 0) return true;
    }
    return false;
  }

  // Waits up to `timeout_ms` for an envelope (a Hello too) that `match`
  // accepts and returns it; the envelopes before it are skipped. nullopt
  // if none came.
  std::optional<wire::Envelope> WaitFor(const std::function<bool(const wire::Envelope&)>& match,
                                        int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    zmq::message_t m;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      socket_.set(zmq::sockopt::rcvtimeo, static_cast<int>(left.count()));
      if (!socket_.recv(m, zmq::recv_flags::none)) return std::nullopt;
      std::optional<wire::Envelope> found;
      ForEachEnvelope(m, [&](const wire::Envelope& e) {
        if (!found && match(e)) found = e;
      });
      if (found) return found;
    }
  }

  // Sends a client Hello named `name` and waits (30 s at most) for its
  // answer: the node has then read everything sent before it. Envelopes
  // read meanwhile go to `on_reply`. False if no answer came.
  bool Sync(const std::string& name, const std::function<void(const wire::Envelope&)>& on_reply) {
    if (!Send(ClientHelloFrame(name))) return false;
    socket_.set(zmq::sockopt::rcvtimeo, 30'000);
    zmq::message_t m;
    bool answered = false;
    while (!answered && socket_.recv(m, zmq::recv_flags::none)) {
      ForEachEnvelope(m, [&](const wire::Envelope& e) {
        if (IsHelloAnswer(e)) {
          answered = true;
        } else if (e.type() != wire::Hello::descriptor()->full_name()) {
          on_reply(e);
        }
      });
    }
    return answered;
  }

 private:
  static int Pass(const zmq::message_t& m,
                  const std::function<void(const wire::Envelope&)>& on_reply) {
    int n = 0;
    ForEachEnvelope(m, [&](const wire::Envelope& e) {
      if (e.type() == wire::Hello::descriptor()->full_name()) return;
      on_reply(e);
      ++n;
    });
    return n;
  }

 private:
  zmq::socket_t socket_;
};

}  // namespace polis::testing

#endif  // POLIS_TESTS_RAW_CLIENT_H_
