// bus/zmq_transport_test.cc — ZmqTransport over tcp:// and ipc:// on loopback.
#include "bus/zmq_transport.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "bus/frame_codec.h"
#include "gtest/gtest.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"
#include "tests/transport_helpers.h"

namespace polis::bus {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::MakeEnvelope;
using ::polis::testing::PollUntil;
using ::polis::testing::RecordingHandler;
using ::polis::testing::ScratchDir;
using ::polis::testing::StatusIs;

std::unique_ptr<ZmqTransport> Make(ZmqTransportOptions options = {}) {
  auto t = ZmqTransport::Create(options);
  EXPECT_THAT(t, IsOk());
  return std::move(t).value();
}

std::string ListenOn(ZmqTransport& t, const std::string& endpoint = "tcp://127.0.0.1:*") {
  auto ep = t.Listen(endpoint);
  EXPECT_THAT(ep, IsOk());
  return ep.value_or("");
}

// A bare ROUTER on loopback, playing the node a transport dials: what it
// receives is read raw. `configure` sets options before the bind.
struct RawPeer {
  explicit RawPeer(const std::function<void(zmq::socket_t&)>& configure = nullptr) {
    socket.set(zmq::sockopt::linger, 0);
    if (configure) configure(socket);
    socket.bind("tcp://127.0.0.1:*");
    ep = socket.get(zmq::sockopt::last_endpoint);
  }
  zmq::context_t ctx;
  zmq::socket_t socket{ctx, zmq::socket_type::router};
  std::string ep;
};

// Transport b connected to transport a: b has sent a its first envelope
// (ref 1), which a has received.
struct ConnectedPair {
  std::unique_ptr<ZmqTransport> a = Make();
  std::unique_ptr<ZmqTransport> b = Make();
  std::string ep;  // a's endpoint
  RecordingHandler ha, hb;

  // Both transports polled until `done`.
  bool PollUntil(const std::function<bool()>& done) {
    return ::polis::testing::PollUntil({{a.get(), &ha}, {b.get(), &hb}}, done);
  }
};

void Connect(ConnectedPair& p) {
  p.ep = ListenOn(*p.a);
  ASSERT_THAT(p.b->Send(p.ep, MakeEnvelope(1)), IsOk());
  ASSERT_TRUE(p.PollUntil([&] { return p.ha.envelopes.size() == 1; }));
}

void ExpectDelivery(const std::string& listen_endpoint) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a, listen_endpoint);
  RecordingHandler ha, hb;
  ASSERT_THAT(b->Send(ep, MakeEnvelope(1, "ping")), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {b.get(), &hb}}, [&] { return !ha.envelopes.empty(); }));
  EXPECT_EQ(ha.envelopes[0].first.payload(), "ping");
  EXPECT_EQ(ha.envelopes[0].first.version(), kWireVersion);
  EXPECT_FALSE(ha.envelopes[0].second.empty());  // arrived on the ROUTER
  EXPECT_TRUE(ha.bad.empty());
}

TEST(ZmqTransportTest, DeliversOverTcp) { ExpectDelivery("tcp://127.0.0.1:*"); }

TEST(ZmqTransportTest, DeliversOverIpc) {
  auto dir = ScratchDir::Create("polis-bus");
  ASSERT_THAT(dir, IsOk());
  ExpectDelivery("ipc://" + (*dir)->File("node.sock"));
}

TEST(ZmqTransportTest, DestroyingTheTransportRemovesItsIpcSocketFile) {
  auto dir = ScratchDir::Create("polis-bus");
  ASSERT_THAT(dir, IsOk());
  const std::string path = (*dir)->File("gone.sock");
  {
    auto t = ZmqTransport::Create({}).value();
    ASSERT_THAT(t->Listen("ipc://" + path), IsOk());
    EXPECT_TRUE(std::filesystem::exists(path));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ZmqTransportTest, ListenReturnsTheResolvedEndpoint) {
  auto a = Make();
  const std::string ep = ListenOn(*a);
  EXPECT_TRUE(ep.rfind("tcp://127.0.0.1:", 0) == 0) << ep;
  EXPECT_EQ(ep.find('*'), std::string::npos) << ep;
  EXPECT_THAT(a->Listen("tcp://127.0.0.1:*"), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(ZmqTransportTest, KeepsTheOrderOf10kMessages) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  constexpr int kCount = 10000;
  for (int i = 0; i < kCount; ++i) ASSERT_THAT(b->Send(ep, MakeEnvelope(i)), IsOk());
  RecordingHandler ha, hb;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {b.get(), &hb}},
                        [&] { return ha.envelopes.size() == kCount; }));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(ha.envelopes[i].first.ref(), uint64_t(i));
}

TEST(ZmqTransportTest, ReplyOverReturnPathReachesChannel) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  auto ch = b->OpenChannel(ep);
  ASSERT_THAT(ch, IsOk());
  ASSERT_THAT((*ch)->Send(MakeEnvelope(7, "call")), IsOk());
  RecordingHandler ha;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return !ha.envelopes.empty(); }));
  ASSERT_THAT(a->Reply(ha.envelopes[0].second, MakeEnvelope(7, "reply")), IsOk());
  a->Flush();  // held back for batching until the next Poll or Flush
  auto got = (*ch)->Recv(absl::Now() + absl::Seconds(10));
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->payload, "reply");
  EXPECT_EQ((*got)->ref, 7u);
}

TEST(ZmqTransportTest, ReplyToASendArrivesOnTheSendersDealer) {
  ConnectedPair p;
  ASSERT_NO_FATAL_FAILURE(Connect(p));
  ASSERT_THAT(p.a->Reply(p.ha.envelopes[0].second, MakeEnvelope(2, "back")), IsOk());
  ASSERT_TRUE(p.PollUntil([&] { return !p.hb.envelopes.empty(); }));
  EXPECT_EQ(p.hb.envelopes[0].first.payload(), "back");
  EXPECT_TRUE(p.hb.envelopes[0].second.empty());
}

// Every side sends while it also blocks in Poll with no timeout. libzmq
// may take a socket's fd signal during a send (PolledSocket), so a message
// that arrives meanwhile must be read before Poll sleeps on that fd: one
// left unread would stop the exchange. Three clients keep 8 calls each in
// flight to one server, and both sides work a little between polls (as
// handlers do), so messages keep arriving while the other side sends.
TEST(ZmqTransportTest, NothingIsLeftUnreadWhenEverySideSendsAndBlocksInPoll) {
  constexpr int kClients = 3;
  constexpr int kCallsPerClient = 5000;
  constexpr int kInFlight = 8;
  auto a = Make();
  const std::string ep = ListenOn(*a);
  std::atomic<bool> stop{false};
  std::atomic<int> replies{0};
  absl::Notification all_replied;
  auto work = [] {  // a handler's few microseconds
    const absl::Time until = absl::Now() + absl::Microseconds(20);
    while (absl::Now() < until) {
    }
  };
  std::thread server([&] {
    RecordingHandler h;
    while (!stop.load()) {
      a->Poll(absl::InfiniteDuration(), h);
      for (auto& [envelope, path] : h.envelopes) {
        EXPECT_THAT(a->Reply(path, MakeEnvelope(envelope.ref(), "reply")), IsOk());
      }
      if (!h.envelopes.empty()) work();
      h.envelopes.clear();
    }
  });
  std::vector<std::unique_ptr<ZmqTransport>> clients;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) clients.push_back(Make());
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, b = clients[c].get()] {
      RecordingHandler h;
      int sent = 0;
      for (; sent < kInFlight; ++sent) EXPECT_THAT(b->Send(ep, MakeEnvelope(sent)), IsOk());
      while (!stop.load()) {
        b->Poll(absl::InfiniteDuration(), h);
        for (size_t i = 0; i < h.envelopes.size(); ++i) {
          if (replies.fetch_add(1) + 1 == kClients * kCallsPerClient) all_replied.Notify();
          if (sent < kCallsPerClient) EXPECT_THAT(b->Send(ep, MakeEnvelope(sent++)), IsOk());
        }
        if (!h.envelopes.empty()) work();
        h.envelopes.clear();
      }
    });
  }
  const bool done = all_replied.WaitForNotificationWithTimeout(absl::Seconds(60));
  stop = true;
  a->Wake();
  for (auto& client : clients) client->Wake();
  server.join();
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(done) << replies.load() << " of " << kClients * kCallsPerClient << " replies";
}

// libzmq may process a socket's pending commands inside a send (at most
// about once a millisecond), taking the fd signal of a message that arrived
// before it: the fd then never shows that message (PolledSocket). Poll must
// still deliver it at once, not sleep on the fd. Each round lets a reply
// arrive and a few milliseconds pass (neither is visible from here to wait
// for), then sends and polls with a long timeout.
TEST(ZmqTransportTest, AMessageThatArrivedBeforeASendIsDeliveredByThatPoll) {
  auto b = Make();
  RawPeer peer([](zmq::socket_t& s) { s.set(zmq::sockopt::rcvtimeo, 10000); });
  zmq::socket_t& raw = peer.socket;
  const std::string& ep = peer.ep;
  std::string reply;
  ASSERT_THAT(EncodeFrame(MakeEnvelope(0, "reply"), kDefaultMaxMessageBytes, &reply), IsOk());
  RecordingHandler hb;
  zmq::message_t id, body;
  ASSERT_THAT(b->Send(ep, MakeEnvelope(0)), IsOk());
  b->Flush();
  for (int round = 0; round < 10; ++round) {
    ASSERT_TRUE(raw.recv(id));  // b's last send
    ASSERT_TRUE(raw.recv(body));
    b->Poll(absl::ZeroDuration(), hb);  // finds nothing
    ASSERT_TRUE(raw.send(id, zmq::send_flags::sndmore));
    ASSERT_TRUE(raw.send(zmq::buffer(reply)));
    const absl::Time until = absl::Now() + absl::Milliseconds(3);
    while (absl::Now() < until) {
    }
    const size_t before = hb.envelopes.size();
    ASSERT_THAT(b->Send(ep, MakeEnvelope(round + 1)), IsOk());
    b->Poll(absl::Seconds(10), hb);
    ASSERT_EQ(hb.envelopes.size(), before + 1) << "round " << round;
  }
}

TEST(ZmqTransportTest, ReplyOnAGoneConnectionIsDroppedAndOthersStillArrive) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  EXPECT_THAT(a->Reply(ReturnPath{}, MakeEnvelope(1)), StatusIs(absl::StatusCode::kNotFound));
  auto gone = b->OpenChannel(ep);
  auto live = b->OpenChannel(ep);
  ASSERT_THAT(gone, IsOk());
  ASSERT_THAT(live, IsOk());
  ASSERT_THAT((*gone)->Send(MakeEnvelope(1)), IsOk());
  ASSERT_THAT((*live)->Send(MakeEnvelope(2)), IsOk());
  RecordingHandler ha;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return ha.envelopes.size() == 2; }));
  const ReturnPath gone_path = ha.envelopes[ha.envelopes[0].first.ref() == 1 ? 0 : 1].second;
  const ReturnPath live_path = ha.envelopes[ha.envelopes[0].first.ref() == 2 ? 0 : 1].second;
  gone->reset();
  // Whether or not the ROUTER has noticed the closed connection yet, the
  // reply on it is accepted and dropped; the other connection's arrives.
  EXPECT_THAT(a->Reply(gone_path, MakeEnvelope(3)), IsOk());
  EXPECT_THAT(a->Reply(ReturnPath{"no-such-connection"}, MakeEnvelope(4)), IsOk());
  ASSERT_THAT(a->Reply(live_path, MakeEnvelope(5, "for live")), IsOk());
  a->Flush();
  auto got = (*live)->Recv(absl::Now() + absl::Seconds(10));
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->ref, 5u);
}

// A caller that sends a call and never reads: the replies it has not read
// stay under the limit (the rest are dropped and counted), every reply that
// was accepted arrives once it reads, and other callers are served all along.
TEST(ZmqTransportTest, ASlowReadersRepliesAreBoundedByBytesAndAcceptedOnesAllArrive) {
  ZmqTransportOptions options;
  options.max_unread_reply_bytes = int64_t{1} << 20;
  auto a = Make(options);
  const std::string ep = ListenOn(*a);
  zmq::context_t ctx;
  zmq::socket_t slow(ctx, zmq::socket_type::dealer);
  slow.set(zmq::sockopt::linger, 0);
  slow.set(zmq::sockopt::rcvhwm, 1);
  slow.set(zmq::sockopt::rcvbuf, 4096);  // a small TCP window: the kernel holds little
  slow.connect(ep);
  std::string hello;
  ASSERT_THAT(EncodeFrame(MakeEnvelope(1), kDefaultMaxMessageBytes, &hello), IsOk());
  ASSERT_TRUE(slow.send(zmq::buffer(hello), zmq::send_flags::none));
  RecordingHandler ha;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return ha.envelopes.size() == 1; }));
  const ReturnPath slow_path = ha.envelopes[0].second;

  // 2,000 replies of 64 KiB (125 MiB): far more than the kernel's buffers.
  const std::string payload(64 << 10, 'r');
  int accepted = 0, refused = 0;
  for (int i = 0; i < 2000; ++i) {
    absl::Status s = a->Reply(slow_path, MakeEnvelope(100 + i, payload));
    if (s.ok()) {
      ++accepted;
    } else {
      ASSERT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
      ++refused;
    }
    a->Flush();
    const SlowReaderStats stats = a->SlowReaders();
    ASSERT_LE(stats.unread_reply_bytes, options.max_unread_reply_bytes + (65 << 10)) << i;
  }
  EXPECT_GT(refused, 0);
  EXPECT_LT(accepted, 400);  // 1 MiB unread + what the kernel took
  EXPECT_EQ(a->SlowReaders().dropped_replies, static_cast<uint64_t>(refused));

  // Another caller is answered meanwhile.
  auto other = a->OpenChannel(ep);
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT((*other)->Send(MakeEnvelope(2)), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return ha.envelopes.size() == 2; }));
  ASSERT_THAT(a->Reply(ha.envelopes[1].second, MakeEnvelope(3, "for other")), IsOk());
  a->Flush();
  auto got = (*other)->Recv(absl::Now() + absl::Seconds(10));
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->ref, 3u);

  // The slow caller reads at last: every accepted reply, in order.
  int read = 0;
  uint64_t last_ref = 0;
  RecordingHandler ignored;
  ASSERT_TRUE(PollUntil({{a.get(), &ignored}}, [&] {
    zmq::message_t msg;
    while (read < accepted && slow.recv(msg, zmq::recv_flags::dontwait)) {
      FrameSplitter split(msg.data(), msg.size());
      const uint8_t* frame;
      size_t size;
      EnvelopeView view;
      while (split.Next(&frame, &size)) {
        EXPECT_THAT(DecodeFrame(frame, size, kDefaultMaxMessageBytes, &view), IsOk());
        EXPECT_GT(view.ref, last_ref);
        last_ref = view.ref;
        ++read;
      }
    }
    return read == accepted;
  }));
  // Nothing is held for it any more, and it is served again.
  ASSERT_TRUE(PollUntil({{a.get(), &ignored}},
                        [&] { return a->SlowReaders().unread_reply_bytes == 0; }));
  EXPECT_THAT(a->Reply(slow_path, MakeEnvelope(9000, payload)), IsOk());
}

TEST(ZmqTransportTest, OnePollDeliversABoundedShareOfABurstAndNothingIsLost) {
  ConnectedPair p;
  Connect(p);
  // 20,000 small envelopes (about 40 batches) queue up at `a` faster than
  // it polls; each Poll may hand over at most kMaxEnvelopesPerPoll plus the
  // rest of the batch that crosses it.
  constexpr int kCount = 20000;
  for (int i = 0; i < kCount; ++i) ASSERT_THAT(p.b->Send(p.ep, MakeEnvelope(i, "")), IsOk());
  p.b->Flush();
  const size_t frame = FrameSize(MakeEnvelope(kCount, ""), kDefaultMaxMessageBytes).value();
  const size_t bound = kMaxEnvelopesPerPoll + kMaxBatchBytes / frame;
  size_t most = 0;
  p.ha.envelopes.clear();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (p.ha.envelopes.size() < kCount && absl::Now() < deadline) {
    const size_t before = p.ha.envelopes.size();
    p.a->Poll(absl::Milliseconds(100), p.ha);
    most = std::max(most, p.ha.envelopes.size() - before);
  }
  ASSERT_EQ(p.ha.envelopes.size(), size_t{kCount});
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(p.ha.envelopes[i].first.ref(), uint64_t(i));
  EXPECT_LE(most, bound);
  EXPECT_GT(most, 0u);
}

TEST(ZmqTransportTest, ABurstTravelsAsOneBatchedMessage) {
  auto a = Make();
  RawPeer peer;
  zmq::socket_t& raw = peer.socket;
  const std::string& ep = peer.ep;
  constexpr int kCount = 50;
  for (int i = 0; i < kCount; ++i) ASSERT_THAT(a->Send(ep, MakeEnvelope(i)), IsOk());
  a->Flush();
  zmq::message_t id, body;
  ASSERT_TRUE(raw.recv(id, zmq::recv_flags::none));
  ASSERT_TRUE(raw.recv(body, zmq::recv_flags::none));
  FrameSplitter split(body.data(), body.size());
  const uint8_t* frame;
  size_t size;
  int n = 0;
  while (split.Next(&frame, &size)) {
    EnvelopeView e;
    ASSERT_THAT(DecodeFrame(frame, size, kDefaultMaxMessageBytes, &e), IsOk());
    EXPECT_EQ(e.ref, uint64_t(n));
    ++n;
  }
  EXPECT_THAT(split.status(), IsOk());
  EXPECT_EQ(n, kCount);  // all fifty in the first message
}

TEST(ZmqTransportTest, BigAndSmallEnvelopesKeepTheirOrder) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  const std::string big(kMaxBatchBytes + 100, 'b');
  std::vector<size_t> sizes;
  for (int i = 0; i < 40; ++i) {
    std::string payload = i % 7 == 3 ? big : std::string(i * 97 % 3000, 's');
    sizes.push_back(payload.size());
    ASSERT_THAT(b->Send(ep, MakeEnvelope(i, std::move(payload))), IsOk());
  }
  RecordingHandler ha, hb;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {b.get(), &hb}},
                        [&] { return ha.envelopes.size() == sizes.size(); }));
  for (size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_EQ(ha.envelopes[i].first.ref(), i);
    EXPECT_EQ(ha.envelopes[i].first.payload().size(), sizes[i]);
  }
  EXPECT_TRUE(ha.bad.empty());
}

TEST(ZmqTransportTest, AFullQueueRefusesNewEnvelopesAndLosesNoAcceptedOne) {
  ZmqTransportOptions options;
  options.send_high_water_mark = 2;
  auto b = Make(options);
  // A receiver that does not read yet: the sender's queue and the kernel's
  // buffers fill up.
  RawPeer peer([](zmq::socket_t& s) { s.set(zmq::sockopt::rcvhwm, 2); });
  zmq::socket_t& raw = peer.socket;
  const std::string& ep = peer.ep;
  RecordingHandler hb;
  const std::string payload(1000, 'p');
  uint64_t accepted = 0;
  absl::Status refused;
  while (refused.ok() && accepted < 2'000'000) {
    refused = b->Send(ep, MakeEnvelope(accepted, payload));
    if (refused.ok()) ++accepted;
    if (accepted % 1000 == 0) b->Poll(absl::ZeroDuration(), hb);
  }
  ASSERT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted));
  // Now read. Every accepted envelope arrives, in order, once: the batch
  // that met the full queue left when there was room again.
  uint64_t next = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  zmq::message_t id, body;
  while (next < accepted && absl::Now() < deadline) {
    b->Poll(absl::ZeroDuration(), hb);
    if (!raw.recv(id, zmq::recv_flags::dontwait)) continue;
    ASSERT_TRUE(raw.recv(body, zmq::recv_flags::none));
    FrameSplitter split(body.data(), body.size());
    const uint8_t* frame;
    size_t size;
    while (split.Next(&frame, &size)) {
      EnvelopeView e;
      ASSERT_THAT(DecodeFrame(frame, size, kDefaultMaxMessageBytes, &e), IsOk());
      ASSERT_EQ(e.ref, next);
      ++next;
    }
  }
  EXPECT_EQ(next, accepted);
  // The connection works on: a later envelope arrives too.
  ASSERT_THAT(b->Send(ep, MakeEnvelope(accepted, "after")), IsOk());
  b->Flush();
  ASSERT_TRUE(raw.recv(id, zmq::recv_flags::none));
  ASSERT_TRUE(raw.recv(body, zmq::recv_flags::none));
  EnvelopeView e;
  ASSERT_THAT(DecodeFrame(body.data(), body.size(), kDefaultMaxMessageBytes, &e), IsOk());
  EXPECT_EQ(e.ref, accepted);
}

TEST(ZmqTransportTest, OversizedIsRefusedAtTheSender) {
  ZmqTransportOptions options;
  options.max_message_bytes = 1024;
  auto a = Make(options);
  const std::string ep = ListenOn(*a);
  const wire::Envelope big = MakeEnvelope(1, std::string(2048, 'x'));
  EXPECT_THAT(a->Send(ep, big), StatusIs(absl::StatusCode::kResourceExhausted));
  auto ch = a->OpenChannel(ep);
  ASSERT_THAT(ch, IsOk());
  EXPECT_THAT((*ch)->Send(big), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(a->Reply(ReturnPath{"x"}, big), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(ZmqTransportTest, OversizedIsRefusedAtTheReceiverWhichKeepsWorking) {
  ZmqTransportOptions small;
  small.max_message_bytes = 1024;
  auto a = Make(small);
  const std::string ep = ListenOn(*a);
  zmq::context_t ctx;
  zmq::socket_t raw(ctx, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(ep);
  std::string frame;
  ASSERT_THAT(EncodeFrame(MakeEnvelope(1, std::string(64 * 1024, 'x')), kDefaultMaxMessageBytes,
                          &frame),
              IsOk());
  ASSERT_TRUE(raw.send(zmq::buffer(frame), zmq::send_flags::none));

  auto b = Make();  // a well-behaved peer, later
  ASSERT_THAT(b->Send(ep, MakeEnvelope(2, "fine")), IsOk());
  RecordingHandler ha, hb;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {b.get(), &hb}}, [&] { return !ha.envelopes.empty(); }));
  EXPECT_EQ(ha.envelopes.size(), 1u);
  EXPECT_EQ(ha.envelopes[0].first.payload(), "fine");
}

TEST(ZmqTransportTest, MalformedFramesAreDroppedAndLaterGoodOnesArrive) {
  auto a = Make();
  const std::string ep = ListenOn(*a);
  zmq::context_t ctx;
  zmq::socket_t raw(ctx, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(ep);
  std::string good;
  ASSERT_THAT(EncodeFrame(MakeEnvelope(5, "good"), kDefaultMaxMessageBytes, &good), IsOk());
  std::string wrong_version = good;
  wrong_version[2] = 9;
  ASSERT_TRUE(raw.send(zmq::str_buffer("garbage, not polis"), zmq::send_flags::none));
  ASSERT_TRUE(raw.send(zmq::buffer(wrong_version), zmq::send_flags::none));
  ASSERT_TRUE(raw.send(zmq::buffer(good), zmq::send_flags::sndmore));  // multipart: refused
  ASSERT_TRUE(raw.send(zmq::buffer(good), zmq::send_flags::none));
  ASSERT_TRUE(raw.send(zmq::buffer(good.data(), good.size() - 1), zmq::send_flags::none));
  ASSERT_TRUE(raw.send(zmq::buffer(good), zmq::send_flags::none));
  RecordingHandler ha;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return !ha.envelopes.empty(); }));
  EXPECT_EQ(ha.envelopes[0].first.payload(), "good");
  ASSERT_EQ(ha.bad.size(), 4u);
  EXPECT_EQ(ha.bad[0].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ha.bad[1].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ha.bad[2].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ha.bad[3].code(), absl::StatusCode::kDataLoss);
}

TEST(ZmqTransportTest, PeerDownFiresPromptlyWhenThePeerTransportIsDestroyed) {
  ConnectedPair p;
  ASSERT_NO_FATAL_FAILURE(Connect(p));
  auto& b = p.b;
  auto& hb = p.hb;
  const std::string ep = p.ep;
  const absl::Time killed = absl::Now();
  p.a.reset();
  ASSERT_TRUE(PollUntil({{b.get(), &hb}}, [&] { return !hb.downs.empty(); }));
  const absl::Duration took = absl::Now() - killed;
  EXPECT_EQ(hb.downs[0].first, ep);
  EXPECT_THAT(hb.downs[0].second, StatusIs(absl::StatusCode::kUnavailable));
  // Loopback: DISCONNECTED arrives within microseconds; leave room for CI.
  EXPECT_LT(took, absl::Milliseconds(500)) << "peer down took " << took;
  // Reported once; a later Send opens a new connection (and fails again).
  ASSERT_THAT(b->Send(ep, MakeEnvelope(2)), IsOk());
}

TEST(ZmqTransportTest, PeerDownFiresWhenNobodyAnswersWithinConnectTimeout) {
  std::string dead_ep;
  {
    auto gone = Make();
    dead_ep = ListenOn(*gone);
  }
  ZmqTransportOptions options;
  options.connect_timeout = absl::Milliseconds(200);
  auto b = Make(options);
  ASSERT_THAT(b->Send(dead_ep, MakeEnvelope(1)), IsOk());
  RecordingHandler hb;
  ASSERT_TRUE(PollUntil({{b.get(), &hb}}, [&] { return !hb.downs.empty(); }));
  EXPECT_EQ(hb.downs[0].first, dead_ep);
  EXPECT_THAT(hb.downs[0].second, StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ZmqTransportTest, DisconnectClosesWithoutPeerDownAndSendReconnects) {
  ConnectedPair p;
  ASSERT_NO_FATAL_FAILURE(Connect(p));
  p.b->Disconnect(p.ep);
  p.b->Disconnect("tcp://127.0.0.1:1");  // none open: fine
  ASSERT_THAT(p.b->Send(p.ep, MakeEnvelope(2)), IsOk());
  ASSERT_TRUE(p.PollUntil([&] { return p.ha.envelopes.size() == 2; }));
  EXPECT_TRUE(p.hb.downs.empty());
}

TEST(ZmqTransportTest, ChannelRecvFailsWhenThePeerDies) {
  auto a = Make();
  const std::string ep = ListenOn(*a);
  auto ch = a->OpenChannel(ep);
  ASSERT_THAT(ch, IsOk());
  ASSERT_THAT((*ch)->Send(MakeEnvelope(1)), IsOk());
  RecordingHandler ha;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return !ha.envelopes.empty(); }));
  a.reset();  // the channel keeps the context alive
  auto got = (*ch)->Recv(absl::Now() + absl::Seconds(20));
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT((*ch)->Send(MakeEnvelope(2)), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ZmqTransportTest, ChannelRecvReturnsNothingAtTheDeadline) {
  auto a = Make();
  const std::string ep = ListenOn(*a);
  auto ch = a->OpenChannel(ep);
  ASSERT_THAT(ch, IsOk());
  auto got = (*ch)->Recv(absl::Now() + absl::Milliseconds(20));
  ASSERT_THAT(got, IsOk());
  EXPECT_FALSE(got->has_value());
}

TEST(ZmqTransportTest, WakeInterruptsPoll) {
  auto a = Make();
  ListenOn(*a);
  RecordingHandler h;
  a->Wake();  // before: the next Poll returns at once
  absl::Time start = absl::Now();
  a->Poll(absl::Seconds(30), h);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  std::thread waker([&] { a->Wake(); });  // during (or just before)
  start = absl::Now();
  a->Poll(absl::Seconds(30), h);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  waker.join();
}

TEST(ZmqTransportTest, ChannelWakeInterruptsRecv) {
  auto a = Make();
  const std::string ep = ListenOn(*a);
  auto ch = a->OpenChannel(ep);
  ASSERT_THAT(ch, IsOk());
  std::thread waker([&] { (*ch)->Wake(); });
  auto got = (*ch)->Recv(absl::Now() + absl::Seconds(30));
  ASSERT_THAT(got, IsOk());
  EXPECT_FALSE(got->has_value());
  waker.join();
}

TEST(ZmqTransportTest, RefusesBadEndpoints) {
  auto a = Make();
  for (const char* ep : {"", "foo", "udp://127.0.0.1:5", "tcp://127.0.0.1", "tcp://:5",
                         "tcp://127.0.0.1:70000", "tcp://127.0.0.1:x1", "ipc://",
                         "inproc://x"}) {
    EXPECT_THAT(a->Send(ep, MakeEnvelope(1)), StatusIs(absl::StatusCode::kInvalidArgument)) << ep;
    EXPECT_THAT(a->OpenChannel(ep), StatusIs(absl::StatusCode::kInvalidArgument)) << ep;
  }
  for (const char* ep : {"tcp://127.0.0.1:*", "tcp://*:5555", "ipc://*"}) {
    EXPECT_THAT(a->Send(ep, MakeEnvelope(1)), StatusIs(absl::StatusCode::kInvalidArgument)) << ep;
  }
  EXPECT_THAT(a->Listen("tcp://127.0.0.1"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(a->Listen("bogus://x"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ZmqTransportTest, ListenOnAPortInUseIsUnavailable) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  EXPECT_THAT(b->Listen(ep), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ZmqTransportTest, CreateRefusesBadOptions) {
  ZmqTransportOptions options;
  options.max_message_bytes = 0;
  EXPECT_THAT(ZmqTransport::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.max_message_bytes = int64_t{4} << 30;
  EXPECT_THAT(ZmqTransport::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace polis::bus
