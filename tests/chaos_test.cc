// Chaos: five `polis node` processes, each serving counter_<node>, and a node
// in this test process whose caller threads add to the counters (calls: an
// OK reply is an acknowledged write; casts: accepted, not acknowledged)
// while, one at a time, a random node is killed (SIGKILL, then restarted
// under the same name and endpoint, seeded by all the others) or frozen for
// 1-6 s (SIGSTOP, SIGCONT).
//
// After the faults stop, what users would check:
//   * every call ended within its timeout (plus scheduling slack) with a
//     documented code: OK, UNAVAILABLE, NOT_FOUND or DEADLINE_EXCEEDED;
//   * every caller thread calls every counter successfully again (a
//     long-lived thread must reach a node restarted at the same endpoint);
//   * every counter is callable from every node (`polis call --seed=NODE`);
//   * no acknowledged write was lost: a counter's final value is at least
//     the sum of its acknowledged adds and at most that plus the adds whose
//     fate is unknown (DEADLINE_EXCEEDED, UNAVAILABLE, accepted casts). A
//     killed node's counter restarts from 0, so only the adds since its
//     last restart count (those that straddle the restart are unknown).
//
// Deterministic schedule for a given seed: POLIS_CHAOS_SEED=N reruns one
// (the seed is printed); POLIS_CHAOS_SECONDS sets the fault phase (default
// 20). The JSON summary line starts {"chaos":...}.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "examples/counter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/node_process.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis::testing {
namespace {

using examples::CounterAdd;
using examples::CounterGet;
using examples::CounterReply;

constexpr int kNodes = 5;
constexpr int kCallers = 4;
constexpr absl::Duration kCallTimeout = absl::Milliseconds(1500);
// A call may end this much after its timeout: the machine is shared and the
// caller's thread must be scheduled to see its answer.
constexpr absl::Duration kSlack = absl::Seconds(1);
// Between two operations of one caller (pacing, so the callers do not
// starve the nodes of the CPU and cause false failure verdicts).
constexpr absl::Duration kPace = absl::Milliseconds(4);

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// One add, as the caller saw it.
struct Op {
  int target;
  int64_t amount;
  bool call;  // A call (else a cast).
  absl::StatusCode code;
  absl::Time start, end;
  std::string message;  // The error's, if any.
};

enum class Fate { kApplied, kNotApplied, kUnknown };

// What `op` tells about the counter: a call answered OK was applied; one
// that failed NOT_FOUND never reached a server; any other end, and every
// accepted cast, may or may not have been applied.
Fate FateOf(const Op& op) {
  if (op.code == absl::StatusCode::kNotFound) return Fate::kNotApplied;
  if (op.call && op.code == absl::StatusCode::kOk) return Fate::kApplied;
  return Fate::kUnknown;
}

std::string Name(int i) { return absl::StrCat("n", i); }
std::string Counter(int i) { return absl::StrCat("counter_n", i); }

class ChaosTest : public ::testing::Test {
 protected:
  // Starts node i (again), on `listen`, seeded by every other running node.
  absl::Status StartNode(int i, const std::string& listen) {
    std::vector<std::string> seeds;
    for (int j = 0; j < kNodes; ++j) {
      if (j != i && nodes_[j] != nullptr && nodes_[j]->running()) {
        seeds.push_back(nodes_[j]->endpoint());
      }
    }
    absl::StatusOr<std::unique_ptr<NodeProcess>> n =
        NodeProcess::Start({.name = Name(i),
                            .listen = listen,
                            .seeds = seeds,
                            .serve = {absl::StrCat("counter:", Counter(i))},
                            .threads = 1});
    if (!n.ok()) return n.status();
    nodes_[i] = *std::move(n);
    return absl::OkStatus();
  }

  void TearDown() override {
    if (client_ != nullptr) client_->Shutdown();
    for (auto& n : nodes_) n.reset();
  }

  std::unique_ptr<NodeProcess> nodes_[kNodes];
  std::unique_ptr<Node> client_;
};

TEST_F(ChaosTest, NoAcknowledgedWriteIsLostAndEveryNameComesBackAfterKillsAndFreezes) {
  const uint64_t seed = EnvOr("POLIS_CHAOS_SEED", std::random_device{}());
  const absl::Duration fault_phase = absl::Seconds(EnvOr("POLIS_CHAOS_SECONDS", 20));
  std::cout << "chaos seed " << seed << " (rerun: POLIS_CHAOS_SEED=" << seed << ")" << std::endl;
  std::mt19937_64 rng(seed);

  for (int i = 0; i < kNodes; ++i) ASSERT_THAT(StartNode(i, "tcp://127.0.0.1:*"), IsOk());
  std::vector<std::string> endpoints;
  for (const auto& n : nodes_) endpoints.push_back(n->endpoint());
  absl::StatusOr<std::unique_ptr<Node>> client = Node::Create({.name = "chaos-client",
                                                               .scheduler_threads = 1,
                                                               .listen = "tcp://127.0.0.1:*",
                                                               .seeds = endpoints});
  ASSERT_THAT(client, IsOk());
  client_ = *std::move(client);
  ASSERT_THAT(client_->Join(absl::Seconds(10)), IsOk());
  for (int i = 0; i < kNodes; ++i) {
    ASSERT_THAT(client_->AwaitName(Counter(i), absl::Seconds(10)), IsOk());
  }

  // --- Load ---
  absl::Mutex mu;
  std::vector<Op> ops;  // Guarded by mu.
  absl::Notification stop;
  // Once the faults are over: which caller thread has had an OK call to
  // which counter since (long-lived threads must reach every node again).
  std::atomic<int64_t> quiet_since_ns{std::numeric_limits<int64_t>::max()};
  std::atomic<bool> ok_after[kCallers][kNodes] = {};
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      std::mt19937_64 r(seed * 31 + c);
      std::vector<Op> mine;
      while (!stop.HasBeenNotified()) {
        Op op{.target = static_cast<int>(r() % kNodes),
              .amount = static_cast<int64_t>(1 + r() % 5),
              .call = r() % 5 != 0};
        op.start = absl::Now();
        if (op.call) {
          absl::Status s = client_->Call<CounterReply>(Counter(op.target),
                                                       CounterAdd(op.amount), kCallTimeout)
                               .status();
          op.code = s.code();
          op.message = std::string(s.message());
        } else {
          absl::Status s = client_->Cast(Counter(op.target), CounterAdd(op.amount));
          op.code = s.code();
          op.message = std::string(s.message());
        }
        op.end = absl::Now();
        if (op.call && op.code == absl::StatusCode::kOk &&
            absl::ToUnixNanos(op.start) >= quiet_since_ns.load()) {
          ok_after[c][op.target].store(true);
        }
        mine.push_back(std::move(op));
        stop.WaitForNotificationWithTimeout(kPace);
      }
      absl::MutexLock lock(&mu);
      ops.insert(ops.end(), mine.begin(), mine.end());
    });
  }

  // --- Faults, one at a time ---
  absl::Time killed_at[kNodes], restarted_at[kNodes];
  bool killed[kNodes] = {};
  int kills = 0, freezes = 0;
  std::string log;
  const absl::Time faults_end = absl::Now() + fault_phase;
  while (absl::Now() < faults_end) {
    // The fault schedule (not a wait for something): a random gap.
    absl::SleepFor(absl::Milliseconds(300 + rng() % 1200));
    const int j = static_cast<int>(rng() % kNodes);
    if (rng() % 3 == 0) {
      const std::string endpoint = nodes_[j]->endpoint();
      killed_at[j] = absl::Now();
      nodes_[j]->Kill();
      // Same name and endpoint (the others' seeds stay valid).
      ASSERT_THAT(StartNode(j, endpoint), IsOk()) << "restarting " << Name(j);
      restarted_at[j] = absl::Now();
      killed[j] = true;
      ++kills;
      absl::StrAppend(&log, " kill:", Name(j));
    } else {
      const absl::Duration frozen = absl::Milliseconds(1000 + rng() % 5000);
      ASSERT_THAT(nodes_[j]->Pause(), IsOk());
      absl::SleepFor(frozen);  // The fault itself lasts this long.
      ASSERT_THAT(nodes_[j]->Resume(), IsOk());
      ++freezes;
      absl::StrAppend(&log, " freeze:", Name(j), ":", absl::ToInt64Milliseconds(frozen), "ms");
    }
    // Back in the client's view before the next fault (one at a time).
    EXPECT_THAT(client_->AwaitName(Counter(j), absl::Seconds(15)), IsOk())
        << Counter(j) << " did not come back after" << log;
  }
  std::cout << "faults:" << log << std::endl;
  // Every caller thread calls every counter successfully again.
  quiet_since_ns.store(absl::ToUnixNanos(absl::Now()));
  auto every_pair = [&] {
    for (int c = 0; c < kCallers; ++c) {
      for (int i = 0; i < kNodes; ++i) {
        if (!ok_after[c][i].load()) return false;
      }
    }
    return true;
  };
  const bool recovered = WaitFor(every_pair, absl::Seconds(15));
  std::string missing;
  for (int c = 0; c < kCallers; ++c) {
    for (int i = 0; i < kNodes; ++i) {
      if (!ok_after[c][i].load()) absl::StrAppend(&missing, " caller", c, "->", Counter(i));
    }
  }
  EXPECT_TRUE(recovered) << "no OK call since the faults ended:" << missing;
  stop.Notify();
  for (std::thread& t : callers) t.join();

  // --- Quiet: every counter callable from every node ---
  for (int from = 0; from < kNodes; ++from) {
    for (int i = 0; i < kNodes; ++i) {
      ProcessResult r = RetryUntil(
          [&] {
            return Polis({"call", "--seed=" + nodes_[from]->endpoint(), "--timeout=3s",
                          Counter(i), R"({"get": {}})"});
          },
          [](const ProcessResult& r) { return r.exit_code == 0; }, absl::Seconds(20));
      EXPECT_EQ(r.exit_code, 0) << Counter(i) << " from " << Name(from) << ": " << r.Summary();
    }
  }

  // --- Acknowledged writes ---
  std::map<std::string, int> call_codes, cast_codes;
  absl::Duration worst = absl::ZeroDuration();
  for (const Op& op : ops) {
    const std::string code = absl::StatusCodeToString(op.code);
    ++(op.call ? call_codes : cast_codes)[code];
    if (op.call) {
      worst = std::max(worst, op.end - op.start);
      EXPECT_LE(op.end - op.start, kCallTimeout + kSlack) << "a call to " << Counter(op.target)
                                                          << " ended " << code;
      EXPECT_THAT(op.code, ::testing::AnyOf(absl::StatusCode::kOk, absl::StatusCode::kUnavailable,
                                            absl::StatusCode::kNotFound,
                                            absl::StatusCode::kDeadlineExceeded))
          << "call to " << Counter(op.target) << ": undocumented code " << code;
    } else {
      EXPECT_THAT(op.code, ::testing::AnyOf(absl::StatusCode::kOk, absl::StatusCode::kUnavailable,
                                            absl::StatusCode::kNotFound))
          << "cast to " << Counter(op.target) << ": undocumented code " << code;
    }
  }
  std::vector<std::string> counters_json;
  for (int i = 0; i < kNodes; ++i) {
    int64_t acked = 0, unknown = 0;
    for (const Op& op : ops) {
      if (op.target != i) continue;
      if (killed[i] && op.end < killed_at[i]) continue;  // Before the state was lost.
      const bool straddles = killed[i] && op.start < restarted_at[i];
      const Fate f = FateOf(op);
      if (straddles) {
        if (f != Fate::kNotApplied) unknown += op.amount;
      } else if (f == Fate::kApplied) {
        acked += op.amount;
      } else if (f == Fate::kUnknown) {
        unknown += op.amount;
      }
    }
    absl::StatusOr<CounterReply> v =
        RetryUntil([&] { return client_->Call<CounterReply>(Counter(i), CounterGet()); },
                   [](const absl::StatusOr<CounterReply>& v) { return v.ok(); });
    ASSERT_THAT(v, IsOk()) << Counter(i);
    EXPECT_GE(v->value(), acked) << Counter(i) << ": acknowledged adds lost"
                                 << (killed[i] ? " (since its last restart)" : "");
    EXPECT_LE(v->value(), acked + unknown) << Counter(i) << ": more than was ever added";
    counters_json.push_back(absl::StrFormat(
        R"({"name":"%s","killed":%s,"value":%d,"acked":%d,"unknown":%d})", Counter(i),
        killed[i] ? "true" : "false", v->value(), acked, unknown));
  }
  // How each restarted counter came back to the client: the first OK call
  // after its last restart, and the errors before it.
  for (int i = 0; i < kNodes; ++i) {
    if (!killed[i]) continue;
    absl::Time first_ok = absl::InfiniteFuture();
    std::map<std::string, int> before;
    for (const Op& op : ops) {
      if (op.target != i || !op.call || op.start < restarted_at[i]) continue;
      if (op.code == absl::StatusCode::kOk) {
        first_ok = std::min(first_ok, op.start);
      }
    }
    for (const Op& op : ops) {
      if (op.target == i && op.call && op.start >= restarted_at[i] && op.start < first_ok &&
          op.code != absl::StatusCode::kOk) {
        ++before[absl::StrCat(absl::StatusCodeToString(op.code), ": ", op.message)];
      }
    }
    std::cout << Counter(i) << ": first OK call " << first_ok - restarted_at[i]
              << " after its last restart; before it:";
    for (const auto& [m, n] : before) std::cout << "\n  " << n << " x " << m;
    std::cout << std::endl;
  }
  auto codes_json = [](const std::map<std::string, int>& m) {
    std::vector<std::string> parts;
    for (const auto& [code, n] : m) parts.push_back(absl::StrFormat(R"("%s":%d)", code, n));
    return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
  };
  std::cout << absl::StrFormat(
                   R"({"chaos":{"seed":%d,"fault_phase_s":%d,"kills":%d,"freezes":%d,)"
                   R"("calls":%s,"casts":%s,"max_call_ms":%d,"counters":[%s]}})",
                   seed, absl::ToInt64Seconds(fault_phase), kills, freezes,
                   codes_json(call_codes), codes_json(cast_codes),
                   absl::ToInt64Milliseconds(worst), absl::StrJoin(counters_json, ","))
            << std::endl;
}

}  // namespace
}  // namespace polis::testing
