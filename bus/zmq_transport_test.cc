// bus/zmq_transport_test.cc — ZmqTransport over tcp:// and ipc:// on loopback.
#include "bus/zmq_transport.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "absl/time/clock.h"
#include "bus/frame_codec.h"
#include "bus/internal/test_handler.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace polis::bus {
namespace {

using internal::MakeEnvelope;
using internal::PollUntil;
using internal::RecordingHandler;
using ::polis::testing::IsOk;
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

// A fresh temp dir for ipc:// sockets, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/polis-bus-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

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
  TempDir dir;
  ExpectDelivery("ipc://" + dir.path() + "/node.sock");
}

TEST(ZmqTransportTest, DestroyingTheTransportRemovesItsIpcSocketFile) {
  TempDir dir;
  const std::string path = dir.path() + "/gone.sock";
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
  auto got = (*ch)->Recv(absl::Now() + absl::Seconds(10));
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->payload(), "reply");
  EXPECT_EQ((*got)->ref(), 7u);
}

TEST(ZmqTransportTest, ReplyToASendArrivesOnTheSendersDealer) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  ASSERT_THAT(b->Send(ep, MakeEnvelope(1)), IsOk());
  RecordingHandler ha, hb;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {b.get(), &hb}}, [&] { return !ha.envelopes.empty(); }));
  ASSERT_THAT(a->Reply(ha.envelopes[0].second, MakeEnvelope(2, "back")), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {b.get(), &hb}}, [&] { return !hb.envelopes.empty(); }));
  EXPECT_EQ(hb.envelopes[0].first.payload(), "back");
  EXPECT_TRUE(hb.envelopes[0].second.empty());
}

TEST(ZmqTransportTest, ReplyToAGoneConnectionIsNotFound) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  EXPECT_THAT(a->Reply(ReturnPath{"no-such-id"}, MakeEnvelope(1)),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(a->Reply(ReturnPath{}, MakeEnvelope(1)), StatusIs(absl::StatusCode::kNotFound));
  auto ch = b->OpenChannel(ep);
  ASSERT_THAT(ch, IsOk());
  ASSERT_THAT((*ch)->Send(MakeEnvelope(1)), IsOk());
  RecordingHandler ha;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return !ha.envelopes.empty(); }));
  const ReturnPath path = ha.envelopes[0].second;
  ch->reset();
  // The ROUTER learns of the closed connection asynchronously.
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] {
    return a->Reply(path, MakeEnvelope(2)).code() == absl::StatusCode::kNotFound;
  }));
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
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  ASSERT_THAT(b->Send(ep, MakeEnvelope(1)), IsOk());
  RecordingHandler ha, hb;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {b.get(), &hb}}, [&] { return !ha.envelopes.empty(); }));
  const absl::Time killed = absl::Now();
  a.reset();
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
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  RecordingHandler ha, hb;
  ASSERT_THAT(b->Send(ep, MakeEnvelope(1)), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {b.get(), &hb}}, [&] { return ha.envelopes.size() == 1; }));
  b->Disconnect(ep);
  b->Disconnect("tcp://127.0.0.1:1");  // none open: fine
  ASSERT_THAT(b->Send(ep, MakeEnvelope(2)), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {b.get(), &hb}}, [&] { return ha.envelopes.size() == 2; }));
  EXPECT_TRUE(hb.downs.empty());
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
