// bus/internal/zap_handler.h — the ZAP handler (ZeroMQ RFC 27) that admits
// CURVE clients to a transport's listening socket.
//
// libzmq asks `inproc://zeromq.zap.01` in the socket's context about every
// CURVE handshake on a socket with a ZAP domain. This handler answers on its
// own thread `polis-zap` (so handshakes never wait for a busy I/O thread):
// 200 with User-Id = the client's Z85 public key if that key is in the
// authorized table as it is at that handshake (CurveSecurity::authorized:
// a table replaced by SetAuthorized applies to the next handshake; any
// role: the node decides what each role may do), 400
// otherwise — the connection is then closed before it delivers anything,
// and the client sees the refusal (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400).
// Only the CURVE mechanism is admitted. Refusals are counted and logged
// at most 5 lines per remote address per 10 s (base/log_limiter.h).
//
// Thread-safety: Start/the destructor from the owning (I/O) thread; refused()
// from any thread. The handler must be destroyed before its context.
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(auto zap, ZapHandler::Start(ctx, curve_security));
//   router.bind(...);    // handshakes are checked from now on
#ifndef POLIS_BUS_INTERNAL_ZAP_HANDLER_H_
#define POLIS_BUS_INTERNAL_ZAP_HANDLER_H_

#include <atomic>
#include <memory>
#include <thread>

#include <zmq.hpp>

#include "absl/status/statusor.h"
#include "base/log_limiter.h"
#include "bus/authorized_keys.h"
#include "bus/curve_security.h"

namespace polis::bus::internal {

class ZapHandler {
 public:
  // Binds the ZAP endpoint in `context` and starts the thread.
  // UNAVAILABLE if the endpoint is taken (one handler per context).
  static absl::StatusOr<std::unique_ptr<ZapHandler>> Start(
      zmq::context_t& context, std::shared_ptr<const CurveSecurity> security);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  // Handshakes refused so far.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  ZapHandler(zmq::socket_t socket, std::shared_ptr<const CurveSecurity> security);
  void Run();

  zmq::socket_t socket_;  // owned by the thread once started
  const std::shared_ptr<const CurveSecurity> security_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> refused_{0};
  base::LogLimiter log_{/*lines=*/5, absl::Seconds(10)};  // the thread's
  std::thread thread_;
};

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_ZAP_HANDLER_H_
