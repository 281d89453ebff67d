// bus/zmq_transport_bench.cc — round-trip latency of a Channel call answered
// by a ZmqTransport (Poll + Reply over the ReturnPath), against raw ZeroMQ
// DEALER<->ROUTER with the same payload, interleaved in one run (see
// /work/shared/BASELINES.md: report ratios, not absolute figures).
//
// Usage: zmq_transport_bench [round_trips_per_round=20000] [rounds=3]
// Two threads in one process over tcp://127.0.0.1 (the server is a thread,
// not a process, so absolute numbers are lower than the 2-process baseline).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "absl/time/clock.h"
#include "bus/zmq_transport.h"

namespace polis::bus {
namespace {

struct Percentiles {
  double p50, p99;
};

Percentiles Summarize(std::vector<double>& us) {
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[us.size() * 99 / 100]};
}

wire::Envelope Call() {
  wire::Envelope e;
  e.set_kind(wire::KIND_CALL);
  e.set_type("polis.bench.Bytes");
  e.mutable_recipient()->set_name("echo");
  e.set_ref(1);
  e.set_payload(std::string(100, 'x'));
  return e;
}

Percentiles RunPolis(int n) {
  auto server = ZmqTransport::Create({}).value();
  const std::string ep = server->Listen("tcp://127.0.0.1:*").value();
  std::atomic<bool> stop{false};
  struct Echo : InboundHandler {
    ZmqTransport* t;
    void OnEnvelope(const EnvelopeView& e, const ReturnPath& from, absl::Time,
                    const Sender&) override {
      EnvelopeView reply = e;
      reply.kind = wire::KIND_REPLY;
      (void)t->Reply(from, reply);
    }
    void OnPeerDown(const std::string&, const absl::Status&) override {}
  } echo;
  echo.t = server.get();
  std::thread io([&] {
    while (!stop.load()) server->Poll(absl::Milliseconds(100), echo);
  });
  auto channel = server->OpenChannel(ep).value();
  const wire::Envelope call = Call();
  std::vector<double> us;
  us.reserve(n);
  for (int i = 0; i < n + 1000; ++i) {
    const absl::Time start = absl::Now();
    (void)channel->Send(call);
    auto reply = channel->Recv(absl::Now() + absl::Seconds(5));
    if (!reply.ok() || !reply->has_value()) std::abort();
    if (i >= 1000) us.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
  }
  stop = true;
  server->Wake();
  io.join();
  channel.reset();
  return Summarize(us);
}

Percentiles RunRaw(int n) {
  zmq::context_t ctx;
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.bind("tcp://127.0.0.1:*");
  const std::string ep = router.get(zmq::sockopt::last_endpoint);
  std::atomic<bool> stop{false};
  std::thread io([&] {
    zmq::message_t id, body;
    zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
    while (!stop.load()) {
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
      while (router.recv(id, zmq::recv_flags::dontwait)) {
        (void)router.recv(body);
        router.send(id, zmq::send_flags::sndmore);
        router.send(body, zmq::send_flags::none);
      }
    }
  });
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.connect(ep);
  const std::string payload = Call().SerializeAsString();
  std::vector<double> us;
  us.reserve(n);
  zmq::message_t reply;
  for (int i = 0; i < n + 1000; ++i) {
    const absl::Time start = absl::Now();
    dealer.send(zmq::buffer(payload), zmq::send_flags::none);
    (void)dealer.recv(reply);
    if (i >= 1000) us.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
  }
  stop = true;
  io.join();
  dealer.set(zmq::sockopt::linger, 0);
  router.set(zmq::sockopt::linger, 0);
  return Summarize(us);
}

}  // namespace
}  // namespace polis::bus

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  std::vector<double> ratios50, ratios99;
  for (int r = 0; r < rounds; ++r) {
    auto raw = polis::bus::RunRaw(n);
    auto polis = polis::bus::RunPolis(n);
    std::printf("round %d: raw p50 %.1f us p99 %.1f us | polis p50 %.1f us p99 %.1f us | "
                "ratio p50 %.3f p99 %.3f\n",
                r, raw.p50, raw.p99, polis.p50, polis.p99, polis.p50 / raw.p50,
                polis.p99 / raw.p99);
    ratios50.push_back(polis.p50 / raw.p50);
    ratios99.push_back(polis.p99 / raw.p99);
  }
  std::sort(ratios50.begin(), ratios50.end());
  std::sort(ratios99.begin(), ratios99.end());
  std::printf("median ratio polis/raw: p50 %.3f, p99 %.3f\n", ratios50[rounds / 2],
              ratios99[rounds / 2]);
}
