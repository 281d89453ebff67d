// bus/internal/zap_handler.cc — see zap_handler.h.
#include "bus/internal/zap_handler.h"

#include <pthread.h>

#include <array>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "bus/internal/zmq_util.h"

namespace polis::bus::internal {

absl::StatusOr<std::unique_ptr<ZapHandler>> ZapHandler::Start(
    zmq::context_t& context, std::shared_ptr<const CurveSecurity> security) {
  try {
    zmq::socket_t socket(context, zmq::socket_type::rep);
    socket.set(zmq::sockopt::linger, 0);
    socket.bind("inproc://zeromq.zap.01");
    return std::unique_ptr<ZapHandler>(new ZapHandler(std::move(socket), std::move(security)));
  } catch (const zmq::error_t& e) {
    return absl::UnavailableError(absl::StrCat("ZAP handler: ", e.what()));
  }
}

ZapHandler::ZapHandler(zmq::socket_t socket, std::shared_ptr<const CurveSecurity> security)
    : socket_(std::move(socket)), security_(std::move(security)) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "polis-zap");
    Run();
  });
}

ZapHandler::~ZapHandler() {
  stop_.store(true);
  thread_.join();
}

void ZapHandler::Run() {
  // Frames of a request: version, request id, domain, address, routing id,
  // mechanism, then the mechanism's credentials (CURVE: the 32-byte key).
  std::array<zmq::message_t, 7> req;
  AuthorizedSnapshot authorized(*security_);  // re-read when the table is replaced
  while (!stop_.load(std::memory_order_relaxed)) {
    try {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(50)) == 0) continue;
      size_t n = 0;
      zmq::message_t extra;
      bool more = true;
      while (more) {
        zmq::message_t& into = n < req.size() ? req[n] : extra;
        if (!socket_.recv(into, zmq::recv_flags::none)) break;
        more = into.more();
        ++n;
      }
      const AuthorizedKey* key = nullptr;
      if (n >= 7 && req[5].to_string_view() == "CURVE" && req[6].size() == 32) {
        key = authorized.Current().FindBinary(req[6].to_string());
      }
      const char* code = key != nullptr ? "200" : "400";
      const std::string user_id = key != nullptr ? key->public_key : "";
      if (key == nullptr) {
        const uint64_t count = refused_.fetch_add(1, std::memory_order_relaxed) + 1;
        const std::string who = n >= 4 ? req[3].to_string() : "?";
        uint64_t suppressed = 0;
        // Keyed by the remote address: one stranger retrying cannot hide
        // another (and past 256 addresses they share one key).
        if (log_.Admit(who, base::Now(), &suppressed)) {
          std::string why = n >= 7 && req[5].to_string_view() != "CURVE"
                                ? absl::StrCat("mechanism ", req[5].to_string())
                                : "key not in the authorized keys";
          POLIS_LOG(WARNING) << "polis: CURVE handshake from " << who << " refused (" << why
                             << "); " << count << " refused so far"
                             << base::Suppressed(suppressed);
        }
      }
      socket_.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
      socket_.send(zmq::message_t(req[1].data(), req[1].size()), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(std::string_view(code)), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(std::string_view(key != nullptr ? "OK" : "key not authorized")),
                   zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
      socket_.send(zmq::message_t(), zmq::send_flags::none);  // no metadata
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      POLIS_LOG(WARNING) << "polis: ZAP handler: " << e.what();
    }
  }
}

}  // namespace polis::bus::internal
