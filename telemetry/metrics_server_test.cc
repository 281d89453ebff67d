// telemetry/metrics_server_test.cc — the HTTP side of `polis node
// --metrics`: addresses, GET /metrics, other paths and methods, a port in
// use, and a real node's metrics.
#include "telemetry/metrics_server.h"

#include <httplib.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"

namespace polis::telemetry {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseMetricsAddressTest, TakesHostPortBracketedIpv6AndPortAlone) {
  absl::StatusOr<MetricsAddress> a = ParseMetricsAddress("127.0.0.1:9464");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9464);
  a = ParseMetricsAddress("localhost:0");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 0);
  a = ParseMetricsAddress("[::1]:80");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->host, "::1");
  a = ParseMetricsAddress(":9464");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->host, "0.0.0.0");
}

TEST(ParseMetricsAddressTest, RefusesWhatIsNotHostColonPort) {
  for (const char* bad : {"", "9464", "host:", "host:http", "host:-1", "host:65536", "h:12x",
                          "::1:80", "[::1:80", "[]:80"}) {
    EXPECT_THAT(ParseMetricsAddress(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected HOST:PORT")))
        << bad;
  }
}

std::unique_ptr<MetricsServer> Serve(std::function<std::string()> render) {
  absl::StatusOr<std::unique_ptr<MetricsServer>> s =
      MetricsServer::Start({.host = "127.0.0.1", .port = 0}, std::move(render));
  EXPECT_THAT(s, IsOk());
  return s.ok() ? *std::move(s) : nullptr;
}

TEST(MetricsServerTest, ServesMetricsInTheTextFormatAndNothingElse) {
  auto server = Serve([] { return std::string("polis_up 1\n"); });
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  EXPECT_EQ(server->url(), "http://127.0.0.1:" + std::to_string(server->port()) + "/metrics");
  httplib::Client client("127.0.0.1", server->port());
  httplib::Result got = client.Get("/metrics");
  ASSERT_TRUE(got) << httplib::to_string(got.error());
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "polis_up 1\n");
  EXPECT_THAT(got->get_header_value("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
  httplib::Result other = client.Get("/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  httplib::Result post = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
}

TEST(MetricsServerTest, APortInUseIsUnavailable) {
  auto first = Serve([] { return std::string(); });
  ASSERT_NE(first, nullptr);
  EXPECT_THAT(MetricsServer::Start({.host = "127.0.0.1", .port = first->port()},
                                   [] { return std::string(); }),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot serve metrics")));
}

TEST(MetricsServerTest, ServesARunningNodesMetrics) {
  absl::StatusOr<std::unique_ptr<Node>> node = testing::StartNode({.name = "m"});
  ASSERT_THAT(node, IsOk());
  absl::StatusOr<std::unique_ptr<MetricsServer>> server =
      MetricsServer::Start({.host = "127.0.0.1", .port = 0}, **node);
  ASSERT_THAT(server, IsOk());
  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result got = client.Get("/metrics");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_THAT(got->body, HasSubstr("polis_node_processes{node=\"m\"} 0\n"));
  EXPECT_THAT(got->body, HasSubstr("polis_scheduler_queue_length{node=\"m\",worker=\"1\"} 0\n"));
  server->reset();  // Before the node: no scrape during Shutdown.
  (*node)->Shutdown();
}

}  // namespace
}  // namespace polis::telemetry
