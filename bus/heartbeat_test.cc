// Heartbeaters in one process, over udp://127.0.0.1 and over unix datagram
// sockets: hearing each other, silence, restarts, hostile input (forged,
// unsigned, foreign-key and replayed beats), the self-pause guard, bad
// addresses and keys. The rules themselves are tested with a
// hand-stepped clock in internal/heartbeat_peers_test.cc.
#include "bus/heartbeat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bus/internal/datagram_socket.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis::bus {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::ScratchDir;
using ::polis::testing::StatusIs;
using ::polis::testing::WaitFor;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Short enough for quick tests; the waits below are kWaitTimeout (10 s).
HeartbeatOptions TestOptions() {
  return {.interval = absl::Milliseconds(20), .timeout = absl::Milliseconds(200)};
}

// Records what the heartbeat thread reports.
class RecordingListener : public HeartbeatListener {
 public:
  struct Silence {
    std::string endpoint;
    uint64_t incarnation;
    absl::Duration silent_for;
  };

  void OnSilent(const std::string& endpoint, uint64_t incarnation,
                absl::Duration silent_for) override {
    absl::MutexLock lock(&mu_);
    silences_.push_back({endpoint, incarnation, silent_for});
  }
  void OnHeard(const std::string& endpoint, const wire::Heartbeat& beat) override {
    absl::MutexLock lock(&mu_);
    EXPECT_EQ(endpoint, beat.endpoint());
    heard_.push_back(beat);
  }

  // Beats reported from `endpoint` with `incarnation` (and `state_version`
  // unless it is -1).
  int HeardFrom(const std::string& endpoint, uint64_t incarnation,
                int64_t state_version = -1) const {
    absl::MutexLock lock(&mu_);
    int n = 0;
    for (const wire::Heartbeat& beat : heard_) {
      n += beat.endpoint() == endpoint && beat.incarnation() == incarnation &&
           (state_version < 0 || beat.state_version() == static_cast<uint64_t>(state_version));
    }
    return n;
  }
  std::vector<Silence> SilencesOf(const std::string& endpoint, uint64_t incarnation) const {
    absl::MutexLock lock(&mu_);
    std::vector<Silence> out;
    for (const Silence& s : silences_) {
      if (s.endpoint == endpoint && s.incarnation == incarnation) out.push_back(s);
    }
    return out;
  }
  int SilenceCount() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(silences_.size());
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<wire::Heartbeat> heard_ ABSL_GUARDED_BY(mu_);
  std::vector<Silence> silences_ ABSL_GUARDED_BY(mu_);
};

// One node's detector: its Heartbeater, listener and state version.
struct TestNode {
  std::string endpoint;
  uint64_t incarnation = 0;
  RecordingListener listener;
  std::atomic<uint64_t> state_version{0};
  std::unique_ptr<Heartbeater> heartbeater;

  absl::Status Start(HeartbeatOptions options = TestOptions()) {
    absl::StatusOr<std::unique_ptr<Heartbeater>> hb =
        Heartbeater::Create(endpoint, incarnation, std::move(options), &listener,
                            [this] { return state_version.load(); });
    if (!hb.ok()) return hb.status();
    heartbeater = std::move(*hb);
    return absl::OkStatus();
  }
  absl::Status Watch(const TestNode& peer) {
    return heartbeater->Watch(peer.endpoint, peer.incarnation, peer.heartbeater->address(),
                              peer.heartbeater->key());
  }
  uint64_t BeatsFrom(const TestNode& peer) const {
    std::optional<Heartbeater::PeerStats> stats = heartbeater->Stats(peer.endpoint);
    return stats ? stats->beats_received : 0;
  }
};

// Runs every test over udp (nodes advertising tcp://127.0.0.1:PORT) and over
// unix datagram sockets (nodes advertising ipc://PATH).
class HeartbeatTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ScratchDir>> dir = ScratchDir::Create("polis-hb");
    ASSERT_THAT(dir, IsOk());
    dir_ = std::move(*dir);
  }

  // A distinct advertised endpoint per `n`. Nothing listens on its TCP port
  // or ipc path: only the heartbeat socket is bound.
  std::string Endpoint(int n) const {
    if (GetParam() == "udp") return absl::StrCat("tcp://127.0.0.1:", 17000 + n);
    return absl::StrCat("ipc://", dir_->File(absl::StrCat("node", n)));
  }

  // Starts `node` as Endpoint(n) with `incarnation`.
  void StartNode(TestNode& node, int n, uint64_t incarnation,
                 HeartbeatOptions options = TestOptions()) {
    node.endpoint = Endpoint(n);
    node.incarnation = incarnation;
    ASSERT_THAT(node.Start(std::move(options)), IsOk());
  }

  std::unique_ptr<ScratchDir> dir_;
};

INSTANTIATE_TEST_SUITE_P(Sockets, HeartbeatTest, ::testing::Values("udp", "ipc"),
                         [](const auto& info) { return info.param; });

TEST_P(HeartbeatTest, AddressMatchesTheEndpointKind) {
  TestNode a;
  StartNode(a, 1, 1);
  if (GetParam() == "udp") {
    EXPECT_THAT(a.heartbeater->address(), StartsWith("udp://127.0.0.1:"));
  } else {
    const std::string path = dir_->File("node1.hb");
    EXPECT_EQ(a.heartbeater->address(), "unixgram://" + path);
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    a.heartbeater.reset();
    EXPECT_NE(stat(path.c_str(), &st), 0) << "the socket file outlived its Heartbeater";
  }
}

TEST_P(HeartbeatTest, EachHearsTheOther) {
  TestNode a, b;
  StartNode(a, 1, 11);
  StartNode(b, 2, 22);
  a.state_version = 5;
  ASSERT_THAT(a.Watch(b), IsOk());
  ASSERT_THAT(b.Watch(a), IsOk());
  EXPECT_TRUE(WaitFor([&] { return a.listener.HeardFrom(b.endpoint, 22) >= 1; }));
  EXPECT_TRUE(WaitFor([&] { return b.listener.HeardFrom(a.endpoint, 11, 5) >= 1; }));
  EXPECT_TRUE(WaitFor([&] { return a.BeatsFrom(b) >= 3 && b.BeatsFrom(a) >= 3; }));

  std::optional<Heartbeater::PeerStats> stats = a.heartbeater->Stats(b.endpoint);
  ASSERT_TRUE(stats.has_value());
  EXPECT_TRUE(stats->heard_ever);
  EXPECT_FALSE(stats->silent);
  // Same clock on both sides: the offset is minus the latency, never ahead.
  EXPECT_LE(stats->clock_offset, absl::ZeroDuration());
  EXPECT_EQ(a.heartbeater->Stats("tcp://127.0.0.1:1"), std::nullopt);
  EXPECT_EQ(a.listener.SilenceCount(), 0);
  EXPECT_EQ(a.heartbeater->counters().ignored_unwatched, 0u);
}

TEST_P(HeartbeatTest, StateVersionChangeIsReported) {
  TestNode a, b;
  StartNode(a, 1, 1);
  StartNode(b, 2, 2);
  ASSERT_THAT(a.Watch(b), IsOk());
  ASSERT_THAT(b.Watch(a), IsOk());
  ASSERT_TRUE(WaitFor([&] { return a.listener.HeardFrom(b.endpoint, 2, 0) == 1; }));
  b.state_version = 42;
  EXPECT_TRUE(WaitFor([&] { return a.listener.HeardFrom(b.endpoint, 2, 42) == 1; }));
  // Reported once per change, not once per beat.
  const uint64_t beats = a.BeatsFrom(b);
  ASSERT_TRUE(WaitFor([&] { return a.BeatsFrom(b) >= beats + 5; }));
  EXPECT_EQ(a.listener.HeardFrom(b.endpoint, 2), 2);
}

TEST_P(HeartbeatTest, UnwatchedPeerStopsBeatingAndIsReportedSilent) {
  TestNode a, b;
  StartNode(a, 1, 1);
  StartNode(b, 2, 2);
  ASSERT_THAT(a.Watch(b), IsOk());
  ASSERT_THAT(b.Watch(a), IsOk());
  ASSERT_TRUE(WaitFor([&] { return a.BeatsFrom(b) >= 1; }));

  b.heartbeater->Unwatch(a.endpoint);
  ASSERT_TRUE(WaitFor([&] { return !a.listener.SilencesOf(b.endpoint, 2).empty(); }));
  const std::vector<RecordingListener::Silence> silences = a.listener.SilencesOf(b.endpoint, 2);
  ASSERT_EQ(silences.size(), 1u);
  EXPECT_GE(silences[0].silent_for, TestOptions().timeout);
  EXPECT_TRUE(a.heartbeater->Stats(b.endpoint)->silent);
  EXPECT_EQ(b.heartbeater->Stats(a.endpoint), std::nullopt);
  EXPECT_EQ(b.listener.SilenceCount(), 0);

  // Watching again: heard again, reported as the first beat after a silence.
  const int heard = a.listener.HeardFrom(b.endpoint, 2);
  ASSERT_THAT(b.Watch(a), IsOk());
  EXPECT_TRUE(WaitFor([&] { return a.listener.HeardFrom(b.endpoint, 2) == heard + 1; }));
  EXPECT_TRUE(WaitFor([&] { return !a.heartbeater->Stats(b.endpoint)->silent; }));
}

// The restarted peer signs with its new incarnation's key, which A learns
// only with its Hello (here: the Watch): until then its beats count for
// nothing (unauthenticated), and the old incarnation goes silent.
TEST_P(HeartbeatTest, RestartIsHeardOnlyOnceWatchedWithTheNewKey) {
  TestNode a, b1, b2;
  StartNode(a, 1, 1);
  StartNode(b1, 2, 100);
  ASSERT_THAT(a.Watch(b1), IsOk());
  ASSERT_THAT(b1.Watch(a), IsOk());
  ASSERT_TRUE(WaitFor([&] { return a.BeatsFrom(b1) >= 1; }));

  // The same endpoint starts again (for ipc: binding over the old one's
  // socket file) before the old one is gone, as a supervisor may do.
  StartNode(b2, 2, 200);
  ASSERT_THAT(b2.Watch(a), IsOk());
  b1.heartbeater.reset();

  EXPECT_TRUE(WaitFor([&] { return a.heartbeater->counters().ignored_unauthenticated >= 1; }));
  EXPECT_TRUE(WaitFor([&] { return !a.listener.SilencesOf(b1.endpoint, 100).empty(); }));
  EXPECT_EQ(a.listener.HeardFrom(b2.endpoint, 200), 0);

  // The node learns of the restart and watches the new incarnation; the old
  // one's destructor left the new socket (file) alone, so A's beats reach it.
  ASSERT_THAT(a.Watch(b2), IsOk());
  EXPECT_TRUE(WaitFor([&] { return a.listener.HeardFrom(b2.endpoint, 200) >= 1; }));
  const uint64_t beats = b2.BeatsFrom(a);
  EXPECT_TRUE(WaitFor([&] { return b2.BeatsFrom(a) >= beats + 3; }));
  EXPECT_TRUE(WaitFor([&] { return a.BeatsFrom(b2) >= 3; }));
  EXPECT_TRUE(a.listener.SilencesOf(b2.endpoint, 200).empty());
}

TEST_P(HeartbeatTest, UnwatchedGarbageAndOversizedDatagramsAreIgnored) {
  TestNode a, b;
  StartNode(a, 1, 1);
  StartNode(b, 2, 2);
  ASSERT_THAT(a.Watch(b), IsOk());
  ASSERT_THAT(b.Watch(a), IsOk());

  absl::StatusOr<internal::DatagramAddress> to =
      internal::ParseDatagramAddress(a.heartbeater->address());
  ASSERT_THAT(to, IsOk());
  const int fd = socket(to->family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  auto send = [&](const std::string& bytes) {
    ASSERT_EQ(sendto(fd, bytes.data(), bytes.size(), 0, to->addr(), to->length),
              static_cast<ssize_t>(bytes.size()));
  };
  wire::Heartbeat stranger;
  stranger.set_endpoint("tcp://127.0.0.1:1");
  stranger.set_incarnation(9);
  send(stranger.SerializeAsString());
  send(std::string("\xff\xff\xff\xff\x0f", 5));  // field with wire type 7: not protobuf
  send("");                                      // parses, but names no endpoint
  send(std::string(4000, 'x'));                  // over kMaxHeartbeatBytes
  close(fd);

  EXPECT_TRUE(WaitFor([&] {
    const HeartbeatCounters c = a.heartbeater->counters();
    return c.ignored_unwatched == 1 && c.ignored_malformed == 2 && c.ignored_oversized == 1;
  }));
  EXPECT_TRUE(WaitFor([&] { return a.BeatsFrom(b) >= 3; }));  // still working
  EXPECT_EQ(a.listener.HeardFrom("tcp://127.0.0.1:1", 9), 0);
  EXPECT_EQ(a.listener.SilenceCount(), 0);
}

// B dies; a forger who can reach A's heartbeat socket keeps sending beats
// "from" B — unsigned, with a wrong MAC, signed with another node's key, and
// B's own signed beats again (replays: the test knows B's key, as a sniffer
// would have its beats) — with fresh seqs. None counts: A reports B silent
// about `timeout` after its last real beat, never hears the forgeries, and
// counts them. A fresh beat signed with B's key is heard again.
TEST_P(HeartbeatTest, ForgedAndReplayedBeatsDoNotKeepADeadPeerAlive) {
  const internal::HeartbeatKey b_key = *internal::NewHeartbeatKey();
  HeartbeatOptions b_options = TestOptions();
  b_options.key = b_key;
  TestNode a, b, c;
  StartNode(a, 1, 1);
  StartNode(b, 2, 2, b_options);
  StartNode(c, 3, 3);  // a member too: its key must not speak for B
  ASSERT_THAT(a.Watch(b), IsOk());
  ASSERT_THAT(b.Watch(a), IsOk());
  ASSERT_THAT(a.Watch(c), IsOk());
  ASSERT_TRUE(WaitFor([&] { return a.BeatsFrom(b) >= 3; }));
  const int heard = a.listener.HeardFrom(b.endpoint, 2);
  b.heartbeater.reset();  // dead: no more real beats
  // Past the last seq B sent (it sends one per 20 ms; the test ran < 10 s).
  uint64_t seq = 1'000'000;
  const HeartbeatCounters before = a.heartbeater->counters();

  absl::StatusOr<internal::DatagramAddress> to =
      internal::ParseDatagramAddress(a.heartbeater->address());
  ASSERT_THAT(to, IsOk());
  const int fd = socket(to->family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  auto send = [&](const std::string& bytes) {
    sendto(fd, bytes.data(), bytes.size(), 0, to->addr(), to->length);
  };
  wire::Heartbeat forged;
  forged.set_endpoint(b.endpoint);
  forged.set_incarnation(2);
  forged.set_state_version(77);  // news, were it believed
  internal::HeartbeatKey c_key;
  std::copy(c.heartbeater->key().begin(), c.heartbeater->key().end(), c_key.begin());
  auto forge_round = [&] {
    forged.set_seq(++seq);
    forged.clear_mac();
    send(forged.SerializeAsString());  // no MAC
    std::string bytes = forged.SerializeAsString();
    internal::AppendHeartbeatMac(c_key, &bytes);  // another node's key
    send(bytes);
    bytes.back() ^= 0x55;  // garbled MAC
    send(bytes);
    forged.set_seq(1);  // B's own first beat, as it was sent: a replay
    forged.set_state_version(0);
    forged.set_sent_unix_ns(0);
    bytes = forged.SerializeAsString();
    internal::AppendHeartbeatMac(b_key, &bytes);
    send(bytes);
    forged.set_state_version(77);
  };
  // Forges while waiting: B must still be reported silent.
  ASSERT_TRUE(WaitFor([&] {
    forge_round();
    return !a.listener.SilencesOf(b.endpoint, 2).empty();
  }));
  for (int i = 0; i < 20; ++i) forge_round();
  const HeartbeatCounters c_after = a.heartbeater->counters();
  EXPECT_GE(c_after.ignored_unauthenticated - before.ignored_unauthenticated, 60u);
  EXPECT_GE(c_after.ignored_replayed - before.ignored_replayed, 20u);
  EXPECT_EQ(a.listener.HeardFrom(b.endpoint, 2), heard);  // no forgery reported
  EXPECT_TRUE(a.heartbeater->Stats(b.endpoint)->silent);

  // Signed with B's key and a fresh seq: B is heard again.
  forged.set_seq(++seq);
  std::string good = forged.SerializeAsString();
  internal::AppendHeartbeatMac(b_key, &good);
  send(good);
  EXPECT_TRUE(WaitFor([&] { return a.listener.HeardFrom(b.endpoint, 2, 77) == 1; }));
  EXPECT_FALSE(a.heartbeater->Stats(b.endpoint)->silent);
  close(fd);
}

TEST_P(HeartbeatTest, SelfPauseDoesNotBlamePeers) {
  // A's clock is real time plus `jump`: adding to it looks, to A, exactly
  // as if its heartbeat thread had been stopped that long.
  std::atomic<int64_t> jump_ns{0};
  HeartbeatOptions options = TestOptions();
  options.clock = [&jump_ns] {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return absl::TimeFromTimespec(ts) + absl::Nanoseconds(jump_ns.load());
  };
  TestNode a, b, mute;
  StartNode(a, 1, 1, options);
  StartNode(b, 2, 2);
  StartNode(mute, 3, 3);  // never watches A: it never beats
  ASSERT_THAT(a.Watch(b), IsOk());
  ASSERT_THAT(b.Watch(a), IsOk());
  ASSERT_TRUE(WaitFor([&] { return a.BeatsFrom(b) >= 1; }));
  ASSERT_THAT(a.Watch(mute), IsOk());

  const uint64_t pauses = a.heartbeater->counters().self_pauses;
  jump_ns += absl::ToInt64Nanoseconds(absl::Seconds(60));
  ASSERT_TRUE(WaitFor([&] { return a.heartbeater->counters().self_pauses > pauses; }));
  const uint64_t beats = a.BeatsFrom(b);
  ASSERT_TRUE(WaitFor([&] { return a.BeatsFrom(b) >= beats + 3; }));
  // B, heard a moment ago in real time, is not blamed. (Not a strict check
  // of the guard: a beat of B's read before A's first check after the jump
  // also saves it. The mute peer is.)
  EXPECT_TRUE(a.listener.SilencesOf(b.endpoint, 2).empty());

  // The mute peer is still reported, but its silence is counted from the
  // pause, not from its Watch a minute (of A's clock) earlier: without the
  // guard it is reported at the first check after the jump, silent for 60 s.
  ASSERT_TRUE(WaitFor([&] { return !a.listener.SilencesOf(mute.endpoint, 3).empty(); }));
  EXPECT_LT(a.listener.SilencesOf(mute.endpoint, 3)[0].silent_for, absl::Seconds(60));
}

TEST(HeartbeatMixedTest, UdpAndUnixNodesHearEachOther) {
  absl::StatusOr<std::unique_ptr<ScratchDir>> dir = ScratchDir::Create("polis-hb");
  ASSERT_THAT(dir, IsOk());
  TestNode tcp, ipc;
  tcp.endpoint = "tcp://127.0.0.1:17001";
  tcp.incarnation = 1;
  ipc.endpoint = "ipc://" + (*dir)->File("node");
  ipc.incarnation = 2;
  ASSERT_THAT(tcp.Start(), IsOk());
  ASSERT_THAT(ipc.Start(), IsOk());
  ASSERT_THAT(tcp.Watch(ipc), IsOk());
  ASSERT_THAT(ipc.Watch(tcp), IsOk());
  EXPECT_TRUE(WaitFor([&] { return tcp.BeatsFrom(ipc) >= 3 && ipc.BeatsFrom(tcp) >= 3; }));
}

TEST(HeartbeatCreateTest, RefusesBadEndpointsAndOptions) {
  RecordingListener listener;
  auto create = [&](const std::string& endpoint, HeartbeatOptions options = TestOptions(),
                    HeartbeatListener* l = nullptr) {
    return Heartbeater::Create(endpoint, 1, std::move(options), l ? l : &listener, nullptr);
  };
  for (const char* endpoint : {"inproc://x", "udp://127.0.0.1:5", "tcp://*:7000",
                               "tcp://127.0.0.1", "ipc://", "ipc://*", "nonsense", ""}) {
    EXPECT_THAT(create(endpoint), StatusIs(absl::StatusCode::kInvalidArgument)) << endpoint;
  }
  // 105 bytes: a valid ipc path, but not once ".hb" is added.
  EXPECT_THAT(create("ipc:///tmp/" + std::string(100, 'p')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too long")));
  EXPECT_THAT(Heartbeater::Create("tcp://127.0.0.1:7000", 1, TestOptions(), nullptr, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(create("tcp://127.0.0.1:7000",
                     {.interval = absl::Milliseconds(100), .timeout = absl::Milliseconds(100)}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(create("tcp://127.0.0.1:7000", {.interval = absl::ZeroDuration()}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A documentation address (TEST-NET-1) is on no interface here.
  EXPECT_THAT(create("tcp://192.0.2.1:7000"), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(HeartbeatCreateTest, BindsIpv6Loopback) {
  RecordingListener listener;
  absl::StatusOr<std::unique_ptr<Heartbeater>> hb =
      Heartbeater::Create("tcp://[::1]:7000", 1, TestOptions(), &listener, nullptr);
  if (!hb.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << hb.status();
  EXPECT_THAT((*hb)->address(), StartsWith("udp://[::1]:"));
}

TEST(HeartbeatWatchTest, MalformedAddressesAreInvalidArgument) {
  RecordingListener listener;
  absl::StatusOr<std::unique_ptr<Heartbeater>> hb =
      Heartbeater::Create("tcp://127.0.0.1:7000", 1, TestOptions(), &listener, nullptr);
  ASSERT_THAT(hb, IsOk());
  const std::string key(internal::kHeartbeatKeyBytes, 'k');
  for (const char* address :
       {"", "tcp://127.0.0.1:5", "udp://localhost:5", "udp://127.0.0.1", "udp://127.0.0.1:",
        "udp://127.0.0.1:0", "udp://127.0.0.1:65536", "udp://127.0.0.1:5x", "udp://::1:5",
        "udp://[::1:5", "udp://[::1]5", "udp://[::1]:", "udp://300.1.1.1:5", "unixgram://",
        "unixgram://@"}) {
    EXPECT_THAT((*hb)->Watch("tcp://127.0.0.2:7000", 1, address, key),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << address;
  }
  EXPECT_THAT(
      (*hb)->Watch("tcp://127.0.0.2:7000", 1, "unixgram://" + std::string(108, 'p'), key),
      StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*hb)->Watch("", 1, "udp://127.0.0.1:5", key),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A peer's key is 32 bytes: none (an older node's Hello) or a short one
  // is refused, so such a peer is not watched at all.
  for (const std::string& bad : {std::string(), std::string(31, 'k'), std::string(33, 'k')}) {
    EXPECT_THAT((*hb)->Watch("tcp://127.0.0.2:7000", 1, "udp://127.0.0.1:5", bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("heartbeat key")))
        << bad.size();
  }
  EXPECT_EQ((*hb)->Stats("tcp://127.0.0.2:7000"), std::nullopt);

  for (const char* address : {"udp://127.0.0.1:5", "udp://[::1]:5", "udp://[fe80::1]:65535",
                              "unixgram:///tmp/x.hb", "unixgram://@abstract.hb"}) {
    EXPECT_THAT((*hb)->Watch("tcp://127.0.0.2:7000", 1, address, key), IsOk()) << address;
    absl::StatusOr<internal::DatagramAddress> parsed = internal::ParseDatagramAddress(address);
    ASSERT_THAT(parsed, IsOk());
    EXPECT_EQ(internal::FormatDatagramAddress(*parsed), address);
  }
}

}  // namespace
}  // namespace polis::bus
