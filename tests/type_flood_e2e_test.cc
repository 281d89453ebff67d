// tests/type_flood_e2e_test.cc — 70,000 distinct junk type names from the
// wire leave a real node as it was.
//
// SeventyThousandJunkTypesLeaveTheNodeServing: a real `polis node` (tcp)
// serving `counter` and `echo`. Two raw ZeroMQ DEALERs send it, as fast as
// they can, 70,000 envelopes whose `type` strings are all distinct (1,000
// bytes of junk each): calls and casts, to echo and to counter, in two
// halves of 35,000. Every call is answered (echo returns the junk type and
// payload it got, counter INVALID_ARGUMENT). Then `polis call counter`
// answers right, `polis describe echo` works, and a server started after
// the flood (a kv child through the root supervisor's start_child) answers
// its own requests. Memory: a wire type name is never interned
// (node/message.h, FromWire), so the second half's 35 MB of new names must
// add less than 16 MiB to VmRSS (a backlog's memory, freed once handled, is
// reused; kept names would add up), and VmHWM stays under start + 128 MiB.
// Prints VmRSS before, after each half and at the end, and VmHWM.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "polis/envelope.pb.h"
#include "tests/node_process.h"
#include "tests/raw_client.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"
#include "zmq.hpp"

namespace polis {
namespace {

using ::polis::testing::Frame;
using ::polis::testing::IsOk;
using ::polis::testing::NodeProcess;
using ::polis::testing::Polis;
using ::polis::testing::ProcessResult;
using ::polis::testing::ProcStatusBytes;
using ::polis::testing::RawClient;

constexpr int kEnvelopes = 70'000;
constexpr int kDealers = 2;
constexpr uint64_t kMiB = 1024 * 1024;
// AddressSanitizer keeps freed memory in quarantine (256 MB): RSS then
// says nothing about what the node holds. The figures are still printed.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCheckRss = false;
#else
constexpr bool kCheckRss = true;
#endif
// 70 MB of names in all: kept, they would show in the node's RSS.
constexpr size_t kTypeBytes = 1000;

// The distinct junk type name of envelope `i`: kTypeBytes long.
std::string JunkType(int i) {
  std::string t = absl::StrCat("junk.T", i, ".");
  uint64_t x = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(i + 1);
  while (t.size() < kTypeBytes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    t.push_back(static_cast<char>('a' + x % 26));
  }
  return t;
}

// Envelope `i`: i % 4 picks call/cast and echo/counter.
wire::Envelope JunkEnvelope(int i) {
  wire::Envelope e;
  e.set_version(1);
  const bool call = i % 2 == 0;
  e.set_kind(call ? wire::KIND_CALL : wire::KIND_CAST);
  e.set_type(JunkType(i));
  e.mutable_sender()->set_node("raw");
  e.mutable_recipient()->set_name((i / 2) % 2 == 0 ? "echo" : "counter");
  e.set_payload(absl::StrCat("payload ", i));
  if (call) {
    e.set_ref(static_cast<uint64_t>(i) + 1);
    e.mutable_reply_to()->set_node("raw");  // Answered over this connection (its return path).
    e.set_timeout_us(30'000'000);
  }
  return e;
}

bool IsCall(int i) { return i % 2 == 0; }
bool ToEcho(int i) { return (i / 2) % 2 == 0; }

TEST(TypeFloodE2eTest, SeventyThousandJunkTypesLeaveTheNodeServing) {
  google::protobuf::SetLogHandler(nullptr);
  auto started = NodeProcess::Start(
      {.name = "target", .listen = "tcp://127.0.0.1:*", .serve = {"counter", "echo"}});
  ASSERT_THAT(started, IsOk());
  NodeProcess& node = **started;
  const std::string seed = "--seed=" + node.endpoint();
  // Warm up: the node has served one call (and its CLI connection) first.
  ProcessResult warm = Polis({"call", seed, "counter", R"({"get": {}})"});
  ASSERT_EQ(warm.exit_code, 0) << warm.Summary();

  const uint64_t rss_before = ProcStatusBytes(node.pid(), "VmRSS");
  std::atomic<int> sent{0}, synced{0};
  std::atomic<int> echo_ok{0}, counter_invalid{0}, wrong{0};
  auto on_reply = [&](const wire::Envelope& r) {
    const int i = static_cast<int>(r.ref()) - 1;
    if (r.kind() != wire::KIND_REPLY || i < 0 || i >= kEnvelopes || !IsCall(i)) {
      wrong.fetch_add(1);
    } else if (ToEcho(i)) {
      // Echo answers with the junk type and bytes it was sent.
      const bool same = r.status_code() == 0 && r.type() == JunkType(i) &&
                        r.payload() == absl::StrCat("payload ", i);
      (same ? echo_ok : wrong).fetch_add(1);
    } else {
      (r.status_code() == static_cast<int>(absl::StatusCode::kInvalidArgument) ? counter_invalid
                                                                               : wrong)
          .fetch_add(1);
    }
  };
  // Sends envelopes [from, to) from kDealers DEALERs, as fast as they go;
  // returns once the node has read them all and answered every call.
  zmq::context_t ctx;
  auto flood = [&](int from, int to) {
    std::vector<std::thread> dealers;
    for (int d = 0; d < kDealers; ++d) {
      dealers.emplace_back([&, d] {
        RawClient raw(ctx, node.endpoint());
        for (int i = from + d; i < to; i += kDealers) {
          if (!raw.Send(Frame(JunkEnvelope(i)))) return;  // The node stopped reading for 10 s.
          sent.fetch_add(1, std::memory_order_relaxed);
          if ((i - from) % 64 < kDealers) raw.Drain(on_reply);
        }
        if (!raw.Sync(absl::StrCat("raw-", d), on_reply)) return;
        synced.fetch_add(1);
        // The servers may still be answering calls read before the Hello.
        const absl::Time deadline = absl::Now() + absl::Seconds(30);
        while (echo_ok.load() + counter_invalid.load() + wrong.load() < to / 2 &&
               absl::Now() < deadline) {
          raw.WaitReply(on_reply, 20);
        }
      });
    }
    for (std::thread& t : dealers) t.join();
  };
  // In two halves: the second must not need memory of its own. Names kept
  // by the node would add up (35 MB a half); a backlog's memory, freed
  // when handled, is reused.
  const absl::Time start = absl::Now();
  flood(0, kEnvelopes / 2);
  const uint64_t rss_half = ProcStatusBytes(node.pid(), "VmRSS");
  flood(kEnvelopes / 2, kEnvelopes);
  const absl::Duration took = absl::Now() - start;
  const uint64_t rss_flooded = ProcStatusBytes(node.pid(), "VmRSS");
  ASSERT_EQ(sent.load(), kEnvelopes) << "a DEALER could not send for 10 s";
  ASSERT_EQ(synced.load(), 2 * kDealers) << "a DEALER's Hello was not answered";
  EXPECT_EQ(echo_ok.load(), kEnvelopes / 4) << "echo calls answered with their own junk type";
  EXPECT_EQ(counter_invalid.load(), kEnvelopes / 4) << "counter calls answered INVALID_ARGUMENT";
  EXPECT_EQ(wrong.load(), 0);

  // The node still serves: the CLI's call, describe, and a server started now.
  ProcessResult add = Polis({"call", seed, "counter", R"({"add": 5})"});
  EXPECT_EQ(add.exit_code, 0) << add.Summary();
  EXPECT_EQ(add.out, "{\"value\":\"5\"}\n") << "no junk envelope changed the counter";
  ProcessResult describe = Polis({"describe", "--json", seed, "echo"});
  EXPECT_EQ(describe.exit_code, 0) << describe.Summary();
  EXPECT_NE(describe.out.find("\"kind\":\"echo\""), std::string::npos) << describe.out;
  ProcessResult start_kv =
      Polis({"call", seed, "root@target",
             R"({"start_child": {"id": "late", "kind": "kv", "name": "late"}})"});
  EXPECT_EQ(start_kv.exit_code, 0) << start_kv.Summary();
  ProcessResult put = testing::RetryUntil(
      [&] {
        return Polis({"call", seed, "late", R"({"put": {"key": "k", "value": "v"}})"});
      },
      [](const ProcessResult& r) { return !testing::FailedWith(r, {"NOT_FOUND"}); });
  EXPECT_EQ(put.exit_code, 0) << put.Summary();
  ProcessResult get = Polis({"call", seed, "late", R"({"get": {"key": "k"}})"});
  EXPECT_EQ(get.exit_code, 0) << get.Summary();
  EXPECT_NE(get.out.find("\"value\":\"v\""), std::string::npos) << get.out;

  const uint64_t rss_after = ProcStatusBytes(node.pid(), "VmRSS");
  const uint64_t rss_peak = ProcStatusBytes(node.pid(), "VmHWM");
  const std::string err = node.Stderr();
  size_t lines = 0;
  for (char c : err) lines += c == '\n';
  std::printf(
      "{\"figure\": \"junk_types\", \"envelopes\": %d, \"type_bytes\": %zu, \"seconds\": %.2f, "
      "\"rss_before_kib\": %llu, \"rss_half_kib\": %llu, \"rss_flooded_kib\": %llu, "
      "\"rss_after_kib\": %llu, \"rss_peak_kib\": %llu, \"stderr_lines\": %zu}\n",
      kEnvelopes, JunkType(kEnvelopes - 1).size(), absl::ToDoubleSeconds(took),
      static_cast<unsigned long long>(rss_before / 1024),
      static_cast<unsigned long long>(rss_half / 1024),
      static_cast<unsigned long long>(rss_flooded / 1024),
      static_cast<unsigned long long>(rss_after / 1024),
      static_cast<unsigned long long>(rss_peak / 1024), lines);
  ASSERT_GT(rss_before, 0u);
  if (kCheckRss) {
    // Bounded: the first half's backlog (calls queued at echo and counter,
    // ~1 KB each) may show, never all the names at once...
    EXPECT_LT(rss_peak, rss_before + 128 * kMiB);
    // ...and the second half's 35,000 new names take no memory of their own:
    // kept, they would add at least their bytes (35 MB). What the second
    // half may add is the allocator keeping a backlog larger than the
    // first's (18 MiB seen on a loaded CI machine, when a 16 MiB bound
    // failed), so the bound is three quarters of the names' bytes.
    const uint64_t kept_names = uint64_t{kEnvelopes / 2} * kTypeBytes;
    EXPECT_LT(rss_flooded, rss_half + kept_names * 3 / 4) << "the junk type names stayed in memory";
    EXPECT_LT(rss_after, rss_half + kept_names * 3 / 4);
  }
  EXPECT_LT(lines, 2000u) << err.substr(0, 2000);
  EXPECT_THAT(node.Stop(), IsOk()) << node.Stderr().substr(0, 4000);
}

}  // namespace
}  // namespace polis
