// tools/bench_zmq.h — the raw ZeroMQ baseline of `polis bench remote`.
//
// The deliberate exception to "ZeroMQ stays inside bus/": the baseline must
// be plain libzmq, written for the purpose, with nothing of polis in the
// path. A DEALER client talks to a ROUTER server over the same transport
// and with the same payload size as the polis side (100 bytes unless
// set_payload_bytes; the server echoes any size). Frames are
// one part: a tag byte then the payload:
//   'R' request  -> echoed back unchanged
//   'O' one-way  -> counted, no answer
//   'Q' query    -> answered with the one-way count so far (8 bytes)
//
// Thread-safety: ZmqEchoServer runs its socket on its own thread; Stop and
// the destructor may be called from any one thread. A ZmqClient belongs to
// the thread that created it.
//
// Example:
//   auto server = ZmqEchoServer::Start("tcp://127.0.0.1:*");
//   auto client = ZmqClient::Connect((*server)->endpoint());
//   absl::StatusOr<std::vector<double>> rtts = (*client)->RoundTrips(5000);
#ifndef POLIS_TOOLS_BENCH_ZMQ_H_
#define POLIS_TOOLS_BENCH_ZMQ_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace polis::tools {

class ZmqEchoServer {
 public:
  // Binds `endpoint` and starts serving. UNAVAILABLE if it cannot bind.
  static absl::StatusOr<std::unique_ptr<ZmqEchoServer>> Start(const std::string& endpoint);
  ~ZmqEchoServer();  // Stops the thread and closes the socket.

  const std::string& endpoint() const { return endpoint_; }

 private:
  ZmqEchoServer() = default;
  void Serve();

  std::unique_ptr<zmq::context_t> context_;
  std::unique_ptr<zmq::socket_t> router_;  // Owned by thread_ once it runs.
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class ZmqClient {
 public:
  // Connects a DEALER to `endpoint`. UNAVAILABLE on failure.
  static absl::StatusOr<std::unique_ptr<ZmqClient>> Connect(const std::string& endpoint);
  ~ZmqClient();

  // The payload of every later request and one-way message (default
  // kPayloadBytes), the tag byte excluded.
  void set_payload_bytes(int64_t bytes);

  // `n` request/reply round trips, one in flight; each one's microseconds.
  absl::StatusOr<std::vector<double>> RoundTrips(int n);
  // `n` one-way messages then a query confirming all arrived; messages/s.
  absl::StatusOr<double> OneWayPerSecond(int n);
  // `total` requests with `in_flight` outstanding at all times; requests/s.
  absl::StatusOr<double> PipelinedPerSecond(int total, int in_flight);

 private:
  ZmqClient() = default;
  absl::Status SendTagged(char tag);
  absl::StatusOr<std::string> Receive();
  absl::StatusOr<int64_t> Query();

  std::unique_ptr<zmq::context_t> context_;
  std::unique_ptr<zmq::socket_t> dealer_;
  std::string frame_;  // Tag byte + payload, reused.
};

}  // namespace polis::tools

#endif  // POLIS_TOOLS_BENCH_ZMQ_H_
