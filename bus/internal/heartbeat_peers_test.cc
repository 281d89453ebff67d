// The detector's rules with time stepped by hand: silence, restarts, state
// changes, the self-pause guard, the clock offset, and which beats are
// authentic (MAC under the watched key, seq above the last). No sockets, no
// threads.
#include "bus/internal/heartbeat_peers.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace polis::bus::internal {
namespace {

using Kind = HeartbeatEvent::Kind;
using Outcome = HeartbeatPeers::BeatOutcome;

constexpr absl::Duration kTimeout = absl::Milliseconds(800);
const char kPeer[] = "tcp://10.0.0.2:7000";

wire::Heartbeat Beat(uint64_t incarnation, uint64_t state_version = 0,
                     const char* endpoint = kPeer) {
  wire::Heartbeat beat;
  beat.set_endpoint(endpoint);
  beat.set_incarnation(incarnation);
  beat.set_state_version(state_version);
  return beat;
}

class HeartbeatPeersTest : public ::testing::Test {
 protected:
  HeartbeatPeersTest() {
    address_ = *ParseDatagramAddress("udp://10.0.0.2:40000");
  }

  // Ticks every 100 ms (well under the pause threshold) up to `until`.
  void TickUntil(absl::Time until) {
    while (now_ < until) {
      now_ = std::min(now_ + absl::Milliseconds(100), until);
      peers_.Tick(now_, &events_);
    }
  }
  // Signs `beat` with `key` (key_ if null), giving it the next seq unless
  // it has one, and hands it to peers_ as received bytes.
  Outcome Receive(wire::Heartbeat beat, absl::Time now_unix = absl::UnixEpoch() + absl::Hours(1),
                  const HeartbeatKey* key = nullptr) {
    if (beat.seq() == 0) beat.set_seq(++seq_);
    return ReceiveBytes(Signed(beat, key ? *key : key_), now_unix);
  }
  Outcome ReceiveBytes(const std::string& datagram,
                       absl::Time now_unix = absl::UnixEpoch() + absl::Hours(1)) {
    wire::Heartbeat parsed;
    EXPECT_TRUE(parsed.ParseFromString(datagram));
    return peers_.OnBeat(parsed, datagram, now_, now_unix, &events_);
  }
  static std::string Signed(const wire::Heartbeat& beat, const HeartbeatKey& key) {
    std::string datagram = beat.SerializeAsString();
    AppendHeartbeatMac(key, &datagram);
    return datagram;
  }
  std::vector<HeartbeatEvent> Take() { return std::exchange(events_, {}); }

  HeartbeatPeers peers_{kTimeout};
  DatagramAddress address_;
  HeartbeatKey key_ = *NewHeartbeatKey();
  uint64_t seq_ = 0;
  absl::Time now_ = absl::UnixEpoch() + absl::Hours(24);
  std::vector<HeartbeatEvent> events_;
};

TEST_F(HeartbeatPeersTest, FirstBeatAfterWatchIsReportedThenOnlyChanges) {
  peers_.Watch(kPeer, 1, address_, key_, now_);
  EXPECT_EQ(Receive(Beat(1, 5)), Outcome::kAccepted);
  std::vector<HeartbeatEvent> events = Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kHeard);
  EXPECT_EQ(events[0].endpoint, kPeer);
  EXPECT_EQ(events[0].beat.state_version(), 5u);

  EXPECT_EQ(Receive(Beat(1, 5)), Outcome::kAccepted);
  EXPECT_THAT(Take(), ::testing::IsEmpty());

  EXPECT_EQ(Receive(Beat(1, 6)), Outcome::kAccepted);
  events = Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].beat.state_version(), 6u);
}

TEST_F(HeartbeatPeersTest, BeatsKeepAPeerAlive) {
  peers_.Watch(kPeer, 1, address_, key_, now_);
  for (int i = 0; i < 50; ++i) {
    TickUntil(now_ + absl::Milliseconds(300));
    Receive(Beat(1));
  }
  Take();  // the first beat's kHeard
  TickUntil(now_ + kTimeout - absl::Milliseconds(1));
  EXPECT_THAT(Take(), ::testing::IsEmpty());
  EXPECT_FALSE(peers_.Find(kPeer)->silent);
}

TEST_F(HeartbeatPeersTest, SilenceIsReportedOnceAndAgainOnlyAfterBeingHeard) {
  const absl::Time watched = now_;
  peers_.Watch(kPeer, 7, address_, key_, now_);
  TickUntil(watched + kTimeout - absl::Milliseconds(1));
  EXPECT_THAT(Take(), ::testing::IsEmpty());

  TickUntil(watched + kTimeout);
  std::vector<HeartbeatEvent> events = Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kSilent);
  EXPECT_EQ(events[0].incarnation, 7u);
  EXPECT_EQ(events[0].silent_for, kTimeout);

  TickUntil(now_ + absl::Seconds(5));
  EXPECT_THAT(Take(), ::testing::IsEmpty());

  // Heard again: reported (first beat after a silence), then silent again.
  Receive(Beat(7));
  events = Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kHeard);
  EXPECT_FALSE(peers_.Find(kPeer)->silent);
  TickUntil(now_ + kTimeout);
  events = Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kSilent);
}

TEST_F(HeartbeatPeersTest, AnotherIncarnationIsReportedButDoesNotKeepTheWatchedOneAlive) {
  const absl::Time watched = now_;
  peers_.Watch(kPeer, 1, address_, key_, now_);
  EXPECT_EQ(Receive(Beat(2)), Outcome::kOtherIncarnation);
  std::vector<HeartbeatEvent> events = Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kHeard);
  EXPECT_EQ(events[0].beat.incarnation(), 2u);

  // The restarted peer keeps beating; the watched incarnation goes silent.
  while (true) {
    TickUntil(now_ + absl::Milliseconds(100));
    if (now_ >= watched + kTimeout) break;
    Receive(Beat(2));
  }
  events = Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kSilent);
  EXPECT_EQ(events[0].incarnation, 1u);
  EXPECT_EQ(peers_.Find(kPeer)->beats_received, 0u);

  // The first beat after the silence is reported again, as a reminder.
  EXPECT_EQ(Receive(Beat(2)), Outcome::kOtherIncarnation);
  events = Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].beat.incarnation(), 2u);
}

TEST_F(HeartbeatPeersTest, IncarnationZeroAcceptsAnyAndReportsARestart) {
  peers_.Watch(kPeer, 0, address_, key_, now_);
  EXPECT_EQ(Receive(Beat(1)), Outcome::kAccepted);
  EXPECT_EQ(Receive(Beat(1)), Outcome::kAccepted);
  EXPECT_EQ(Take().size(), 1u);
  EXPECT_EQ(Receive(Beat(2)), Outcome::kAccepted);
  std::vector<HeartbeatEvent> events = Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].beat.incarnation(), 2u);
}

TEST_F(HeartbeatPeersTest, UnwatchedEndpointIsIgnored) {
  peers_.Watch(kPeer, 1, address_, key_, now_);
  EXPECT_EQ(Receive(Beat(1, 0, "tcp://10.0.0.9:1")), Outcome::kUnwatched);
  EXPECT_THAT(Take(), ::testing::IsEmpty());
  peers_.Unwatch(kPeer);
  EXPECT_EQ(Receive(Beat(1)), Outcome::kUnwatched);
  EXPECT_EQ(peers_.Find(kPeer), nullptr);
  TickUntil(now_ + absl::Seconds(2));
  EXPECT_THAT(Take(), ::testing::IsEmpty());
}

TEST_F(HeartbeatPeersTest, SelfPauseGivesEveryPeerAFreshGracePeriod) {
  peers_.Watch(kPeer, 1, address_, key_, now_);
  peers_.Watch("tcp://10.0.0.3:7000", 1, address_, key_, now_);
  TickUntil(now_ + absl::Milliseconds(500));

  // This node did not run for 10 s: nobody is blamed for it.
  now_ += absl::Seconds(10);
  const HeartbeatPeers::TickResult tick = peers_.Tick(now_, &events_);
  EXPECT_TRUE(tick.paused);
  EXPECT_EQ(tick.next_deadline, now_ + kTimeout);
  EXPECT_THAT(Take(), ::testing::IsEmpty());

  // Still silent a full timeout later: reported, measured from the pause.
  const absl::Time resumed = now_;
  TickUntil(resumed + kTimeout - absl::Milliseconds(1));
  EXPECT_THAT(Take(), ::testing::IsEmpty());
  TickUntil(resumed + kTimeout);
  std::vector<HeartbeatEvent> events = Take();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].silent_for, kTimeout);
  EXPECT_EQ(events[1].silent_for, kTimeout);
}

TEST_F(HeartbeatPeersTest, AGapOfHalfTheTimeoutIsNotAPause) {
  const absl::Time watched = now_;
  peers_.Watch(kPeer, 1, address_, key_, now_);
  EXPECT_FALSE(peers_.Tick(now_, &events_).paused);
  now_ += kTimeout / 2;
  EXPECT_FALSE(peers_.Tick(now_, &events_).paused);
  now_ += kTimeout / 2;
  EXPECT_FALSE(peers_.Tick(now_, &events_).paused);
  std::vector<HeartbeatEvent> events = Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].silent_for, now_ - watched);
}

TEST_F(HeartbeatPeersTest, WatchingAgainRestartsTheGracePeriodAndClearsStats) {
  peers_.Watch(kPeer, 1, address_, key_, now_);
  Receive(Beat(1));
  TickUntil(now_ + absl::Milliseconds(700));
  peers_.Watch(kPeer, 2, address_, key_, now_);
  const HeartbeatPeers::Peer* peer = peers_.Find(kPeer);
  EXPECT_FALSE(peer->heard_ever);
  EXPECT_EQ(peer->beats_received, 0u);
  EXPECT_EQ(peer->incarnation, 2u);
  TickUntil(now_ + absl::Milliseconds(700));
  EXPECT_EQ(Take().size(), 1u);  // only the first kHeard
}

TEST_F(HeartbeatPeersTest, ClockOffsetIsTheMedianOfRecentBeats) {
  peers_.Watch(kPeer, 1, address_, key_, now_);
  const absl::Time now_unix = absl::UnixEpoch() + absl::Hours(1);
  auto beat_with_offset = [&](absl::Duration offset) {
    wire::Heartbeat beat = Beat(1);
    beat.set_sent_unix_ns(absl::ToUnixNanos(now_unix + offset));
    Receive(beat, now_unix);
  };
  EXPECT_EQ(HeartbeatPeers::ClockOffset(*peers_.Find(kPeer)), absl::ZeroDuration());
  // Old samples beyond the window are forgotten.
  for (int i = 0; i < 20; ++i) beat_with_offset(absl::Seconds(100));
  for (int ms : {10, 5000, 12, 11, -4000, 11, 13, 9, 10, 12, 11, 10, 11, 12, 10}) {
    beat_with_offset(absl::Milliseconds(ms));
  }
  EXPECT_EQ(HeartbeatPeers::ClockOffset(*peers_.Find(kPeer)), absl::Milliseconds(11));
}

TEST_F(HeartbeatPeersTest, HostileSendTimeDoesNotOverflow) {
  peers_.Watch(kPeer, 1, address_, key_, now_);
  wire::Heartbeat beat = Beat(1);
  beat.set_sent_unix_ns(std::numeric_limits<int64_t>::min());
  Receive(beat, absl::UnixEpoch() + absl::Hours(1));
  beat.set_sent_unix_ns(std::numeric_limits<int64_t>::max());
  Receive(beat, absl::UnixEpoch() - absl::Hours(1));
  EXPECT_EQ(peers_.Find(kPeer)->beats_received, 2u);
}

// A beat that does not verify, or repeats an old seq, neither keeps the
// peer alive nor is reported; the good one after them is.
TEST_F(HeartbeatPeersTest, OnlyAuthenticFreshBeatsCount) {
  const absl::Time watched = now_;
  peers_.Watch(kPeer, 1, address_, key_, now_);
  const HeartbeatKey other_node = *NewHeartbeatKey();
  wire::Heartbeat beat = Beat(1, 9);

  beat.set_seq(1);
  EXPECT_EQ(ReceiveBytes(beat.SerializeAsString()), Outcome::kUnauthenticated);  // no MAC
  std::string wrong = Signed(beat, key_);
  wrong.back() ^= 1;
  EXPECT_EQ(ReceiveBytes(wrong), Outcome::kUnauthenticated);  // wrong MAC
  std::string tampered = Signed(beat, key_);
  beat.set_seq(2);  // same MAC, other fields: the MAC no longer covers them
  tampered = beat.SerializeAsString() + tampered.substr(tampered.size() - kHeartbeatMacFieldBytes);
  EXPECT_EQ(ReceiveBytes(tampered), Outcome::kUnauthenticated);
  EXPECT_EQ(Receive(beat, absl::UnixEpoch(), &other_node),  // another node's key
            Outcome::kUnauthenticated);
  wire::Heartbeat mac_first = beat;  // a MAC, but not the last field
  mac_first.set_mac(std::string(kHeartbeatMacBytes, 'm'));
  EXPECT_EQ(ReceiveBytes(mac_first.SerializeAsString()), Outcome::kUnauthenticated);
  EXPECT_THAT(Take(), ::testing::IsEmpty());
  EXPECT_FALSE(peers_.Find(kPeer)->heard_ever);

  beat.set_seq(5);
  EXPECT_EQ(Receive(beat), Outcome::kAccepted);
  EXPECT_EQ(Take().size(), 1u);
  for (uint64_t old : {5, 4, 1}) {  // replays and reordered older beats
    beat.set_seq(old);
    beat.set_state_version(old + 100);  // would be news, were it accepted
    EXPECT_EQ(Receive(beat), Outcome::kReplayed) << old;
  }
  EXPECT_THAT(Take(), ::testing::IsEmpty());
  EXPECT_EQ(peers_.Find(kPeer)->beats_received, 1u);

  // Replays alone do not keep it alive: silent a timeout after the good one.
  const absl::Time heard = now_;
  while (now_ < heard + kTimeout) {
    TickUntil(now_ + absl::Milliseconds(100));
    beat.set_seq(5);
    Receive(beat);
  }
  std::vector<HeartbeatEvent> events = Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kSilent);
  EXPECT_GE(now_ - watched, kTimeout);

  beat.set_seq(6);
  EXPECT_EQ(Receive(beat), Outcome::kAccepted);
  EXPECT_FALSE(peers_.Find(kPeer)->silent);
}

TEST_F(HeartbeatPeersTest, WatchingAgainTakesTheNewKeyAndForgetsTheSeq) {
  peers_.Watch(kPeer, 1, address_, key_, now_);
  wire::Heartbeat beat = Beat(1);
  beat.set_seq(50);
  EXPECT_EQ(Receive(beat), Outcome::kAccepted);
  const HeartbeatKey restarted = *NewHeartbeatKey();
  peers_.Watch(kPeer, 2, address_, restarted, now_);
  wire::Heartbeat fresh = Beat(2);
  fresh.set_seq(1);
  EXPECT_EQ(Receive(fresh), Outcome::kUnauthenticated);  // the old key no longer counts
  EXPECT_EQ(Receive(fresh, absl::UnixEpoch(), &restarted), Outcome::kAccepted);
}

TEST(HeartbeatAuthTest, KeysAreFreshAndTravelAsTheirBytes) {
  const HeartbeatKey a = *NewHeartbeatKey();
  const HeartbeatKey b = *NewHeartbeatKey();
  EXPECT_NE(a, b);
  EXPECT_EQ(*HeartbeatKeyFromBytes(HeartbeatKeyBytes(a)), a);
  EXPECT_EQ(HeartbeatKeyFromBytes("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HeartbeatKeyFromBytes(std::string(31, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(HeartbeatMacValid(a, ""));
  EXPECT_FALSE(HeartbeatMacValid(a, std::string(kHeartbeatMacFieldBytes, '\0')));
}

}  // namespace
}  // namespace polis::bus::internal
