// telemetry/prometheus_metrics_test.cc — a NodeMetrics as Prometheus text:
// names, types, labels, and which servers get series.
#include "telemetry/prometheus_metrics.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace polis::telemetry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

NodeMetrics Sample() {
  NodeMetrics m;
  m.node = "a";
  m.started_unix_ns = 1'700'000'000'500'000'000;
  m.processes = 4;
  m.resident_bytes = 12345678;
  m.run_queues = {0, 3};
  m.spans = {.recorded = 10, .dropped = 2, .stored = 8};
  ServerMetrics counter;
  counter.server = "counter";
  counter.kind = "counter";
  counter.processes = 1;
  counter.calls = 37;
  counter.casts = 5;
  counter.mailbox = 1;
  counter.answered[0] = 35;       // OK
  counter.answered[5] = 2;        // NOT_FOUND
  counter.latency.counts[0] = 2;  // <= 1 µs
  counter.latency.counts[3] = 1;  // <= 10 µs
  counter.latency.count = 3;
  counter.latency.sum_ns = 9'000;
  counter.restarts = 1;
  m.servers.push_back(counter);
  ServerMetrics idle;  // Named, never handled anything.
  idle.server = "idle";
  idle.kind = "counter";
  idle.processes = 1;
  m.servers.push_back(idle);
  ServerMetrics crashing = idle;  // Named, never handled anything, restarted.
  crashing.server = "crashing";
  crashing.restarts = 3;
  m.servers.push_back(crashing);
  ServerMetrics workers;  // The unnamed of a kind.
  workers.kind = "worker";
  workers.processes = 2;
  workers.casts = 9;
  m.servers.push_back(workers);
  m.peers.push_back({.node = "", .messages_in = 4, .bytes_in = 400});
  m.peers.push_back({.node = "b",
                     .endpoint = "tcp://127.0.0.1:7101",
                     .member = true,
                     .up = true,
                     .messages_in = 40,
                     .bytes_in = 4000,
                     .messages_out = 41,
                     .bytes_out = 4100,
                     .dropped = 1,
                     .refused = 2});
  m.peers.push_back({.node = "c", .member = true, .up = false});
  return m;
}

TEST(PrometheusMetricsTest, BadInputIsCountedByReason) {
  NodeMetrics m;
  m.node = "a";
  m.bad_input = {{"framing", 12}, {"unknown_kind", 0}};
  const std::string text = PrometheusMetrics(m);
  EXPECT_THAT(text, HasSubstr("# TYPE polis_bad_input_total counter\n"));
  EXPECT_THAT(text, HasSubstr("polis_bad_input_total{node=\"a\",reason=\"framing\"} 12\n"));
  EXPECT_THAT(text, HasSubstr("polis_bad_input_total{node=\"a\",reason=\"unknown_kind\"} 0\n"));
}

TEST(PrometheusMetricsTest, HeartbeatsAreCountedAndRefusalsByReason) {
  NodeMetrics m;
  m.node = "a";
  EXPECT_THAT(PrometheusMetrics(m), Not(HasSubstr("polis_heartbeats")));  // no detector
  m.heartbeats_sent = 50;
  m.heartbeats_accepted = 48;
  m.heartbeats_ignored = {{"unauthenticated", 7}, {"replayed", 3}};
  const std::string text = PrometheusMetrics(m);
  EXPECT_THAT(text, HasSubstr("polis_heartbeats_sent_total{node=\"a\"} 50\n"));
  EXPECT_THAT(text, HasSubstr("polis_heartbeats_accepted_total{node=\"a\"} 48\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE polis_heartbeats_ignored_total counter\n"));
  EXPECT_THAT(text,
              HasSubstr("polis_heartbeats_ignored_total{node=\"a\",reason=\"unauthenticated\"} 7\n"));
  EXPECT_THAT(text,
              HasSubstr("polis_heartbeats_ignored_total{node=\"a\",reason=\"replayed\"} 3\n"));
}

TEST(PrometheusMetricsTest, ServerSeriesCarryNodeServerAndKind) {
  const std::string text = PrometheusMetrics(Sample());
  EXPECT_THAT(text, HasSubstr("# TYPE polis_server_messages_total counter\n"));
  EXPECT_THAT(text, HasSubstr("polis_server_messages_total{node=\"a\",server=\"counter\","
                              "kind=\"counter\",message_kind=\"call\"} 37\n"));
  EXPECT_THAT(text, HasSubstr("polis_server_messages_total{node=\"a\",server=\"counter\","
                              "kind=\"counter\",message_kind=\"info\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("polis_server_calls_answered_total{node=\"a\",server=\"counter\","
                              "kind=\"counter\",code=\"NOT_FOUND\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("polis_server_calls_answered_total{node=\"a\",server=\"counter\","
                              "kind=\"counter\",code=\"OK\"} 35\n"));
  // Codes never answered with are left out, but OK is always there.
  EXPECT_THAT(text, Not(HasSubstr("code=\"INTERNAL\"")));
  EXPECT_THAT(text, HasSubstr("polis_server_calls_answered_total{node=\"a\",server=\"\","
                              "kind=\"worker\",code=\"OK\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("polis_server_mailbox_length{node=\"a\",server=\"counter\","
                              "kind=\"counter\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("polis_server_restarts_total{node=\"a\",server=\"counter\","
                              "kind=\"counter\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("polis_server_processes{node=\"a\",server=\"\",kind=\"worker\"} 2\n"));
}

TEST(PrometheusMetricsTest, HandlerDurationsAreAHistogramInSeconds) {
  const std::string text = PrometheusMetrics(Sample());
  EXPECT_THAT(text, HasSubstr("# TYPE polis_server_handler_duration_seconds histogram\n"));
  const std::string labels = "node=\"a\",server=\"counter\",kind=\"counter\"";
  EXPECT_THAT(text, HasSubstr("polis_server_handler_duration_seconds_bucket{" + labels +
                              ",le=\"1e-06\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("polis_server_handler_duration_seconds_bucket{" + labels +
                              ",le=\"1e-05\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("polis_server_handler_duration_seconds_bucket{" + labels +
                              ",le=\"10\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("polis_server_handler_duration_seconds_bucket{" + labels +
                              ",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("polis_server_handler_duration_seconds_sum{" + labels + "} 9e-06\n"));
  EXPECT_THAT(text, HasSubstr("polis_server_handler_duration_seconds_count{" + labels + "} 3\n"));
}

TEST(PrometheusMetricsTest, IdleNamedServersAddOnlyWhatIsNotZero) {
  const std::string text = PrometheusMetrics(Sample());
  EXPECT_THAT(text, Not(HasSubstr("server=\"idle\"")));
  // A server that crashes in Init never handles a message: its restarts show.
  EXPECT_THAT(text, HasSubstr("polis_server_restarts_total{node=\"a\",server=\"crashing\","
                              "kind=\"counter\"} 3\n"));
  EXPECT_THAT(text, Not(HasSubstr("polis_server_messages_total{node=\"a\",server=\"crashing\"")));
}

TEST(PrometheusMetricsTest, PeersHaveStateAndTrafficAndOtherIsTheEmptyPeer) {
  const std::string text = PrometheusMetrics(Sample());
  EXPECT_THAT(text, HasSubstr("polis_peer_up{node=\"a\",peer=\"b\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("polis_peer_up{node=\"a\",peer=\"c\"} 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("polis_peer_up{node=\"a\",peer=\"\"}")));
  EXPECT_THAT(text, HasSubstr("polis_peer_received_messages_total{node=\"a\",peer=\"\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("polis_peer_received_bytes_total{node=\"a\",peer=\"b\"} 4000\n"));
  EXPECT_THAT(text, HasSubstr("polis_peer_sent_messages_total{node=\"a\",peer=\"b\"} 41\n"));
  EXPECT_THAT(text, HasSubstr("polis_peer_sent_bytes_total{node=\"a\",peer=\"b\"} 4100\n"));
  EXPECT_THAT(text, HasSubstr("polis_peer_dropped_messages_total{node=\"a\",peer=\"b\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("polis_peer_refused_frames_total{node=\"a\",peer=\"b\"} 2\n"));
}

TEST(PrometheusMetricsTest, NodeFigures) {
  const std::string text = PrometheusMetrics(Sample());
  EXPECT_THAT(text, HasSubstr("polis_node_processes{node=\"a\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("polis_node_resident_memory_bytes{node=\"a\"} 12345678\n"));
  EXPECT_THAT(text, HasSubstr("polis_node_start_time_seconds{node=\"a\"} 1700000000.5\n"));
  EXPECT_THAT(text, HasSubstr("polis_scheduler_queue_length{node=\"a\",worker=\"1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("polis_spans_recorded_total{node=\"a\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("polis_spans_dropped_total{node=\"a\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("polis_spans_stored{node=\"a\"} 8\n"));
}

TEST(PrometheusMetricsTest, EveryFamilyHasHelpAndTypeOnceAndItsSamplesTogether) {
  const std::string text = PrometheusMetrics(Sample());
  std::string family;
  std::set<std::string> seen;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos) << "the text ends with a newline";
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.rfind("# HELP ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(seen.insert(family).second) << family << " twice";
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_EQ(line.substr(7, family.size() + 1), family + " ");
      continue;
    }
    EXPECT_EQ(line.rfind(family, 0), 0u) << line << " is not in family " << family;
  }
}

}  // namespace
}  // namespace polis::telemetry
