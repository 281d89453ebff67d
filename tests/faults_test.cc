// Faults with real `polis node` processes on loopback tcp: a node killed
// (SIGKILL) or frozen (SIGSTOP) under the load of 100 concurrent callers, a
// node started before its seed, two nodes starting at once with one name, a
// Hello that lists 20,000 phantom nodes, and a flood of large casts that
// must not make its receiver look dead. Plus the figures: how long the
// cluster takes to notice a kill and a freeze.
//
// Timing is measured and printed (one JSON line per figure, prefixed
// "FIGURE "), never asserted tightly: the bounds asserted are sanity bounds
// (kSanity) far above the design figures (a dropped connection is noticed at
// once, a silent node after NodeOptions::failure_timeout, 800 ms).
//
// The 10-iteration figures run is DISABLED_ in CI (about 15 s); run it
// with
//   build/tests/faults_test --gtest_also_run_disabled_tests --gtest_filter='*DetectionFigures*'
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "examples/counter.h"
#include "examples/echo.h"
#include "examples/examples.pb.h"
#include "genserver/genserver.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "polis/envelope.pb.h"
#include "tests/node_fixtures.h"
#include "tests/node_process.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"
#include "zmq.hpp"

namespace polis {
namespace {

using ::polis::examples::CounterAdd;
using ::polis::examples::CounterGet;
using ::polis::examples::CounterReply;
using ::polis::testing::FailedWith;
using ::polis::testing::IsOk;
using ::polis::testing::NodeProcess;
using ::polis::testing::NodeProcessOptions;
using ::polis::testing::Polis;
using ::polis::testing::ProcessResult;
using ::polis::testing::RetryUntil;
using ::polis::testing::ScratchDir;
using ::polis::testing::StartJoinedNode;
using ::polis::testing::WaitFor;

// Sanity bound for anything the design says takes about a second.
constexpr absl::Duration kSanity = absl::Seconds(5);
// How long gossip, a restart or a rejoin may take before a test fails.
constexpr absl::Duration kConverge = absl::Seconds(15);
// The callers' timeout under load.
constexpr absl::Duration kCallTimeout = absl::Seconds(2);
// A call returns within its timeout; this much more is scheduling noise on
// a loaded 2-core machine, not a hang.
constexpr absl::Duration kReturnSlack = absl::Seconds(1);

int64_t Ms(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

// One JSON line per figure, easy to grep from the test log.
void PrintFigure(const std::string& figure, std::vector<absl::Duration> samples) {
  if (samples.empty()) return;
  std::sort(samples.begin(), samples.end());
  std::printf("FIGURE {\"figure\":\"%s\",\"p50\":%lld,\"max\":%lld,\"n\":%zu}\n", figure.c_str(),
              static_cast<long long>(Ms(samples[(samples.size() - 1) / 2])),
              static_cast<long long>(Ms(samples.back())), samples.size());
  std::fflush(stdout);
}

// A loopback port nothing listens on at the moment (bound, read back, closed).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "cannot find a free port";
    if (fd >= 0) close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string Loopback(int port) { return absl::StrCat("tcp://127.0.0.1:", port); }

// --- Load: concurrent callers in a loop ------------------------------------

struct CallRecord {
  int target = 0;  // Index into Load's targets.
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string message;  // The failed call's status message ("" when OK).
  absl::Time start;
  absl::Time end;
};

// `callers` plain threads each calling the counters `targets` in turn
// (add 1, timeout kCallTimeout) until Stop. Every call is recorded.
class Load {
 public:
  Load(Node* client, std::vector<std::string> targets, int callers)
      : client_(client), targets_(std::move(targets)), callers_(callers) {
    for (size_t i = 0; i < targets_.size(); ++i) {
      enabled_.push_back(std::make_unique<std::atomic<bool>>(true));
      in_flight_.push_back(std::make_unique<std::atomic<int>>(0));
      ok_.push_back(std::make_unique<std::atomic<int64_t>>(0));
    }
  }
  ~Load() { Stop(); }

  void Start() {
    for (int i = 0; i < callers_; ++i) threads_.emplace_back([this, i] { Run(i); });
  }
  // Joins every caller: each returns within its call's timeout.
  void Stop() {
    stop_.store(true);
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }
  // No new calls to target `t` (calls in flight finish).
  void Disable(int t) { enabled_[t]->store(false); }
  int InFlight(int t) const { return in_flight_[t]->load(); }
  int64_t Ok(int t) const { return ok_[t]->load(); }
  // Every call made, after Stop.
  std::vector<CallRecord> Records() {
    absl::MutexLock lock(&mu_);
    return records_;
  }
  const std::string& target(int t) const { return targets_[t]; }

 private:
  void Run(int caller) {
    std::vector<CallRecord> mine;
    const int n = static_cast<int>(targets_.size());
    for (int k = caller; !stop_.load(); ++k) {
      const int t = k % n;
      if (!enabled_[t]->load()) {
        // Every target disabled: wait for Stop without spinning a core.
        bool any = false;
        for (int j = 0; j < n; ++j) any = any || enabled_[j]->load();
        if (!any) WaitFor([&] { return stop_.load(); }, absl::InfiniteDuration());
        continue;
      }
      CallRecord r;
      r.target = t;
      in_flight_[t]->fetch_add(1);
      r.start = absl::Now();
      absl::StatusOr<CounterReply> reply =
          client_->Call<CounterReply>(targets_[t], CounterAdd(1), kCallTimeout);
      r.end = absl::Now();
      in_flight_[t]->fetch_sub(1);
      r.code = reply.status().code();
      if (!reply.ok()) r.message = std::string(reply.status().message());
      if (reply.ok()) ok_[t]->fetch_add(1);
      mine.push_back(r);
      // A caller that failed at once (NOT_FOUND) tries again a little later,
      // as a user's loop would; not to spin a core of a 2-core machine.
      if (!reply.ok()) absl::SleepFor(absl::Milliseconds(1));
    }
    absl::MutexLock lock(&mu_);
    records_.insert(records_.end(), mine.begin(), mine.end());
  }

  Node* const client_;
  const std::vector<std::string> targets_;
  const int callers_;
  std::vector<std::unique_ptr<std::atomic<bool>>> enabled_;
  std::vector<std::unique_ptr<std::atomic<int>>> in_flight_;
  std::vector<std::unique_ptr<std::atomic<int64_t>>> ok_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  absl::Mutex mu_;
  std::vector<CallRecord> records_ ABSL_GUARDED_BY(mu_);
};

// "UNAVAILABLE: node "c" is down: ..." — what call `r` got.
std::string Describe(const CallRecord& r) {
  if (r.code == absl::StatusCode::kOk) return "OK";
  return absl::StrCat(absl::StatusCodeToString(r.code), ": \"", r.message, "\"");
}

// "OK: 812, UNAVAILABLE: 3" for the calls to target `t`.
std::string Codes(const std::vector<CallRecord>& records, int t) {
  std::map<std::string, int> n;
  for (const CallRecord& r : records)
    if (r.target == t) ++n[absl::StatusCodeToString(r.code)];
  return absl::StrJoin(n, ", ", absl::PairFormatter(": "));
}

// --- The fixture --------------------------------------------------------------

class FaultsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    clients_.clear();
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
      auto p = procs_.find(*it);
      if (p != procs_.end() && p->second->running()) (void)p->second->Stop();
    }
  }

  // Starts `polis node` `name` (replacing a stopped one of that name).
  void StartNode(const std::string& name, std::vector<std::string> seeds,
                 std::vector<std::string> serve, std::string listen = "tcp://127.0.0.1:*") {
    NodeProcessOptions o;
    o.name = name;
    o.listen = std::move(listen);
    o.seeds = std::move(seeds);
    o.serve = std::move(serve);
    auto p = NodeProcess::Start(o);
    ASSERT_THAT(p, IsOk());
    procs_[name] = std::move(*p);
    started_.push_back(name);
  }
  NodeProcess& proc(const std::string& name) { return *procs_.at(name); }

  // A client node in this process seeded by node `seed` only: its view is
  // that node's view (pushed to it on every change).
  Node* StartClient(const std::string& seed) {
    auto n = StartJoinedNode({.name = absl::StrCat("client-of-", seed, "-", clients_.size()),
                              .seeds = {proc(seed).endpoint()},
                              .client = true});
    EXPECT_THAT(n, IsOk());
    if (!n.ok()) return nullptr;
    clients_.push_back(std::move(*n));
    return clients_.back().get();
  }

  // a, b, c (b and c seeded by a) serving counter_a/b/c; client_a sees a's
  // view, client_b b's, and both know every counter.
  void StartCluster() {
    ASSERT_NO_FATAL_FAILURE(StartNode("a", {}, {"counter:counter_a"}));
    ASSERT_NO_FATAL_FAILURE(StartNode("b", {proc("a").endpoint()}, {"counter:counter_b"}));
    ASSERT_NO_FATAL_FAILURE(StartNode("c", {proc("a").endpoint()}, {"counter:counter_c"}));
    client_a_ = StartClient("a");
    ASSERT_NE(client_a_, nullptr);
    client_b_ = StartClient("b");
    ASSERT_NE(client_b_, nullptr);
    for (Node* n : {client_a_, client_b_})
      for (const char* name : {"counter_a", "counter_b", "counter_c"})
        ASSERT_THAT(n->AwaitName(name, kConverge), IsOk()) << n->name() << " " << name;
  }

  // Polls the views of `clients` together until none resolves `name`;
  // returns when each first stopped resolving it, measured from `since`
  // (kSanity * 2 for one that never did).
  static std::vector<absl::Duration> TimeUntilGone(const std::vector<Node*>& clients,
                                                   const std::string& name, absl::Time since) {
    std::vector<absl::Duration> gone(clients.size(), absl::InfiniteDuration());
    WaitFor(
        [&] {
          bool all = true;
          for (size_t i = 0; i < clients.size(); ++i) {
            if (gone[i] != absl::InfiniteDuration()) continue;
            if (clients[i]->WhereIs(name).ok()) {
              all = false;
            } else {
              gone[i] = absl::Now() - since;
            }
          }
          return all;
        },
        kSanity * 2);
    return gone;
  }

  void SigstopUnderLoad(bool strict);

  int64_t Get(Node* client, const std::string& counter) {
    absl::StatusOr<CounterReply> r = client->Call<CounterReply>(counter, CounterGet());
    EXPECT_THAT(r, IsOk()) << counter;
    return r.ok() ? r->value() : -1;
  }

  std::map<std::string, std::unique_ptr<NodeProcess>> procs_;
  std::vector<std::string> started_;
  std::vector<std::unique_ptr<Node>> clients_;
  Node* client_a_ = nullptr;
  Node* client_b_ = nullptr;
};

// Targets of the 3-node load, by index.
constexpr int kA = 0, kB = 1, kC = 2;
const std::vector<std::string> kCounters = {"counter_a", "counter_b", "counter_c"};
constexpr int kCallers = 100;

// Checks what every caller under load may see: each call returned within
// its timeout; a and b always answered.
void ExpectSurvivorsServedAndNoHang(const std::vector<CallRecord>& records) {
  int hung = 0;
  absl::Duration longest;
  for (const CallRecord& r : records) {
    longest = std::max(longest, r.end - r.start);
    if (r.end - r.start > kCallTimeout + kReturnSlack) ++hung;
  }
  EXPECT_EQ(hung, 0) << "calls that outlived their timeout; longest " << longest;
  for (int t : {kA, kB}) {
    int failed = 0;
    std::string first;  // What the first failure said.
    for (const CallRecord& r : records) {
      if (r.target != t || r.code == absl::StatusCode::kOk) continue;
      if (failed++ == 0) first = Describe(r);
    }
    EXPECT_EQ(failed, 0) << kCounters[t] << ": " << Codes(records, t) << "; first: " << first;
  }
}

TEST_F(FaultsTest, KillNineUnderLoad) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  Load load(client_a_, kCounters, kCallers);
  load.Start();
  ASSERT_TRUE(WaitFor([&] { return load.Ok(kA) >= 50 && load.Ok(kB) >= 50 && load.Ok(kC) >= 50; },
                      kConverge))
      << load.Ok(kA) << " " << load.Ok(kB) << " " << load.Ok(kC);

  const absl::Time killed_at = absl::Now();
  proc("c").Kill();
  // a's view (through client_a) and b's view (client_b) drop c's name.
  std::vector<absl::Duration> gone = TimeUntilGone({client_a_, client_b_}, "counter_c", killed_at);
  // Load goes on after the detection: a and b keep serving.
  const int64_t ok_a = load.Ok(kA), ok_b = load.Ok(kB);
  EXPECT_TRUE(
      WaitFor([&] { return load.Ok(kA) >= ok_a + 100 && load.Ok(kB) >= ok_b + 100; }, kConverge));
  load.Stop();
  const std::vector<CallRecord> records = load.Records();

  EXPECT_LT(gone[0], kSanity) << "a's view still has counter_c";
  EXPECT_LT(gone[1], kSanity) << "b's view still has counter_c";
  PrintFigure("detection_kill_under_load_ms_view_a", {gone[0]});
  PrintFigure("detection_kill_under_load_ms_view_b", {gone[1]});

  ExpectSurvivorsServedAndNoHang(records);
  // Calls to c: answered, or failed with UNAVAILABLE (in flight at the kill,
  // or sent before c left the view) or NOT_FOUND (after). Never a timeout:
  // the node is declared down long before it.
  std::vector<absl::Duration> in_flight_failed;
  for (const CallRecord& r : records) {
    if (r.target != kC) continue;
    EXPECT_THAT(r.code, ::testing::AnyOf(absl::StatusCode::kOk, absl::StatusCode::kUnavailable,
                                         absl::StatusCode::kNotFound))
        << "a call to c started " << (r.start - killed_at) << " after the kill took "
        << (r.end - r.start) << " and got " << Describe(r);
    if (r.start < killed_at && r.end > killed_at && r.code != absl::StatusCode::kOk)
      in_flight_failed.push_back(r.end - killed_at);
  }
  std::printf("calls to counter_c: %s; in flight at the kill and failed: %zu\n",
              Codes(records, kC).c_str(), in_flight_failed.size());
  PrintFigure("kill_in_flight_call_failed_after_ms", in_flight_failed);
  std::printf("calls to counter_a: %s; counter_b: %s\n", Codes(records, kA).c_str(),
              Codes(records, kB).c_str());

  // c again, under the same name, on a new port: fresh state, callable.
  ASSERT_NO_FATAL_FAILURE(StartNode("c", {proc("a").endpoint()}, {"counter:counter_c"}));
  for (Node* n : {client_a_, client_b_}) ASSERT_THAT(n->AwaitName("counter_c", kConverge), IsOk());
  absl::StatusOr<CounterReply> fresh = RetryUntil(
      [&] { return client_a_->Call<CounterReply>("counter_c", CounterGet()); },
      [](const absl::StatusOr<CounterReply>& r) { return r.ok(); }, kConverge);
  ASSERT_THAT(fresh, IsOk());
  EXPECT_EQ(fresh->value(), 0);
  EXPECT_EQ(Get(client_b_, "counter_c"), 0);
}

// SIGSTOP c for 3.5 s under load. `strict`: none of the adds that failed
// against the frozen c may be applied once it runs again (see the DISABLED_
// test below); otherwise at most those that failed with UNAVAILABLE (they
// may have reached c's socket: at-most-once).
void FaultsTest::SigstopUnderLoad(bool strict) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  Load load(client_a_, kCounters, kCallers);
  load.Start();
  ASSERT_TRUE(WaitFor([&] { return load.Ok(kA) >= 50 && load.Ok(kB) >= 50 && load.Ok(kC) >= 50; },
                      kConverge));
  // No more load to c; its value is then fixed.
  load.Disable(kC);
  ASSERT_TRUE(WaitFor([&] { return load.InFlight(kC) == 0; }, kConverge));
  const int64_t before = Get(client_a_, "counter_c");
  ASSERT_GT(before, 0);

  const absl::Time paused_at = absl::Now();
  ASSERT_THAT(proc("c").Pause(), IsOk());
  // Adds to the frozen c: they must all fail (UNAVAILABLE once c is declared
  // down, NOT_FOUND once its name left the view), none applied.
  Load attempts(client_a_, {"counter_c"}, 10);
  attempts.Start();
  std::vector<absl::Duration> gone = TimeUntilGone({client_a_, client_b_}, "counter_c", paused_at);
  // c stays frozen for 3.5 s in all, while both loads go on and every
  // attempt caller has seen its call fail. Why 3.5: the last add can leave
  // up to the failure timeout (0.8 s) after the stop; its caller's 2 s
  // deadline plus the 250 ms clock-skew allowance then ends 3.05 s after
  // the stop, and only past that is c bound to drop it unprocessed.
  const absl::Time resume_at = paused_at + absl::Milliseconds(3500);
  WaitFor([&] { return absl::Now() >= resume_at; }, absl::Seconds(4));
  attempts.Stop();
  ASSERT_THAT(proc("c").Resume(), IsOk());
  const absl::Time resumed_at = absl::Now();

  // c rejoins by itself: a's view and b's view have its name again.
  std::vector<absl::Duration> rejoin;
  for (Node* n : {client_a_, client_b_}) {
    ASSERT_THAT(n->AwaitName("counter_c", kConverge), IsOk()) << n->name();
    rejoin.push_back(absl::Now() - resumed_at);
  }
  const int64_t ok_a = load.Ok(kA), ok_b = load.Ok(kB);
  EXPECT_TRUE(
      WaitFor([&] { return load.Ok(kA) >= ok_a + 100 && load.Ok(kB) >= ok_b + 100; }, kConverge));
  load.Stop();

  EXPECT_LT(gone[0], kSanity) << "a's view still has counter_c";
  EXPECT_LT(gone[1], kSanity) << "b's view still has counter_c";
  PrintFigure("detection_freeze_under_load_ms_view_a", {gone[0]});
  PrintFigure("detection_freeze_under_load_ms_view_b", {gone[1]});
  PrintFigure("rejoin_after_sigcont_ms", rejoin);

  ExpectSurvivorsServedAndNoHang(load.Records());
  const std::vector<CallRecord> tried = attempts.Records();
  ASSERT_FALSE(tried.empty());
  std::vector<absl::Duration> failed_after;
  int unavailable = 0;
  for (const CallRecord& r : tried) {
    EXPECT_THAT(r.code, ::testing::AnyOf(absl::StatusCode::kUnavailable, absl::StatusCode::kNotFound))
        << "an add to the frozen c started " << (r.start - paused_at) << " after the stop took "
        << (r.end - r.start) << " and got " << Describe(r);
    if (r.code == absl::StatusCode::kUnavailable) ++unavailable;
    if (r.code != absl::StatusCode::kOk) failed_after.push_back(r.end - paused_at);
  }
  std::printf("adds to the frozen counter_c: %s\n", Codes(tried, 0).c_str());
  // The first failures: how long after the stop a caller learns of it.
  std::sort(failed_after.begin(), failed_after.end());
  ASSERT_FALSE(failed_after.empty());
  EXPECT_LT(failed_after.front(), kSanity);
  PrintFigure("freeze_first_call_failed_after_ms", {failed_after.front()});

  // Its state is intact: what it had before the pause, none of the failed
  // adds.
  const int64_t after = Get(client_a_, "counter_c");
  std::printf("counter_c before the pause %lld, after SIGCONT %lld; adds that failed with "
              "UNAVAILABLE: %d\n",
              static_cast<long long>(before), static_cast<long long>(after), unavailable);
  EXPECT_GE(after, before);
  EXPECT_LE(after - before, unavailable) << "an add that never left (NOT_FOUND) was applied";
  if (strict) {
    EXPECT_EQ(after, before) << (after - before) << " of the " << unavailable
                             << " adds that failed with UNAVAILABLE, their deadline long "
                                "past, were applied after SIGCONT";
  }
  EXPECT_EQ(Get(client_b_, "counter_c"), after);
}

// An add sent to c just before it froze sits in c's socket; its caller gets
// UNAVAILABLE when c is declared down, and its deadline passes during the
// freeze: c must drop it unprocessed after SIGCONT (the envelope carries the
// caller's deadline on its wall clock, deadline_unix_us; bus/WIRE.md,
// "Deadlines"), so the state is exactly what it was before the pause.
TEST_F(FaultsTest, SigstopUnderLoadAndNoFailedAddIsAppliedAfterTheThaw) {
  SigstopUnderLoad(/*strict=*/true);
}

TEST_F(FaultsTest, NodeStartedBeforeItsSeed) {
  const int port = FreePort();
  ASSERT_NE(port, 0);
  // b's seed does not listen yet: b starts anyway and keeps greeting it.
  ASSERT_NO_FATAL_FAILURE(StartNode("b", {Loopback(port)}, {"counter:counter_b"}));
  ASSERT_NO_FATAL_FAILURE(StartNode("a", {}, {"counter:counter_a"}, Loopback(port)));
  Node* via_a = StartClient("a");
  Node* via_b = StartClient("b");
  ASSERT_NE(via_a, nullptr);
  ASSERT_NE(via_b, nullptr);
  const absl::Time a_up = absl::Now();
  EXPECT_THAT(via_a->AwaitName("counter_b", kConverge), IsOk());
  EXPECT_THAT(via_b->AwaitName("counter_a", kConverge), IsOk());
  PrintFigure("join_after_seed_came_up_ms", {absl::Now() - a_up});
  absl::StatusOr<CounterReply> r = via_a->Call<CounterReply>("counter_b", CounterAdd(2));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 2);
  r = via_b->Call<CounterReply>("counter_a", CounterAdd(3));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 3);
  // What a user runs: `polis call` through either node.
  ProcessResult p = Polis({"call", "--seed=" + proc("b").endpoint(), "counter_a", R"({"get": {}})"});
  EXPECT_EQ(p.exit_code, 0) << p.Summary();
  EXPECT_EQ(p.out, "{\"value\":\"3\"}\n") << p.Summary();
}

// A `polis node` started and owned by a thread of its own (a child dies
// with the thread that started it), so that several start at once; it is
// stopped when Finish is called.
class NodeThread {
 public:
  explicit NodeThread(NodeProcessOptions o)
      : thread_([this, o] {
          auto p = NodeProcess::Start(o);
          {
            absl::MutexLock lock(&mu_);
            status_ = p.status();
            if (p.ok()) endpoint_ = (*p)->endpoint();
            started_ = true;
          }
          if (!p.ok()) return;
          finish_.WaitForNotification();
          const std::string err = (*p)->Stderr();
          absl::Status st = (*p)->Stop();
          absl::MutexLock lock(&mu_);
          stop_ = st;
          stderr_ = err;
        }) {}
  ~NodeThread() {
    if (!finish_.HasBeenNotified()) finish_.Notify();
    if (thread_.joinable()) thread_.join();
  }
  // Waits for the ready line; the endpoint, or Start's error.
  absl::StatusOr<std::string> Endpoint() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&started_));
    if (!status_.ok()) return status_;
    return endpoint_;
  }
  // Stops the node; its exit status (OK: clean exit 0) and stderr.
  absl::Status Finish(std::string* err) {
    if (!finish_.HasBeenNotified()) finish_.Notify();
    if (thread_.joinable()) thread_.join();
    absl::MutexLock lock(&mu_);
    *err = stderr_;
    return stop_;
  }

 private:
  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::string endpoint_ ABSL_GUARDED_BY(mu_);
  absl::Status stop_ ABSL_GUARDED_BY(mu_);
  std::string stderr_ ABSL_GUARDED_BY(mu_);
  absl::Notification finish_;
  std::thread thread_;  // Last: started after the rest exists.
};

TEST_F(FaultsTest, SimultaneousStartOneHolder) {
  constexpr int kTrials = 5;
  std::map<std::string, int> holders;
  for (int trial = 0; trial < kTrials; ++trial) {
    SCOPED_TRACE(absl::StrCat("trial ", trial));
    // x and y, both serving "counter", start at the same moment, seeded by
    // s, which starts with them.
    const int port = FreePort();
    ASSERT_NE(port, 0);
    const std::string x = absl::StrCat("x", trial), y = absl::StrCat("y", trial),
                      s = absl::StrCat("s", trial);
    auto options = [&](const std::string& name) {
      NodeProcessOptions o;
      o.name = name;
      o.listen = "tcp://127.0.0.1:*";
      o.seeds = {Loopback(port)};
      o.serve = {"counter"};
      return o;
    };
    auto tx = std::make_unique<NodeThread>(options(x));
    auto ty = std::make_unique<NodeThread>(options(y));
    ASSERT_NO_FATAL_FAILURE(StartNode(s, {}, {}, Loopback(port)));
    absl::StatusOr<std::string> ex = tx->Endpoint(), ey = ty->Endpoint();
    ASSERT_THAT(ex, IsOk());
    ASSERT_THAT(ey, IsOk());
    std::vector<Node*> views;
    for (const std::string& ep : {*ex, *ey, proc(s).endpoint()}) {
      auto n = StartJoinedNode({.name = absl::StrCat("view-", clients_.size()), .seeds = {ep},
                                .client = true});
      ASSERT_THAT(n, IsOk());
      clients_.push_back(std::move(*n));
      views.push_back(clients_.back().get());
    }

    // One holder, the same answer in every view.
    std::string answers;
    const bool agreed = WaitFor(
        [&] {
          std::vector<std::string> seen;
          for (Node* n : views) {
            absl::StatusOr<Pid> p = n->WhereIs("counter");
            seen.push_back(p.ok() ? p->ToString() : absl::StatusCodeToString(p.status().code()));
          }
          answers = absl::StrJoin(seen, " ");
          return views[0]->WhereIs("counter").ok() &&
                 std::all_of(seen.begin(), seen.end(), [&](const std::string& v) { return v == seen[0]; });
        },
        kConverge);
    ASSERT_TRUE(agreed) << "views of x, y, s: " << answers;
    const Pid holder = *views[0]->WhereIs("counter");
    ++holders[holder.node.substr(0, 1)];
    std::printf("trial %d: counter held by %s (x, y, s agree)\n", trial, holder.ToString().c_str());

    // Successive calls through every view reach one copy: 1, 2, 3, ...
    std::vector<int64_t> values;
    for (int i = 0; i < 9; ++i) {
      absl::StatusOr<CounterReply> r = views[i % 3]->Call<CounterReply>("counter", CounterAdd(1));
      ASSERT_THAT(r, IsOk()) << "call " << i << " via " << views[i % 3]->name();
      values.push_back(r->value());
    }
    EXPECT_THAT(values, ::testing::ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9));
    for (Node* n : views) {
      absl::StatusOr<Pid> p = n->WhereIs("counter");
      ASSERT_THAT(p, IsOk());
      EXPECT_EQ(*p, holder) << "after the calls, in " << n->name();
    }

    // What became of the loser: reported, not asserted (the fate of a
    // server that lost its name is another branch's work).
    clients_.clear();
    std::string err_x, err_y;
    const absl::Status stop_y = ty->Finish(&err_y), stop_x = tx->Finish(&err_x);
    const bool x_won = holder.node == x;
    const std::string& loser_err = x_won ? err_y : err_x;
    std::printf("trial %d: loser %s stopped: %s; its stderr: %s\n", trial, (x_won ? y : x).c_str(),
                (x_won ? stop_y : stop_x).ToString().c_str(), loser_err.c_str());
  }
  std::printf("holders over %d trials: x %d, y %d\n", kTrials, holders["x"], holders["y"]);
}

// --- Raw wire -------------------------------------------------------------

// One frame (bus/WIRE.md): "PL", version 1, flags 0, length LE, envelope.
std::string Frame(const wire::Envelope& e) {
  const std::string body = e.SerializeAsString();
  std::string f = {'P', 'L', 1, 0};
  const uint32_t n = static_cast<uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) f.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return f + body;
}

std::string HelloFrame(const wire::Hello& hello) {
  wire::Envelope e;
  e.set_version(1);
  e.set_kind(wire::KIND_SYSTEM);
  e.set_type(wire::Hello::descriptor()->full_name());
  e.set_payload(hello.SerializeAsString());
  return Frame(e);
}

// The first envelope of a received message (a batch may hold several).
bool FirstEnvelope(const zmq::message_t& m, wire::Envelope* e) {
  if (m.size() < 8) return false;
  const auto* p = static_cast<const unsigned char*>(m.data());
  const uint32_t n = p[4] | (p[5] << 8) | (p[6] << 16) | (uint32_t{p[7]} << 24);
  if (8 + size_t{n} > m.size()) return false;
  return e->ParseFromArray(p + 8, static_cast<int>(n));
}

TEST_F(FaultsTest, HelloListingManyPhantoms) {
  ASSERT_NO_FATAL_FAILURE(StartNode("a", {}, {"counter:counter_a"}));
  ASSERT_NO_FATAL_FAILURE(StartNode("b", {proc("a").endpoint()}, {"counter:counter_b"}));
  Node* client = StartClient("a");
  ASSERT_NE(client, nullptr);
  ASSERT_THAT(client->AwaitName("counter_b", kConverge), IsOk());

  // A liar at an endpoint where nothing listens lists 20,000 members there.
  const std::string nowhere = Loopback(FreePort());
  constexpr int kPhantoms = 20000;
  wire::Hello liar;
  liar.set_node("liar");
  liar.set_incarnation(42);
  liar.set_wire_version(1);
  liar.set_endpoint(nowhere);
  liar.mutable_self()->set_node("liar");
  liar.mutable_self()->set_endpoint(nowhere);
  liar.mutable_self()->set_incarnation(42);
  liar.mutable_self()->set_names_version(1);
  liar.mutable_self()->set_started_unix_ns(absl::ToUnixNanos(absl::Now()));
  liar.set_reply_requested(true);
  for (int i = 0; i < kPhantoms; ++i) {
    wire::NodeEntry* m = liar.add_members();
    m->set_node(absl::StrCat("phantom-", i));
    m->set_endpoint(nowhere);
    m->set_incarnation(i + 1);
  }
  const std::string liar_frame = HelloFrame(liar);
  std::printf("the liar's Hello: %zu bytes\n", liar_frame.size());

  // A client Hello on the same connection, after it: a handles them in
  // order, so its answer says the liar's Hello was handled.
  wire::Hello ask;
  ask.set_node("raw-client");
  ask.set_incarnation(7);
  ask.set_wire_version(1);
  ask.set_client(true);
  ask.set_reply_requested(true);

  zmq::context_t ctx;
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::rcvtimeo, static_cast<int>(Ms(kConverge)));
  dealer.connect(proc("a").endpoint());
  ASSERT_TRUE(dealer.send(zmq::buffer(liar_frame), zmq::send_flags::none));
  const absl::Time asked = absl::Now();
  ASSERT_TRUE(dealer.send(zmq::buffer(HelloFrame(ask)), zmq::send_flags::none));
  zmq::message_t answer;
  wire::Envelope env;
  wire::Hello view;
  // Skip whatever else a sends on this connection (e.g. its Hello to the
  // liar) until the answer to the client Hello: a Hello with a view.
  bool got = false;
  while (!got) {
    ASSERT_TRUE(dealer.recv(answer, zmq::recv_flags::none)) << "no answer from a";
    ASSERT_TRUE(FirstEnvelope(answer, &env));
    got = env.type() == wire::Hello::descriptor()->full_name() && view.ParseFromString(env.payload()) &&
          !view.view().empty();
  }
  std::printf("a's answer to a client Hello: %zu bytes, %d members, after %lld ms\n", answer.size(),
              view.view_size(), static_cast<long long>(Ms(absl::Now() - asked)));
  EXPECT_LT(answer.size(), 10 * 1024u);
  std::vector<std::string> members;
  for (const wire::NodeEntry& e : view.view()) members.push_back(e.node());
  EXPECT_THAT(members, ::testing::Each(::testing::Not(::testing::StartsWith("phantom-"))));
  std::printf("a's view after the liar's Hello: %s\n", absl::StrJoin(members, " ").c_str());

  // The same through a client node's subscription, and a keeps serving;
  // a `polis call` through a is as quick as ever.
  for (const std::string& peer : client->Peers())
    EXPECT_THAT(peer, ::testing::Not(::testing::StartsWith("phantom-")));
  absl::StatusOr<CounterReply> r = client->Call<CounterReply>("counter_a", CounterAdd(1));
  ASSERT_THAT(r, IsOk());
  r = client->Call<CounterReply>("counter_b", CounterAdd(1));
  ASSERT_THAT(r, IsOk());
  ProcessResult p =
      Polis({"call", "--seed=" + proc("a").endpoint(), "counter_b", R"({"get": {}})"});
  EXPECT_EQ(p.exit_code, 0) << p.Summary();
  EXPECT_EQ(p.out, "{\"value\":\"1\"}\n") << p.Summary();
  EXPECT_LT(p.elapsed, kSanity) << p.Summary();
  std::printf("polis call through a: %lld ms\n", static_cast<long long>(Ms(p.elapsed)));

  // The liar itself did greet a, so it may enter a's view; but it never
  // answers at its endpoint and sends no heartbeats: it must not stay.
  const absl::Time since = absl::Now();
  const bool liar_left = WaitFor(
      [&] {
        std::vector<std::string> peers = client->Peers();
        return std::find(peers.begin(), peers.end(), "liar") == peers.end();
      },
      kConverge);
  std::printf("the liar %s a's view after %lld ms\n", liar_left ? "left" : "is still in",
              static_cast<long long>(Ms(absl::Now() - since)));
  EXPECT_TRUE(liar_left) << "a member that is unreachable and sends no heartbeats stays";
}

// --- Flood --------------------------------------------------------------------

TEST_F(FaultsTest, FloodDoesNotLookDead) {
  ASSERT_NO_FATAL_FAILURE(StartNode("a", {}, {"echo:echo_a", "counter:counter_a"}));
  ASSERT_NO_FATAL_FAILURE(StartNode("c", {proc("a").endpoint()}, {"counter:counter_c"}));
  // b, the flooder, is a member node in this process.
  auto b_or = StartJoinedNode(
      {.name = "b", .listen = "tcp://127.0.0.1:*", .seeds = {proc("a").endpoint()}});
  ASSERT_THAT(b_or, IsOk());
  std::unique_ptr<Node> b = std::move(*b_or);
  ASSERT_THAT(b->AwaitName("echo_a", kConverge), IsOk());
  // b holds a name, so a's view of b shows in its clients. (Monitor cannot
  // watch a remote process: it answers ProcessDown NOT_FOUND at once.)
  ASSERT_THAT(b->Spawn(std::make_unique<examples::Echo>(), {.name = "flooder"}), IsOk());
  Node* via_a = StartClient("a");
  Node* via_c = StartClient("c");
  ASSERT_NE(via_a, nullptr);
  ASSERT_NE(via_c, nullptr);
  ASSERT_THAT(via_a->AwaitName("flooder", kConverge), IsOk());
  ASSERT_THAT(via_c->AwaitName("echo_a", kConverge), IsOk());

  // 1 MiB casts to echo_a for 3 s, 4 at a time, each window closed by a
  // call (order per sender): at most a few MiB queued anywhere.
  google::protobuf::BytesValue big;
  big.set_value(std::string(1 << 20, 'x'));
  google::protobuf::StringValue small;
  small.set_value("sync");
  std::atomic<bool> flooding{true};
  std::atomic<int64_t> sent_mib{0};
  absl::Status flood_error;
  std::thread flood([&] {
    const absl::Time end = absl::Now() + absl::Seconds(3);
    while (absl::Now() < end && flood_error.ok()) {
      for (int i = 0; i < 4 && flood_error.ok(); ++i) {
        flood_error = b->Cast("echo_a", big);
        if (flood_error.ok()) sent_mib.fetch_add(1);
      }
      if (flood_error.ok())
        flood_error = b->Call<google::protobuf::StringValue>("echo_a", small, absl::Seconds(10)).status();
    }
    flooding.store(false);
  });

  // Meanwhile a third party (a client of c) calls a and watches the views.
  int calls = 0, failed_calls = 0, a_missing = 0, b_missing = 0, a_not_peer = 0;
  absl::Duration slowest;
  std::string first_failure;
  while (flooding.load()) {
    const absl::Time t = absl::Now();
    absl::StatusOr<CounterReply> r = via_c->Call<CounterReply>("counter_a", CounterAdd(1), kCallTimeout);
    slowest = std::max(slowest, absl::Now() - t);
    ++calls;
    if (!r.ok()) {
      ++failed_calls;
      if (first_failure.empty()) first_failure = r.status().ToString();
    }
    if (!via_c->WhereIs("echo_a").ok()) ++a_missing;
    if (!via_a->WhereIs("flooder").ok()) ++b_missing;
    std::vector<std::string> peers = b->Peers();
    if (std::find(peers.begin(), peers.end(), "a") == peers.end()) ++a_not_peer;
  }
  flood.join();
  EXPECT_THAT(flood_error, IsOk());
  std::printf("flood: %lld MiB in 3 s; %d small calls to a (slowest %lld ms)\n",
              static_cast<long long>(sent_mib.load()), calls, static_cast<long long>(Ms(slowest)));
  EXPECT_GT(sent_mib.load(), 0);
  EXPECT_GT(calls, 0);
  EXPECT_EQ(failed_calls, 0) << first_failure;
  EXPECT_EQ(a_missing, 0) << "c's view lost a";
  EXPECT_EQ(b_missing, 0) << "a's view lost b";
  EXPECT_EQ(a_not_peer, 0) << "b's view lost a";
  b->Shutdown();
}

// --- Figures --------------------------------------------------------------------

// Kills c `n` times (restarting it) and freezes it `n` times (resuming it),
// measuring when a's view and b's view drop it.
class DetectionTest : public FaultsTest {
 protected:
  void Run(int n) {
    ASSERT_NO_FATAL_FAILURE(StartCluster());
    std::vector<absl::Duration> kill, freeze, kill_b, freeze_b;
    for (int i = 0; i < n; ++i) {
      SCOPED_TRACE(absl::StrCat("iteration ", i));
      const absl::Time killed_at = absl::Now();
      proc("c").Kill();
      std::vector<absl::Duration> gone = TimeUntilGone({client_a_, client_b_}, "counter_c", killed_at);
      ASSERT_LT(gone[0], kSanity);
      ASSERT_LT(gone[1], kSanity);
      kill.push_back(gone[0]);
      kill_b.push_back(gone[1]);
      ASSERT_NO_FATAL_FAILURE(StartNode("c", {proc("a").endpoint()}, {"counter:counter_c"}));
      for (Node* c : {client_a_, client_b_}) ASSERT_THAT(c->AwaitName("counter_c", kConverge), IsOk());

      const absl::Time paused_at = absl::Now();
      ASSERT_THAT(proc("c").Pause(), IsOk());
      gone = TimeUntilGone({client_a_, client_b_}, "counter_c", paused_at);
      ASSERT_THAT(proc("c").Resume(), IsOk());
      ASSERT_LT(gone[0], kSanity);
      ASSERT_LT(gone[1], kSanity);
      freeze.push_back(gone[0]);
      freeze_b.push_back(gone[1]);
      for (Node* c : {client_a_, client_b_}) ASSERT_THAT(c->AwaitName("counter_c", kConverge), IsOk());
    }
    PrintFigure("detection_kill_ms", kill);
    PrintFigure("detection_kill_ms_view_b", kill_b);
    PrintFigure("detection_freeze_ms", freeze);
    PrintFigure("detection_freeze_ms_view_b", freeze_b);
  }
};

TEST_F(DetectionTest, DetectionFigures) { Run(2); }
TEST_F(DetectionTest, DISABLED_DetectionFiguresTenRuns) { Run(10); }

}  // namespace
}  // namespace polis
