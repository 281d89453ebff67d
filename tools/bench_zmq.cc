// tools/bench_zmq.cc — see bench_zmq.h.
#include "tools/bench_zmq.h"

#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tools/bench_servers.h"
#include "tools/bench_stats.h"
#include "zmq.hpp"

namespace polis::tools {
namespace {

constexpr int kReceiveTimeoutMs = 10000;  // A silent peer fails the bench.
// High-water mark of the replies' way (the server's ROUTER sends, the
// client's DEALER receives): polis's own per-connection queue bound
// (ZmqTransportOptions). At libzmq's default of 1,000 a ROUTER silently
// drops replies to a client keeping 1,000 requests in flight. The requests'
// way keeps the default (the one-way baseline blocks at it).
constexpr int kReplyHighWaterMark = 100000;

absl::Status ZmqError(const zmq::error_t& e, const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", e.what()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ZmqEchoServer>> ZmqEchoServer::Start(const std::string& endpoint) {
  std::unique_ptr<ZmqEchoServer> server(new ZmqEchoServer());
  try {
    server->context_ = std::make_unique<zmq::context_t>(1);
    server->router_ = std::make_unique<zmq::socket_t>(*server->context_, zmq::socket_type::router);
    server->router_->set(zmq::sockopt::linger, 0);
    server->router_->set(zmq::sockopt::sndhwm, kReplyHighWaterMark);
    server->router_->set(zmq::sockopt::rcvtimeo, 100);  // To notice stop_.
    server->router_->bind(endpoint);
    server->endpoint_ = server->router_->get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return ZmqError(e, absl::StrCat("zmq baseline: bind ", endpoint));
  }
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

ZmqEchoServer::~ZmqEchoServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ZmqEchoServer::Serve() {
  int64_t one_way = 0;
  zmq::message_t identity, body;
  while (!stop_) {
    try {
      if (!router_->recv(identity, zmq::recv_flags::none)) continue;
      if (!router_->recv(body, zmq::recv_flags::none)) continue;  // Same message: never empty.
      const char tag = body.size() > 0 ? *body.data<char>() : 0;
      if (tag == 'O') {
        ++one_way;
        continue;
      }
      router_->send(identity, zmq::send_flags::sndmore);
      if (tag == 'Q') {
        zmq::message_t count(sizeof(one_way));
        std::memcpy(count.data(), &one_way, sizeof(one_way));
        router_->send(count, zmq::send_flags::none);
      } else {
        router_->send(body, zmq::send_flags::none);
      }
    } catch (const zmq::error_t&) {
      return;
    }
  }
}

absl::StatusOr<std::unique_ptr<ZmqClient>> ZmqClient::Connect(const std::string& endpoint) {
  std::unique_ptr<ZmqClient> client(new ZmqClient());
  try {
    client->context_ = std::make_unique<zmq::context_t>(1);
    client->dealer_ = std::make_unique<zmq::socket_t>(*client->context_, zmq::socket_type::dealer);
    client->dealer_->set(zmq::sockopt::linger, 0);
    client->dealer_->set(zmq::sockopt::rcvhwm, kReplyHighWaterMark);
    client->dealer_->set(zmq::sockopt::rcvtimeo, kReceiveTimeoutMs);
    client->dealer_->set(zmq::sockopt::sndtimeo, kReceiveTimeoutMs);
    client->dealer_->connect(endpoint);
  } catch (const zmq::error_t& e) {
    return ZmqError(e, absl::StrCat("zmq baseline: connect ", endpoint));
  }
  client->frame_ = std::string(1, 'R') + BenchPayload().value();
  return client;
}

ZmqClient::~ZmqClient() = default;

void ZmqClient::set_payload_bytes(int64_t bytes) {
  frame_ = std::string(1, 'R') + BenchPayload(bytes).value();
}

absl::Status ZmqClient::SendTagged(char tag) {
  frame_[0] = tag;
  try {
    if (!dealer_->send(zmq::buffer(frame_), zmq::send_flags::none)) {
      return absl::UnavailableError("zmq baseline: send timed out");
    }
  } catch (const zmq::error_t& e) {
    return ZmqError(e, "zmq baseline: send");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ZmqClient::Receive() {
  zmq::message_t m;
  try {
    if (!dealer_->recv(m, zmq::recv_flags::none)) {
      return absl::UnavailableError("zmq baseline: no answer from the peer");
    }
  } catch (const zmq::error_t& e) {
    return ZmqError(e, "zmq baseline: recv");
  }
  return m.to_string();
}

absl::StatusOr<int64_t> ZmqClient::Query() {
  if (absl::Status s = SendTagged('Q'); !s.ok()) return s;
  absl::StatusOr<std::string> answer = Receive();
  if (!answer.ok()) return answer.status();
  int64_t count = 0;
  if (answer->size() != sizeof(count)) return absl::DataLossError("zmq baseline: bad count");
  std::memcpy(&count, answer->data(), sizeof(count));
  return count;
}

absl::StatusOr<std::vector<double>> ZmqClient::RoundTrips(int n) {
  std::vector<double> lat;
  lat.reserve(n);
  for (int i = 0; i < n; ++i) {
    auto start = std::chrono::steady_clock::now();
    if (absl::Status s = SendTagged('R'); !s.ok()) return s;
    if (absl::StatusOr<std::string> r = Receive(); !r.ok()) return r.status();
    lat.push_back(MicrosSince(start));
  }
  return lat;
}

absl::StatusOr<double> ZmqClient::OneWayPerSecond(int n) {
  absl::StatusOr<int64_t> before = Query();
  if (!before.ok()) return before.status();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    if (absl::Status s = SendTagged('O'); !s.ok()) return s;
  }
  absl::StatusOr<int64_t> after = Query();
  if (!after.ok()) return after.status();
  const double seconds = MicrosSince(start) / 1e6;
  if (*after - *before != n) return absl::DataLossError("zmq baseline: one-way messages lost");
  return n / seconds;
}

absl::StatusOr<double> ZmqClient::PipelinedPerSecond(int total, int in_flight) {
  auto start = std::chrono::steady_clock::now();
  int sent = 0;
  for (; sent < in_flight && sent < total; ++sent) {
    if (absl::Status s = SendTagged('R'); !s.ok()) return s;
  }
  for (int received = 0; received < total; ++received) {
    if (absl::StatusOr<std::string> r = Receive(); !r.ok()) return r.status();
    if (sent < total) {
      if (absl::Status s = SendTagged('R'); !s.ok()) return s;
      ++sent;
    }
  }
  return total / (MicrosSince(start) / 1e6);
}

}  // namespace polis::tools
