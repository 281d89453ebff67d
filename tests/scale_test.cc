// Scale figures: many nodes in this process over tcp loopback, each with one
// scheduler thread. They print figures (JSON lines starting {"figure":...})
// and assert only what must hold at any speed: every node joins, every name
// resolves everywhere, calls work. Timings are reported, never asserted
// (the machine is shared).
//
//   registry_propagation_ms: 16 nodes; a name registered on node 0 at t0,
//     each other node waiting for it (Node::AwaitName, event-driven) in a
//     thread of its own records when it resolves; 20 names. Target: within
//     100 ms everywhere on loopback.
//   mesh_32: 32 nodes joined into a full mesh; resident memory per peer
//     connection and background CPU of the idle mesh.
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "examples/counter.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis::testing {
namespace {

using examples::CounterGet;
using examples::CounterReply;

// Resident set size of this process, in kB (VmRSS of /proc/self/status).
int64_t RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// CPU time (user + system) this process used so far.
absl::Duration CpuTime() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return absl::DurationFromTimeval(u.ru_utime) + absl::DurationFromTimeval(u.ru_stime);
}

// `count` nodes named PREFIX0..; node 0 first, the others seeded by it (one
// seed is enough for a full mesh), or by nobody if `isolated`.
std::vector<std::unique_ptr<Node>> StartNodes(const std::string& prefix, int count,
                                              bool isolated) {
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < count; ++i) {
    NodeOptions o{.name = absl::StrCat(prefix, i),
                  .scheduler_threads = 1,
                  .listen = "tcp://127.0.0.1:*"};
    if (i > 0 && !isolated) o.seeds = {nodes[0]->endpoint()};
    absl::StatusOr<std::unique_ptr<Node>> n = Node::Create(std::move(o));
    EXPECT_THAT(n, IsOk());
    if (!n.ok()) break;
    nodes.push_back(*std::move(n));
  }
  return nodes;
}

// Whether every node lists every other as a peer.
bool FullMesh(const std::vector<std::unique_ptr<Node>>& nodes) {
  for (const auto& n : nodes) {
    if (n->Peers().size() != nodes.size() - 1) return false;
  }
  return true;
}

std::string PeerCounts(const std::vector<std::unique_ptr<Node>>& nodes) {
  std::string s;
  for (const auto& n : nodes) absl::StrAppend(&s, n->name(), ":", n->Peers().size(), " ");
  return s;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

TEST(ScaleTest, ANameRegisteredOnOneOfSixteenNodesResolvesOnEveryOther) {
  constexpr int kNodes = 16;
  constexpr int kNames = 20;
  std::vector<std::unique_ptr<Node>> nodes = StartNodes("p", kNodes, /*isolated=*/false);
  ASSERT_EQ(nodes.size(), kNodes);
  ASSERT_TRUE(WaitFor([&] { return FullMesh(nodes); }, absl::Seconds(30))) << PeerCounts(nodes);

  std::vector<double> all_ms;  // One per (name, other node).
  for (int k = 0; k < kNames; ++k) {
    const std::string name = absl::StrCat("prop", k);
    absl::StatusOr<Pid> pid = nodes[0]->Spawn(std::make_unique<examples::Counter>());
    ASSERT_THAT(pid, IsOk());
    absl::Notification go;
    std::vector<absl::Time> seen(kNodes);
    std::vector<absl::Status> status(kNodes);
    std::vector<std::thread> waiters;
    for (int i = 1; i < kNodes; ++i) {
      waiters.emplace_back([&, i] {
        go.WaitForNotification();
        absl::StatusOr<Pid> p = nodes[i]->AwaitName(name, absl::Seconds(10));
        seen[i] = absl::Now();
        status[i] = p.status();
      });
    }
    go.Notify();
    const absl::Time t0 = absl::Now();
    ASSERT_THAT(nodes[0]->Register(name, *pid), IsOk());
    for (std::thread& t : waiters) t.join();
    for (int i = 1; i < kNodes; ++i) {
      ASSERT_THAT(status[i], IsOk()) << nodes[i]->name() << " never saw " << name;
      all_ms.push_back(absl::ToDoubleMilliseconds(seen[i] - t0));
    }
  }
  std::cout << absl::StrFormat(
                   R"({"figure":"registry_propagation_ms","nodes":%d,"names":%d,)"
                   R"("p50":%.2f,"p99":%.2f,"max":%.2f})",
                   kNodes, kNames, Percentile(all_ms, 0.5), Percentile(all_ms, 0.99),
                   Percentile(all_ms, 1.0))
            << std::endl;
  for (auto& n : nodes) n->Shutdown();
}

TEST(ScaleTest, ThirtyTwoNodesFormAFullMeshWhoseNamesResolveEverywhere) {
  constexpr int kNodes = 32;
  const int64_t rss_start = RssKb();
  // 32 nodes that know no one: what a node costs without peers.
  std::vector<std::unique_ptr<Node>> nodes = StartNodes("m", kNodes, /*isolated=*/true);
  ASSERT_EQ(nodes.size(), kNodes);
  for (int i = 0; i < kNodes; ++i) {
    ASSERT_THAT(
        nodes[i]->Spawn(std::make_unique<examples::Counter>(i), {.name = absl::StrCat("c", i)}),
        IsOk());
  }
  ASSERT_TRUE(WaitFor([&] { return RssKb() > 0; }));
  const int64_t rss_isolated = RssKb();
  // One node seeded by all of them introduces them to each other (a Hello
  // lists the members it reached; each greets those), then leaves.
  std::vector<std::string> all;
  for (const auto& n : nodes) all.push_back(n->endpoint());
  {
    absl::StatusOr<std::unique_ptr<Node>> joiner = Node::Create(
        {.name = "joiner", .scheduler_threads = 1, .listen = "tcp://127.0.0.1:*", .seeds = all});
    ASSERT_THAT(joiner, IsOk());
    ASSERT_THAT((*joiner)->Join(absl::Seconds(10)), IsOk());
    ASSERT_TRUE(WaitFor(
        [&] {
          for (const auto& n : nodes) {
            if (n->Peers().size() != kNodes) return false;  // 31 + the joiner.
          }
          return true;
        },
        absl::Seconds(60)))
        << PeerCounts(nodes);
    (*joiner)->Shutdown();
  }
  ASSERT_TRUE(WaitFor([&] { return FullMesh(nodes); }, absl::Seconds(30))) << PeerCounts(nodes);
  // Every name from every node.
  for (const auto& n : nodes) {
    for (int i = 0; i < kNodes; ++i) {
      ASSERT_THAT(n->AwaitName(absl::StrCat("c", i), absl::Seconds(10)), IsOk())
          << n->name() << " does not resolve c" << i;
    }
  }
  // Calls between a few random pairs.
  std::mt19937 rng(32);
  for (int k = 0; k < 8; ++k) {
    const int from = rng() % kNodes, to = rng() % kNodes;
    absl::StatusOr<CounterReply> r =
        nodes[from]->Call<CounterReply>(absl::StrCat("c", to), CounterGet(), absl::Seconds(5));
    ASSERT_THAT(r, IsOk()) << "m" << from << " -> c" << to;
    EXPECT_EQ(r->value(), to);
  }
  const int64_t rss_mesh = RssKb();
  // The idle mesh: heartbeats and membership ticks only. A measurement
  // window, not a wait for something to happen.
  const absl::Duration window = absl::Seconds(5);
  const absl::Duration cpu0 = CpuTime();
  const absl::Time t0 = absl::Now();
  absl::SleepFor(window);
  const double cpu_pct = 100 * (CpuTime() - cpu0) / (absl::Now() - t0);
  EXPECT_TRUE(FullMesh(nodes)) << "the idle mesh lost members: " << PeerCounts(nodes);
  const int connections = kNodes * (kNodes - 1);  // Per node, one per peer.
  std::cout << absl::StrFormat(
                   R"({"figure":"mesh_32","nodes":%d,"peer_connections":%d,)"
                   R"("rss_start_kb":%d,"rss_isolated_kb":%d,"rss_mesh_kb":%d,)"
                   R"("rss_per_node_kb":%.1f,"rss_per_peer_kb":%.2f,)"
                   R"("idle_cpu_pct_total":%.2f,"idle_cpu_pct_per_node":%.3f,)"
                   R"("idle_cpu_pct_per_peer":%.4f})",
                   kNodes, connections, rss_start, rss_isolated, rss_mesh,
                   static_cast<double>(rss_isolated - rss_start) / kNodes,
                   static_cast<double>(rss_mesh - rss_isolated) / connections, cpu_pct,
                   cpu_pct / kNodes, cpu_pct / connections)
            << std::endl;
  for (auto& n : nodes) n->Shutdown();
}

}  // namespace
}  // namespace polis::testing
