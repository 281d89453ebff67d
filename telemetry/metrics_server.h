// telemetry/metrics_server.h — serves a node's metrics to Prometheus over
// HTTP: GET /metrics answers 200 with PrometheusMetrics(node.Metrics())
// (prometheus_metrics.h) as `text/plain; version=0.0.4`; any other path is
// 404 and any other method 405. `polis node --metrics=HOST:PORT` runs one.
//
// HTTP is cpp-httplib (Debian's libcpp-httplib-dev): a listening thread and
// a pool of kWorkers threads, named "polis-metrics". Each scrape is answered
// on its own connection (no keep-alive), so one slow or idle client cannot
// hold the pool. A scrape costs what Node::Metrics costs (a walk over the
// registry, a hop to the I/O thread for the members) plus formatting; it
// never blocks a process or the I/O thread.
//
// Thread-safety: Start and the destructor from one thread; port() and
// url() are thread-safe. The source (`render` or the node) must outlive
// the server.
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(MetricsAddress where, ParseMetricsAddress("127.0.0.1:0"));
//   POLIS_ASSIGN_OR_RETURN(auto server, MetricsServer::Start(where, *node));
//   std::cout << server->url() << "\n";  // http://127.0.0.1:40411/metrics
#ifndef POLIS_TELEMETRY_METRICS_SERVER_H_
#define POLIS_TELEMETRY_METRICS_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/node.h"

namespace httplib {
class Server;
}

namespace polis::telemetry {

// Where to serve: a host (name, IPv4, or IPv6 without brackets) and a port
// (0: any free one, for tests).
struct MetricsAddress {
  std::string host;
  int port = 0;
};

// "HOST:PORT", "[IPV6]:PORT", or ":PORT" (all interfaces, 0.0.0.0).
// INVALID_ARGUMENT saying what is wrong and what is expected otherwise.
absl::StatusOr<MetricsAddress> ParseMetricsAddress(std::string_view text);

class MetricsServer {
 public:
  // HTTP worker threads.
  static constexpr int kWorkers = 2;

  // Binds `address` and serves `render()` at /metrics on threads of its
  // own. UNAVAILABLE if it cannot be bound (address in use, not local, no
  // permission).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const MetricsAddress& address,
                                                              std::function<std::string()> render);
  // Serves `node`'s metrics.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const MetricsAddress& address,
                                                              const Node& node);

  // Stops serving (a scrape in progress finishes) and joins the threads.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port bound (the one chosen for port 0).
  int port() const { return port_; }
  // "http://HOST:PORT/metrics" (IPv6 hosts in brackets).
  std::string url() const;

 private:
  MetricsServer(std::string host, int port, std::unique_ptr<httplib::Server> server);

  const std::string host_;
  const int port_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace polis::telemetry

#endif  // POLIS_TELEMETRY_METRICS_SERVER_H_
