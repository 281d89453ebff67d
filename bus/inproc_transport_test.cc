// bus/inproc_transport_test.cc — InProcTransport: delivery, replies, channels,
// peer-down on destruction/Kill, partitions, wake-ups.
#include "bus/inproc_transport.h"

#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "bus/frame_codec.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/transport_helpers.h"

namespace polis::bus {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::MakeEnvelope;
using ::polis::testing::PollUntil;
using ::polis::testing::RecordingHandler;
using ::polis::testing::StatusIs;

std::unique_ptr<InProcTransport> Make(int64_t max_bytes = kDefaultMaxMessageBytes) {
  InProcTransportOptions options;
  options.max_message_bytes = max_bytes;
  auto t = InProcTransport::Create(options);
  EXPECT_THAT(t, IsOk());
  return std::move(t).value();
}

std::string ListenOn(InProcTransport& t) {
  auto ep = t.Listen("inproc://test-*");
  EXPECT_THAT(ep, IsOk());
  return ep.value_or("");
}

TEST(InProcTransportTest, DeliversWithAReturnPathAndRepliesComeBack) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  ASSERT_THAT(b->Send(ep, MakeEnvelope(1, "ping")), IsOk());
  RecordingHandler ha, hb;
  a->Poll(absl::Seconds(10), ha);
  ASSERT_EQ(ha.envelopes.size(), 1u);
  EXPECT_EQ(ha.envelopes[0].first.payload(), "ping");
  EXPECT_EQ(ha.envelopes[0].first.version(), kWireVersion);  // went through the codec
  ASSERT_FALSE(ha.envelopes[0].second.empty());
  ASSERT_THAT(a->Reply(ha.envelopes[0].second, MakeEnvelope(1, "pong")), IsOk());
  b->Poll(absl::Seconds(10), hb);
  ASSERT_EQ(hb.envelopes.size(), 1u);
  EXPECT_EQ(hb.envelopes[0].first.payload(), "pong");
  EXPECT_TRUE(hb.envelopes[0].second.empty());
}

TEST(InProcTransportTest, ListenResolvesWildcardsAndRefusesDuplicates) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  EXPECT_EQ(ep.find('*'), std::string::npos);
  EXPECT_THAT(b->Listen(ep), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(b->Listen(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(a->Listen("inproc://again"), StatusIs(absl::StatusCode::kFailedPrecondition));
  a.reset();
  EXPECT_THAT(b->Listen(ep), IsOk());  // free again once its owner is gone
}

TEST(InProcTransportTest, KeepsOrder) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  constexpr int kCount = 10000;
  for (int i = 0; i < kCount; ++i) ASSERT_THAT(b->Send(ep, MakeEnvelope(i)), IsOk());
  RecordingHandler ha;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return ha.envelopes.size() == kCount; }));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(ha.envelopes[i].first.ref(), uint64_t(i));
}

TEST(InProcTransportTest, ChannelGetsTheReplyFromAnotherThread) {
  auto a = Make();
  const std::string ep = ListenOn(*a);
  std::string got;  // the reply's payload (the view dies with the channel)
  std::thread caller([&] {
    auto ch = a->OpenChannel(ep);
    ASSERT_THAT(ch, IsOk());
    ASSERT_THAT((*ch)->Send(MakeEnvelope(3, "call")), IsOk());
    auto reply = (*ch)->Recv(absl::Now() + absl::Seconds(10));
    ASSERT_THAT(reply, IsOk());
    ASSERT_TRUE(reply->has_value());
    got = std::string((*reply)->payload);
  });
  RecordingHandler ha;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return !ha.envelopes.empty(); }));
  ASSERT_THAT(a->Reply(ha.envelopes[0].second, MakeEnvelope(3, "reply")), IsOk());
  caller.join();
  EXPECT_EQ(got, "reply");
}

TEST(InProcTransportTest, ReplyToAGoneChannelIsNotFound) {
  auto a = Make();
  const std::string ep = ListenOn(*a);
  auto ch = a->OpenChannel(ep);
  ASSERT_THAT(ch, IsOk());
  ASSERT_THAT((*ch)->Send(MakeEnvelope(1)), IsOk());
  RecordingHandler ha;
  a->Poll(absl::Seconds(10), ha);
  ASSERT_EQ(ha.envelopes.size(), 1u);
  ch->reset();
  EXPECT_THAT(a->Reply(ha.envelopes[0].second, MakeEnvelope(2)),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(a->Reply(ReturnPath{"junk"}, MakeEnvelope(2)),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(InProcTransportTest, OversizedIsRefused) {
  auto a = Make(1024);
  const std::string ep = ListenOn(*a);
  const wire::Envelope big = MakeEnvelope(1, std::string(2048, 'x'));
  EXPECT_THAT(a->Send(ep, big), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(a->Reply(ReturnPath{"x"}, big), StatusIs(absl::StatusCode::kResourceExhausted));
  auto ch = a->OpenChannel(ep);
  ASSERT_THAT(ch, IsOk());
  EXPECT_THAT((*ch)->Send(big), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(InProcTransportTest, ReceiverEnforcesItsOwnLimit) {
  auto small = Make(1024);
  auto big = Make();
  const std::string ep = ListenOn(*small);
  ASSERT_THAT(big->Send(ep, MakeEnvelope(1, std::string(2048, 'x'))), IsOk());
  ASSERT_THAT(big->Send(ep, MakeEnvelope(2, "fine")), IsOk());
  RecordingHandler h;
  ASSERT_TRUE(PollUntil({{small.get(), &h}}, [&] { return !h.envelopes.empty(); }));
  ASSERT_EQ(h.bad.size(), 1u);
  EXPECT_THAT(h.bad[0], StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(h.envelopes[0].first.payload(), "fine");
}

TEST(InProcTransportTest, SendToNobodyReportsPeerDownOnce) {
  auto b = Make();
  ASSERT_THAT(b->Send("inproc://nobody-here", MakeEnvelope(1)), IsOk());
  ASSERT_THAT(b->Send("inproc://nobody-here", MakeEnvelope(2)), IsOk());
  RecordingHandler hb;
  b->Poll(absl::Seconds(10), hb);
  ASSERT_EQ(hb.downs.size(), 1u);
  EXPECT_EQ(hb.downs[0].first, "inproc://nobody-here");
  EXPECT_THAT(hb.downs[0].second, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(b->Send("", MakeEnvelope(1)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(InProcTransportTest, DestroyingATransportReportsPeerDownToItsSenders) {
  auto a = Make();
  auto b = Make();
  auto c = Make();  // never sent to a: hears nothing
  const std::string ep = ListenOn(*a);
  ASSERT_THAT(b->Send(ep, MakeEnvelope(1)), IsOk());
  auto ch = c->OpenChannel(ep);
  ASSERT_THAT(ch, IsOk());
  ASSERT_THAT((*ch)->Send(MakeEnvelope(2)), IsOk());
  a.reset();
  RecordingHandler hb, hc;
  b->Poll(absl::Seconds(10), hb);
  ASSERT_EQ(hb.downs.size(), 1u);
  EXPECT_EQ(hb.downs[0].first, ep);
  EXPECT_THAT(hb.downs[0].second, StatusIs(absl::StatusCode::kUnavailable));
  c->Poll(absl::ZeroDuration(), hc);
  EXPECT_TRUE(hc.downs.empty());
  EXPECT_THAT((*ch)->Recv(absl::Now() + absl::Seconds(10)),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT((*ch)->Send(MakeEnvelope(3)), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(InProcTransportTest, KillActsLikeADeadProcess) {
  auto a = Make();
  auto b = Make();
  const std::string ep_a = ListenOn(*a);
  const std::string ep_b = ListenOn(*b);
  ASSERT_THAT(b->Send(ep_a, MakeEnvelope(1)), IsOk());
  a->Kill();
  RecordingHandler ha, hb;
  b->Poll(absl::Seconds(10), hb);
  ASSERT_EQ(hb.downs.size(), 1u);
  ASSERT_THAT(a->Send(ep_b, MakeEnvelope(2)), IsOk());  // dropped
  a->Poll(absl::ZeroDuration(), ha);
  b->Poll(absl::ZeroDuration(), hb);
  EXPECT_TRUE(ha.envelopes.empty());
  EXPECT_TRUE(hb.envelopes.empty());
}

TEST(InProcTransportTest, DisconnectSuppressesPeerDown) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  ASSERT_THAT(b->Send(ep, MakeEnvelope(1)), IsOk());
  b->Disconnect(ep);
  a.reset();
  RecordingHandler hb;
  b->Poll(absl::ZeroDuration(), hb);
  EXPECT_TRUE(hb.downs.empty());
}

TEST(InProcTransportTest, PartitionDropsSilentlyUntilHealed) {
  auto a = Make();
  auto b = Make();
  const std::string ep = ListenOn(*a);
  a->SetPartitioned(true);
  ASSERT_THAT(b->Send(ep, MakeEnvelope(1)), IsOk());
  RecordingHandler ha, hb;
  a->Poll(absl::ZeroDuration(), ha);
  b->Poll(absl::ZeroDuration(), hb);
  EXPECT_TRUE(ha.envelopes.empty());
  EXPECT_TRUE(hb.downs.empty());
  a->SetPartitioned(false);
  ASSERT_THAT(b->Send(ep, MakeEnvelope(2)), IsOk());
  a->Poll(absl::Seconds(10), ha);
  ASSERT_EQ(ha.envelopes.size(), 1u);
  EXPECT_EQ(ha.envelopes[0].first.ref(), 2u);
}

TEST(InProcTransportTest, WakeInterruptsPollAndRecv) {
  auto a = Make();
  const std::string ep = ListenOn(*a);
  RecordingHandler h;
  a->Wake();
  a->Poll(absl::Seconds(30), h);  // returns at once
  std::thread waker([&] { a->Wake(); });
  a->Poll(absl::Seconds(30), h);
  waker.join();
  auto ch = a->OpenChannel(ep);
  ASSERT_THAT(ch, IsOk());
  std::thread channel_waker([&] { (*ch)->Wake(); });
  auto got = (*ch)->Recv(absl::Now() + absl::Seconds(30));
  channel_waker.join();
  ASSERT_THAT(got, IsOk());
  EXPECT_FALSE(got->has_value());
}

TEST(InProcTransportTest, HandlerMaySendToItselfDuringPoll) {
  auto a = Make();
  const std::string ep = ListenOn(*a);
  struct Echo : RecordingHandler {
    InProcTransport* t;
    std::string ep;
    void OnEnvelope(const EnvelopeView& e, const ReturnPath& from, absl::Time at,
                    const Sender& sender) override {
      if (e.ref < 3) {
        ASSERT_THAT(t->Send(ep, MakeEnvelope(e.ref + 1)), IsOk());
      }
      RecordingHandler::OnEnvelope(e, from, at, sender);
    }
  } h;
  h.t = a.get();
  h.ep = ep;
  ASSERT_THAT(a->Send(ep, MakeEnvelope(0)), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &h}}, [&] { return h.envelopes.size() == 4; }));
}

}  // namespace
}  // namespace polis::bus
