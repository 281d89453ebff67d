// bus/zmq_traffic_test.cc — what ZmqTransport counts per peer node
// (bus/traffic.h): sends, replies, channels, drops and refused frames.
#include <string>
#include <vector>

#include <zmq.hpp>

#include "absl/time/clock.h"
#include "bus/frame_codec.h"
#include "bus/zmq_transport.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/transport_helpers.h"

namespace polis::bus {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::MakeEnvelope;
using ::polis::testing::PollUntil;
using ::polis::testing::RecordingHandler;

std::unique_ptr<ZmqTransport> Make() {
  auto t = ZmqTransport::Create({});
  EXPECT_THAT(t, IsOk());
  return std::move(t).value();
}

// An envelope from node `from` to node `to`.
wire::Envelope Between(const std::string& from, const std::string& to, uint64_t ref,
                       std::string payload = "hello") {
  wire::Envelope e = MakeEnvelope(ref, std::move(payload));
  e.mutable_sender()->set_node(from);
  e.mutable_recipient()->set_node(to);
  return e;
}

size_t FrameBytes(const wire::Envelope& e) {
  absl::StatusOr<size_t> n = FrameSize(e, kDefaultMaxMessageBytes);
  EXPECT_THAT(n, IsOk());
  return n.value_or(0);
}

PeerTraffic Of(const Transport& t, const std::string& node) {
  for (const PeerTraffic& p : t.Traffic()) {
    if (p.node == node) return p;
  }
  return PeerTraffic{.node = "(absent)"};
}

TEST(ZmqTrafficTest, CountsSendsAndRepliesPerPeerNodeWithTheirFrameBytes) {
  auto a = Make();
  auto b = Make();
  auto ep = a->Listen("tcp://127.0.0.1:*");
  ASSERT_THAT(ep, IsOk());
  size_t sent_bytes = 0;
  for (int i = 0; i < 3; ++i) {
    const wire::Envelope e = Between("b", "a", i, std::string(10 * i, 'x'));
    sent_bytes += FrameBytes(e);
    ASSERT_THAT(b->Send(*ep, e), IsOk());
  }
  RecordingHandler ha, hb;
  ASSERT_TRUE(
      PollUntil({{a.get(), &ha}, {b.get(), &hb}}, [&] { return ha.envelopes.size() == 3; }));
  const wire::Envelope reply = Between("a", "b", 9, "back");
  ASSERT_THAT(a->Reply(ha.envelopes[0].second, reply), IsOk());
  ASSERT_TRUE(
      PollUntil({{a.get(), &ha}, {b.get(), &hb}}, [&] { return hb.envelopes.size() == 1; }));

  // b sent to a on a connection it opened: a has counters of its own at b.
  const PeerTraffic at_b = Of(*b, "a");
  EXPECT_EQ(at_b.messages_out, 3u);
  EXPECT_EQ(at_b.bytes_out, sent_bytes);
  EXPECT_EQ(at_b.messages_in, 1u);
  EXPECT_EQ(at_b.bytes_in, FrameBytes(reply));
  // a never sent to b on a connection of its own (b does not even listen):
  // b is "other" at a, like a client.
  EXPECT_EQ(Of(*a, "b").node, "(absent)");
  const PeerTraffic other_at_a = Of(*a, "");
  EXPECT_EQ(other_at_a.messages_in, 3u);
  EXPECT_EQ(other_at_a.bytes_in, sent_bytes);
  EXPECT_EQ(other_at_a.messages_out, 1u);
  EXPECT_EQ(other_at_a.bytes_out, FrameBytes(reply));
  EXPECT_EQ(other_at_a.dropped + other_at_a.refused + at_b.dropped + at_b.refused, 0u);
}

TEST(ZmqTrafficTest, ChannelsCountInTheirTransportsTable) {
  auto a = Make();
  auto b = Make();
  auto ep = a->Listen("tcp://127.0.0.1:*");
  ASSERT_THAT(ep, IsOk());
  auto ch = b->OpenChannel(*ep);
  ASSERT_THAT(ch, IsOk());
  const wire::Envelope call = Between("b", "a", 1, "call");
  ASSERT_THAT((*ch)->Send(call), IsOk());
  RecordingHandler ha;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return !ha.envelopes.empty(); }));
  const wire::Envelope reply = Between("a", "b", 1, "reply");
  ASSERT_THAT(a->Reply(ha.envelopes[0].second, reply), IsOk());
  a->Flush();
  auto got = (*ch)->Recv(absl::Now() + absl::Seconds(10));
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  const PeerTraffic at_b = Of(*b, "a");
  EXPECT_EQ(at_b.messages_out, 1u);
  EXPECT_EQ(at_b.bytes_out, FrameBytes(call));
  EXPECT_EQ(at_b.messages_in, 1u);
  EXPECT_EQ(at_b.bytes_in, FrameBytes(reply));
}

TEST(ZmqTrafficTest, EnvelopesQueuedForAClosedConnectionCountAsDropped) {
  auto b = Make();
  // Nobody listens there; nothing is handed to the socket before a Poll.
  constexpr int kQueued = 5;
  for (int i = 0; i < kQueued; ++i) {
    ASSERT_THAT(b->Send("tcp://127.0.0.1:1", Between("b", "ghost", i)), IsOk());
  }
  b->Disconnect("tcp://127.0.0.1:1");
  const PeerTraffic ghost = Of(*b, "ghost");
  EXPECT_EQ(ghost.messages_out, uint64_t{kQueued});
  EXPECT_EQ(ghost.dropped, uint64_t{kQueued});
}

TEST(ZmqTrafficTest, FramesThatDoNotDecodeCountAsRefused) {
  auto a = Make();
  auto ep = a->Listen("tcp://127.0.0.1:*");
  ASSERT_THAT(ep, IsOk());
  zmq::context_t ctx;
  zmq::socket_t raw(ctx, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(*ep);
  std::string good;
  ASSERT_THAT(EncodeFrame(Between("x", "a", 5, "good"), kDefaultMaxMessageBytes, &good), IsOk());
  std::string wrong_version = good;
  wrong_version[2] = 9;
  ASSERT_TRUE(raw.send(zmq::str_buffer("garbage, not polis"), zmq::send_flags::none));
  ASSERT_TRUE(raw.send(zmq::buffer(wrong_version), zmq::send_flags::none));
  ASSERT_TRUE(raw.send(zmq::buffer(good), zmq::send_flags::sndmore));  // multipart
  ASSERT_TRUE(raw.send(zmq::buffer(good), zmq::send_flags::none));
  ASSERT_TRUE(raw.send(zmq::buffer(good), zmq::send_flags::none));
  RecordingHandler ha;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return !ha.envelopes.empty(); }));
  // Arrived on the ROUTER, which cannot tell which node a broken frame
  // came from: "other" refused them, as many as the handler was told of.
  const PeerTraffic other = Of(*a, "");
  EXPECT_EQ(other.refused, 3u);
  EXPECT_EQ(other.refused, ha.bad.size());
  EXPECT_EQ(other.messages_in, 1u);
}

}  // namespace
}  // namespace polis::bus
