// Forged heartbeats against real `polis node` processes on loopback tcp:
// nodes a and b (b seeded by a); a forger — this test, with a raw UDP
// socket — keeps sending a's heartbeat socket datagrams that claim to be
// b, while b is frozen (SIGSTOP) or killed (SIGKILL). a must still declare
// b down in about the normal detection time (failure_timeout, 800 ms) and
// count what it refused.
//
// What the forger sends, every poll of the wait:
//   * fresh beats with b's endpoint and incarnation and a seq above any b
//     sent: without a MAC, and with a MAC under a key of the forger's own
//     (a node of another cluster, or a guess);
//   * b's own genuine beats, signed with b's key, captured before the
//     freeze and sent again verbatim (replays). The test captures them
//     without sniffing: it greets b with a Hello of its own ("spy", no
//     keys on loopback), giving its UDP socket as heartbeat address, so b
//     signs and sends its beats there too. b sends one datagram per round
//     to every member, so a already accepted each captured seq: a replay
//     carries an old seq and is refused as such (not merely for its MAC).
//
// A frozen b keeps its TCP connections open: only heartbeats can tell a
// that it is gone, so that case shows the forgeries are worthless. A
// killed b is also seen through its dropped connection; that case shows
// forgeries do not delay it. Timing is printed ("FIGURE" lines) and
// asserted only against a sanity bound (kSanity).
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "bus/internal/datagram_socket.h"
#include "bus/internal/heartbeat_auth.h"
#include "examples/counter.h"
#include "examples/examples.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "polis/envelope.pb.h"
#include "tests/node_fixtures.h"
#include "tests/node_process.h"
#include "tests/raw_client.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"
#include "zmq.hpp"

namespace polis {
namespace {

using ::polis::examples::CounterAdd;
using ::polis::examples::CounterReply;
using ::polis::testing::IsOk;
using ::polis::testing::NodeProcess;
using ::polis::testing::Polis;
using ::polis::testing::ProcessResult;
using ::polis::testing::StartJoinedNode;
using ::polis::testing::WaitFor;

// Far above the design's detection time (800 ms); the figure is printed.
constexpr absl::Duration kSanity = absl::Seconds(5);
constexpr absl::Duration kConverge = absl::Seconds(15);

// `polis nodes --json` through `seed`, parsed; the entry of node `name`
// (null if absent) in *entry.
bool NodesEntry(const std::string& seed, const std::string& name,
                google::protobuf::Struct* entry, bool* found) {
  const ProcessResult r = Polis({"nodes", "--json", "--timeout=2s", "--seed=" + seed});
  google::protobuf::Struct out;
  if (!google::protobuf::util::JsonStringToMessage(r.out, &out).ok()) {
    ADD_FAILURE() << "polis nodes --json: " << r.Summary();
    return false;
  }
  *found = false;
  for (const auto& n : out.fields().at("nodes").list_value().values()) {
    const auto& fields = n.struct_value().fields();
    if (fields.at("name").string_value() != name) continue;
    *entry = n.struct_value();
    *found = true;
  }
  return true;
}

// A field of `s` by a dotted path ("heartbeat.ignored.replayed").
const google::protobuf::Value& Field(const google::protobuf::Struct& s, const std::string& path) {
  static const google::protobuf::Value kNull;
  const google::protobuf::Struct* at = &s;
  size_t from = 0;
  while (true) {
    const size_t dot = path.find('.', from);
    auto it = at->fields().find(path.substr(from, dot == std::string::npos ? dot : dot - from));
    if (it == at->fields().end()) return kNull;
    if (dot == std::string::npos) return it->second;
    at = &it->second.struct_value();
    from = dot + 1;
  }
}

std::string HelloFrame(const wire::Hello& hello) {
  wire::Envelope e;
  e.set_version(1);
  e.set_kind(wire::KIND_SYSTEM);
  e.set_type(wire::Hello::descriptor()->full_name());
  e.set_payload(hello.SerializeAsString());
  return testing::Frame(e);
}

class HeartbeatForgeryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = NodeProcess::Start({.name = "a", .listen = "tcp://127.0.0.1:*",
                                 .serve = {"counter:counter_a"}});
    ASSERT_THAT(a, IsOk());
    a_ = std::move(*a);
    auto b = NodeProcess::Start({.name = "b", .listen = "tcp://127.0.0.1:*",
                                 .seeds = {a_->endpoint()}, .serve = {"counter:counter_b"}});
    ASSERT_THAT(b, IsOk());
    b_ = std::move(*b);
    // A client of a: its view is a's (pushed on every change).
    auto client = StartJoinedNode({.name = "client-of-a", .seeds = {a_->endpoint()},
                                   .client = true});
    ASSERT_THAT(client, IsOk());
    client_ = std::move(*client);
    ASSERT_THAT(client_->AwaitName("counter_b", kConverge), IsOk());

    // a's heartbeat address, as `polis nodes --json` shows it.
    google::protobuf::Struct entry;
    bool found = false;
    ASSERT_TRUE(NodesEntry(a_->endpoint(), "a", &entry, &found));
    ASSERT_TRUE(found);
    const std::string address = Field(entry, "heartbeat.address").string_value();
    absl::StatusOr<bus::internal::DatagramAddress> to =
        bus::internal::ParseDatagramAddress(address);
    ASSERT_THAT(to, IsOk()) << "a's heartbeat address: \"" << address << "\"";
    a_heartbeat_ = *to;

    udp_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(udp_, 0);
    sockaddr_in self{};
    self.sin_family = AF_INET;
    self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(self);
    ASSERT_EQ(bind(udp_, reinterpret_cast<sockaddr*>(&self), sizeof(self)), 0);
    ASSERT_EQ(getsockname(udp_, reinterpret_cast<sockaddr*>(&self), &len), 0);
    udp_port_ = ntohs(self.sin_port);
  }

  void TearDown() override {
    client_.reset();
    if (b_ && b_->running()) b_->Kill();
    if (a_ && a_->running()) {
      EXPECT_THAT(a_->Stop(), IsOk());
    }
    if (udp_ >= 0) close(udp_);
  }

  // Greets b as a member "spy" whose heartbeats go to udp_, and keeps b's
  // first `n` signed beats to it. b's beats carry b's incarnation.
  void CaptureBeatsOfB(int n) {
    const std::string spy_endpoint = "tcp://127.0.0.1:1";  // nothing listens
    wire::Hello hello;
    hello.set_node("spy");
    hello.set_incarnation(4242);
    hello.set_wire_version(1);
    hello.set_endpoint(spy_endpoint);
    wire::NodeEntry* self = hello.mutable_self();
    self->set_node("spy");
    self->set_endpoint(spy_endpoint);
    self->set_incarnation(4242);
    self->set_names_version(1);
    self->set_started_unix_ns(absl::ToUnixNanos(absl::Now()));
    hello.set_heartbeat(absl::StrCat("udp://127.0.0.1:", udp_port_));
    hello.set_heartbeat_key(std::string(bus::internal::kHeartbeatKeyBytes, 's'));
    zmq::context_t ctx;
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(b_->endpoint());
    ASSERT_TRUE(dealer.send(zmq::buffer(HelloFrame(hello)), zmq::send_flags::none));

    const absl::Time deadline = absl::Now() + kConverge;
    char buffer[1024];
    while (static_cast<int>(captured_.size()) < n && absl::Now() < deadline) {
      pollfd p = {udp_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()))) <= 0)
        continue;
      const ssize_t got = recv(udp_, buffer, sizeof(buffer), 0);
      wire::Heartbeat beat;
      if (got <= 0 || !beat.ParseFromArray(buffer, static_cast<int>(got))) continue;
      if (beat.endpoint() != b_->endpoint()) continue;
      ASSERT_EQ(beat.mac().size(), bus::internal::kHeartbeatMacBytes) << "b's beats are signed";
      b_incarnation_ = beat.incarnation();
      max_seq_ = std::max<uint64_t>(max_seq_, beat.seq());
      captured_.emplace_back(buffer, static_cast<size_t>(got));
    }
    ASSERT_EQ(static_cast<int>(captured_.size()), n) << "b sent the spy no beats";
  }

  // One round of forgeries to a's heartbeat socket (see the top).
  void ForgeRound() {
    wire::Heartbeat beat;
    beat.set_endpoint(b_->endpoint());
    beat.set_incarnation(b_incarnation_);
    beat.set_seq(max_seq_ + 1'000'000 + (++forged_));
    beat.set_sent_unix_ns(absl::ToUnixNanos(absl::Now()));
    std::string bytes = beat.SerializeAsString();
    Send(bytes);  // no MAC
    bus::internal::AppendHeartbeatMac(forger_key_, &bytes);
    Send(bytes);  // the forger's own key
    for (const std::string& genuine : captured_) Send(genuine);  // replays
  }
  void Send(const std::string& bytes) {
    sendto(udp_, bytes.data(), bytes.size(), 0, a_heartbeat_.addr(), a_heartbeat_.length);
  }

  // Waits, forging all the while, until a's view (through its client) no
  // longer has counter_b; returns how long that took from `since`.
  absl::Duration ForgeUntilBGone(absl::Time since) {
    const bool gone = WaitFor(
        [&] {
          ForgeRound();
          return !client_->WhereIs("counter_b").ok();
        },
        kSanity * 2);
    return gone ? absl::Now() - since : absl::InfiniteDuration();
  }

  // a's counters and b's state as `polis nodes --json` shows them. Beats
  // forged while a watched b are refused as unauthenticated or replayed;
  // once b is down a no longer watches it, and later ones count as
  // unwatched. `while_watched`: some rounds surely came before b was down
  // (a freeze takes ~800 ms to notice; a kill may be seen at once).
  void ExpectRefusedCountedAndBDown(bool while_watched) {
    google::protobuf::Struct a_entry, b_entry;
    bool a_found = false, b_found = false;
    ASSERT_TRUE(NodesEntry(a_->endpoint(), "a", &a_entry, &a_found));
    ASSERT_TRUE(a_found);
    const double unauthenticated =
        Field(a_entry, "heartbeat.ignored.unauthenticated").number_value();
    const double replayed = Field(a_entry, "heartbeat.ignored.replayed").number_value();
    const double unwatched = Field(a_entry, "heartbeat.ignored.unwatched").number_value();
    std::printf("a refused %.0f unauthenticated, %.0f replayed and %.0f unwatched beats "
                "(%d forging rounds of %zu datagrams)\n",
                unauthenticated, replayed, unwatched, forged_, 2 + captured_.size());
    EXPECT_GT(unauthenticated + replayed + unwatched, 0.0);
    if (while_watched) {
      EXPECT_GE(unauthenticated, 2.0);  // no MAC, and the forger's key
      EXPECT_GE(replayed, 1.0);         // b's own beats again
    }
    ASSERT_TRUE(NodesEntry(a_->endpoint(), "b", &b_entry, &b_found));
    if (b_found) {
      EXPECT_EQ(Field(b_entry, "state").string_value(), "down");
    }
  }

  std::unique_ptr<NodeProcess> a_, b_;
  std::unique_ptr<Node> client_;
  bus::internal::DatagramAddress a_heartbeat_;
  int udp_ = -1;
  int udp_port_ = 0;
  std::vector<std::string> captured_;  // b's genuine signed beats
  uint64_t b_incarnation_ = 0;
  uint64_t max_seq_ = 0;
  int forged_ = 0;
  const bus::internal::HeartbeatKey forger_key_ = *bus::internal::NewHeartbeatKey();
};

TEST_F(HeartbeatForgeryTest, ForgedAndReplayedBeatsDoNotKeepAFrozenNodeAlive) {
  ASSERT_NO_FATAL_FAILURE(CaptureBeatsOfB(5));
  // A call to b that will be open when b is frozen: it must fail with
  // UNAVAILABLE once a declares b down, not wait for its timeout.
  ASSERT_THAT(b_->Pause(), IsOk());
  const absl::Time frozen_at = absl::Now();
  absl::StatusOr<CounterReply> held;
  absl::Notification held_done;
  std::thread caller([&] {
    held = client_->Call<CounterReply>("counter_b", CounterAdd(1), absl::Seconds(30));
    held_done.Notify();
  });
  const absl::Duration gone = ForgeUntilBGone(frozen_at);
  std::printf("FIGURE {\"figure\":\"detection_freeze_while_forged_ms\",\"p50\":%lld,\"n\":1}\n",
              static_cast<long long>(absl::ToInt64Milliseconds(gone)));
  EXPECT_LT(gone, kSanity) << "forged beats kept the frozen b alive";
  EXPECT_TRUE(held_done.WaitForNotificationWithTimeout(kSanity));
  caller.join();
  EXPECT_EQ(held.status().code(), absl::StatusCode::kUnavailable) << held.status();
  for (int i = 0; i < 20; ++i) ForgeRound();  // and b stays down
  ASSERT_NO_FATAL_FAILURE(ExpectRefusedCountedAndBDown(/*while_watched=*/true));
  EXPECT_FALSE(client_->WhereIs("counter_b").ok());
  ProcessResult r = Polis({"call", "--seed=" + a_->endpoint(), "--timeout=2s", "counter_b",
                           R"({"get": {}})"});
  EXPECT_NE(r.exit_code, 0) << r.Summary();
  ASSERT_THAT(b_->Resume(), IsOk());
}

TEST_F(HeartbeatForgeryTest, ForgedAndReplayedBeatsDoNotDelayAKilledNode) {
  ASSERT_NO_FATAL_FAILURE(CaptureBeatsOfB(5));
  const absl::Time killed_at = absl::Now();
  b_->Kill();
  const absl::Duration gone = ForgeUntilBGone(killed_at);
  std::printf("FIGURE {\"figure\":\"detection_kill_while_forged_ms\",\"p50\":%lld,\"n\":1}\n",
              static_cast<long long>(absl::ToInt64Milliseconds(gone)));
  EXPECT_LT(gone, kSanity) << "forged beats kept the killed b alive";
  for (int i = 0; i < 20; ++i) ForgeRound();
  ASSERT_NO_FATAL_FAILURE(ExpectRefusedCountedAndBDown(/*while_watched=*/false));
  absl::StatusOr<CounterReply> r =
      client_->Call<CounterReply>("counter_b", CounterAdd(1), absl::Seconds(2));
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace polis
