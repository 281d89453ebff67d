// tests/hostile_bus_test.cc — bad input on the wire never hurts a node or
// its other users.
//
// HundredThousandBadFrames: a real `polis node` (tcp) serving a counter and
// an echo server; four raw ZeroMQ DEALERs send it 100,000 random and
// mutated frames (random bytes, truncated and oversized lengths, bad magic,
// version and flags, batches with a bad tail, valid frames whose envelope
// bodies are random bytes, huge varints, wrong wire types, bogus kinds,
// system types and type strings, multipart messages) while a client node
// keeps calling the counter. Asserts: every good call answered (and the
// counter holds exactly their sum: no mutated frame reached it), the node
// still answers `polis nodes`, stops cleanly (no crash), and its RSS stays
// under a bound; prints start/peak/end RSS and the counts.
//
// Deterministic: each DEALER draws from its own seeded RNG. Sized by
// POLIS_HOSTILE_FRAMES (default 100,000; 20,000 under AddressSanitizer).
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/counter.h"
#include "examples/examples.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "polis/envelope.pb.h"
#include "tests/node_fixtures.h"
#include "tests/node_process.h"
#include "tests/raw_client.h"
#include "tests/status_matchers.h"
#include "zmq.hpp"

namespace polis {
namespace {

using ::polis::examples::CounterAdd;
using ::polis::examples::CounterGet;
using ::polis::examples::CounterReply;
using ::polis::testing::IsOk;
using ::polis::testing::NodeProcess;
using ::polis::testing::Polis;
using ::polis::testing::ClientHelloFrame;
using ::polis::testing::ProcStatusBytes;
using ::polis::testing::StartJoinedNode;

#if defined(__SANITIZE_ADDRESS__)
constexpr int kDefaultFrames = 20'000;
#else
constexpr int kDefaultFrames = 100'000;
#endif
constexpr int kDealers = 4;

int Frames() {
  const char* env = std::getenv("POLIS_HOSTILE_FRAMES");
  return env != nullptr ? std::atoi(env) : kDefaultFrames;
}

// Builds hostile messages (each a list of ZeroMQ message parts).
class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  std::vector<std::string> Next() {
    switch (Pick(12)) {
      case 0:  // Random bytes.
        return {Bytes(Pick(200))};
      case 1: {  // A header whose length disagrees with the body.
        std::string body = Bytes(Pick(64));
        return {Header(1, 0, static_cast<uint32_t>(body.size() + 1 + Pick(100000))) + body};
      }
      case 2: {  // Bad magic.
        std::string f = Frame(RandomEnvelope());
        f[Pick(2)] ^= static_cast<char>(1 + Pick(255));
        return {f};
      }
      case 3: {  // Unknown wire version.
        std::string f = Frame(RandomEnvelope());
        f[2] = static_cast<char>(2 + Pick(254));
        return {f};
      }
      case 4: {  // Random flags (kFlagFollowed on the last frame, unknown bits).
        std::string f = Frame(RandomEnvelope());
        f[3] = static_cast<char>(1 + Pick(255));
        return {f};
      }
      case 5:  // A good header around random bytes.
        return {Wrap(Bytes(Pick(300)))};
      case 6:  // A good header around a mutated envelope.
        return {Frame(RandomEnvelope())};
      case 7:  // Huge or overlong varints, wrong wire types.
        return {Wrap(BadProtobuf())};
      case 8: {  // Multipart.
        std::vector<std::string> parts;
        const int n = 2 + Pick(3);
        for (int i = 0; i < n; ++i) parts.push_back(Frame(RandomEnvelope()));
        return parts;
      }
      case 9: {  // A batch with a bad tail: followed frame, then junk.
        std::string f = Frame(RandomEnvelope());
        f[3] = 1;
        return {f + Bytes(Pick(40))};
      }
      case 10:  // Claims a huge body.
        return {Header(1, 0, 0xffffffffu - Pick(1000)) + Bytes(Pick(16))};
      default: {  // A truncated good frame.
        std::string f = Frame(RandomEnvelope());
        f.resize(Pick(static_cast<int>(f.size())));
        return {f};
      }
    }
  }

 private:
  int Pick(int n) { return n <= 0 ? 0 : static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  std::string Bytes(int n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng_());
    return s;
  }

  static std::string Header(uint8_t version, uint8_t flags, uint32_t n) {
    std::string h = {'P', 'L', static_cast<char>(version), static_cast<char>(flags)};
    for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    return h;
  }
  static std::string Wrap(const std::string& body) {
    return Header(1, 0, static_cast<uint32_t>(body.size())) + body;
  }
  static std::string Frame(const wire::Envelope& e) { return Wrap(e.SerializeAsString()); }

  std::string RandomType() {
    static const char* const kTypes[] = {
        "polis.wire.Hello",         "polis.wire.NamesChanged",     "polis.wire.Goodbye",
        "polis.wire.Members",       "polis.wire.DescribeRequest",  "polis.wire.NodeInfoRequest",
        "polis.wire.SpanQuery",     "polis.wire.MonitorRequest",   "polis.wire.DemonitorRequest",
        "polis.wire.ProcessDown",   "polis.wire.NodeDown",         "polis.wire.NameLost",
        "polis.wire.Heartbeat",     "polis.examples.EchoRequest",  "google.protobuf.StringValue",
        "",                         "no.such.Type"};
    if (Pick(4) == 0) return Bytes(Pick(80));  // Random type strings, invalid UTF-8 too.
    return kTypes[Pick(sizeof(kTypes) / sizeof(kTypes[0]))];
  }

  // An envelope with random fields; never addressed to "counter" (the good
  // client's server), so a mutated call cannot change its value.
  wire::Envelope RandomEnvelope() {
    wire::Envelope e;
    e.set_version(Pick(8) == 0 ? static_cast<uint32_t>(rng_()) : 1);
    e.set_kind(static_cast<wire::Kind>(Pick(8) == 0 ? static_cast<int>(rng_()) : Pick(8)));
    e.set_type(RandomType());
    if (Pick(2)) e.mutable_sender()->set_node(Pick(2) ? "raw" : Bytes(Pick(20)));
    if (Pick(2)) e.mutable_sender()->set_pid(rng_());
    if (Pick(2)) e.mutable_recipient()->set_name(Pick(2) ? "echo" : Bytes(Pick(20)));
    if (Pick(3) == 0) e.mutable_recipient()->set_pid(rng_());
    if (Pick(3) == 0) e.mutable_recipient()->set_node(Bytes(Pick(12)));
    e.set_payload(Pick(3) == 0 ? BadProtobuf() : Bytes(Pick(200)));
    if (Pick(4) == 0) e.set_trace_id(Bytes(Pick(24)));
    if (Pick(4) == 0) e.set_span_id(rng_());
    if (Pick(2)) e.set_ref(rng_());
    if (Pick(4) == 0) e.mutable_reply_to()->set_node(Bytes(Pick(20)));
    if (Pick(3) == 0) e.set_timeout_us(static_cast<int64_t>(rng_()));
    if (Pick(4) == 0) e.set_status_code(static_cast<int32_t>(rng_()));
    if (Pick(4) == 0) e.set_status_message(Bytes(Pick(60)));
    return e;
  }

  // Protobuf-shaped junk: fields with random numbers and wire types, 10-byte
  // and overlong varints, lengths past the end, groups never closed.
  std::string BadProtobuf() {
    std::string s;
    const int fields = 1 + Pick(8);
    for (int i = 0; i < fields; ++i) {
      const uint32_t tag = (static_cast<uint32_t>(1 + Pick(40)) << 3) | static_cast<uint32_t>(Pick(8));
      s.push_back(static_cast<char>((tag & 0x7f) | (tag > 0x7f ? 0x80 : 0)));
      if (tag > 0x7f) s.push_back(static_cast<char>(tag >> 7));
      switch (Pick(4)) {
        case 0:  // A huge varint (or an overlong one that never ends).
          s.append(static_cast<size_t>(9 + Pick(6)), static_cast<char>(0xff));
          if (Pick(2)) s.push_back(0x01);
          break;
        case 1:  // A length far past the end.
          s += "\xff\xff\xff\xff\x0f";
          break;
        case 2:  // A sane length and bytes.
          s.push_back(static_cast<char>(Pick(20)));
          s += Bytes(Pick(20));
          break;
        default:
          s += Bytes(Pick(9));
      }
    }
    return s;
  }

  std::mt19937_64 rng_;
};

TEST(HostileBusTest, HundredThousandBadFrames) {
  // Mutated envelopes carry invalid UTF-8 in string fields on purpose.
  google::protobuf::SetLogHandler(nullptr);
  auto node = NodeProcess::Start(
      {.name = "target", .listen = "tcp://127.0.0.1:*", .serve = {"counter", "echo"}});
  ASSERT_THAT(node, IsOk());
  NodeProcess& target = **node;
  auto client = StartJoinedNode({.name = "good-client", .seeds = {target.endpoint()}, .client = true});
  ASSERT_THAT(client, IsOk());
  ASSERT_THAT(testing::AwaitName(**client, "counter", absl::Seconds(15)), IsOk());

  const uint64_t rss_start = ProcStatusBytes(target.pid(), "VmRSS");
  const int frames = Frames();
  std::atomic<int> sent{0};
  std::atomic<int> dealers_done{0};
  std::atomic<int> answered{0};
  std::vector<std::thread> dealers;
  zmq::context_t ctx;
  for (int d = 0; d < kDealers; ++d) {
    dealers.emplace_back([&, d] {
      zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
      dealer.set(zmq::sockopt::linger, 0);
      dealer.set(zmq::sockopt::sndtimeo, 10'000);
      dealer.connect(target.endpoint());
      Mutator m(/*seed=*/1000 + d);
      for (int i = d; i < frames; i += kDealers) {
        std::vector<std::string> parts = m.Next();
        for (size_t p = 0; p < parts.size(); ++p) {
          const auto flags =
              p + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
          if (!dealer.send(zmq::buffer(parts[p]), flags)) return;  // Timed out: the node is stuck.
        }
        sent.fetch_add(1, std::memory_order_relaxed);
      }
      // Wait until the node has handled all of it: the answer to a client
      // Hello sent last (skipping replies to mutated calls that got through).
      dealer.set(zmq::sockopt::rcvtimeo, 30'000);
      const std::string hello = ClientHelloFrame(absl::StrCat("raw-", d));
      if (dealer.send(zmq::buffer(hello), zmq::send_flags::none)) {
        zmq::message_t m;
        while (dealer.recv(m, zmq::recv_flags::none)) {
          // The node handles a connection's messages in order: its answer
          // to the Hello means everything sent before it was handled.
          bool hello_answered = false;
          testing::ForEachEnvelope(
              m, [&](const wire::Envelope& e) { hello_answered |= testing::IsHelloAnswer(e); });
          if (hello_answered) {
            answered.fetch_add(1);
            break;
          }
        }
      }
      dealers_done.fetch_add(1);
    });
  }

  // The good client calls the counter all along; every call must succeed.
  int good = 0, failed = 0;
  uint64_t rss_peak = rss_start;
  const absl::Time start = absl::Now();
  while (dealers_done.load() < kDealers || good < 20) {
    absl::StatusOr<CounterReply> r = (*client)->Call<CounterReply>("counter", CounterAdd(1));
    if (r.ok()) {
      ++good;
    } else {
      ++failed;
      ADD_FAILURE() << "good call " << good + failed << " failed: " << r.status();
      if (failed > 5) break;
    }
    rss_peak = std::max(rss_peak, ProcStatusBytes(target.pid(), "VmRSS"));
  }
  for (std::thread& t : dealers) t.join();
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(sent.load(), frames) << "a DEALER could not send for 10 s";
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(answered.load(), kDealers) << "a DEALER's last Hello was not answered";

  // Exactly the good calls reached the counter.
  absl::StatusOr<CounterReply> total = (*client)->Call<CounterReply>("counter", CounterGet());
  ASSERT_THAT(total, IsOk());
  EXPECT_EQ(total->value(), good);

  // The node still answers introspection, and shows what it refused.
  testing::ProcessResult nodes = Polis({"nodes", "--json", "--seed=" + target.endpoint()});
  EXPECT_EQ(nodes.exit_code, 0) << nodes.Summary();
  EXPECT_NE(nodes.out.find("\"name\":\"target\""), std::string::npos) << nodes.out;
  // (A length over the limit in a small message is framing: the splitter
  // sees the length disagree with the message first.)
  for (const char* reason : {"framing", "version", "multipart", "undecodable", "unknown_kind"}) {
    EXPECT_NE(nodes.out.find(absl::StrCat("\"", reason, "\":")), std::string::npos)
        << reason << " not counted: " << nodes.out;
  }
  // Per peer: the raw DEALERs are strangers on loopback, known by address.
  EXPECT_NE(nodes.out.find("\"bad_input_by_peer\":{\"addr:127.0.0.1\":{\"framing\":"),
            std::string::npos)
      << nodes.out;
  std::printf("polis nodes --json: %s", nodes.out.c_str());

  const uint64_t rss_end = ProcStatusBytes(target.pid(), "VmRSS");
  rss_peak = std::max(rss_peak, rss_end);
  const std::string err = target.Stderr();
  size_t lines = 0;
  for (char c : err) lines += c == '\n';
  std::printf(
      "{\"figure\": \"hostile_frames\", \"frames\": %d, \"dealers\": %d, \"seconds\": %.2f, "
      "\"good_calls\": %d, \"rss_start_kib\": %llu, \"rss_peak_kib\": %llu, "
      "\"rss_end_kib\": %llu, \"stderr_lines\": %zu, \"stderr_bytes\": %zu}\n",
      frames, kDealers, absl::ToDoubleSeconds(took), good,
      static_cast<unsigned long long>(rss_start / 1024),
      static_cast<unsigned long long>(rss_peak / 1024),
      static_cast<unsigned long long>(rss_end / 1024), lines, err.size());
  EXPECT_LT(rss_peak, rss_start + 256ull * 1024 * 1024) << "RSS grew past 256 MiB over the start";
  // Logging is rate-limited: far fewer lines than bad frames.
  EXPECT_LT(lines, 2000u) << err.substr(0, 2000);

  client->reset();
  EXPECT_THAT(target.Stop(), IsOk()) << "the node did not survive: " << target.Stderr().substr(0, 4000);
}

}  // namespace
}  // namespace polis
