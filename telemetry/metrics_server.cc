// telemetry/metrics_server.cc — see metrics_server.h.
#include "telemetry/metrics_server.h"

#include <httplib.h>
#include <pthread.h>
#include <sys/socket.h>

#include <charconv>
#include <utility>

#include "absl/strings/str_cat.h"
#include "telemetry/prometheus_metrics.h"
#include "telemetry/prometheus_text.h"

namespace polis::telemetry {
namespace {

constexpr char kThreadName[] = "polis-metrics";
constexpr char kExpected[] = " (expected HOST:PORT, [IPV6]:PORT or :PORT, PORT in 0..65535)";

absl::Status BadAddress(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("metrics address \"", std::string(text), "\": ", std::string(why), kExpected));
}

}  // namespace

absl::StatusOr<MetricsAddress> ParseMetricsAddress(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return BadAddress(text, "no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return BadAddress(text, "unclosed [");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return BadAddress(text, "an IPv6 host goes in brackets");
  }
  MetricsAddress out;
  out.host = host.empty() ? "0.0.0.0" : std::string(host);
  const std::from_chars_result r =
      std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || out.port < 0 ||
      out.port > 65535) {
    return BadAddress(text, absl::StrCat("bad port \"", std::string(port), "\""));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const MetricsAddress& address, std::function<std::string()> render) {
  auto server = std::make_unique<httplib::Server>();
  // httplib's default sets SO_REUSEPORT, which would let a second node bind
  // the same port and take half the scrapes: only SO_REUSEADDR here.
  server->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server->new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  // One scrape per connection: an idle client cannot hold a worker.
  server->set_keep_alive_max_count(1);
  server->Get("/metrics",
              [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
                res.set_content(render(), kPrometheusContentType);
              });
  // Anything else: 404 for a GET (httplib's default), 405 for other methods.
  auto not_allowed = [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "GET");
  };
  server->Post(".*", not_allowed);
  server->Put(".*", not_allowed);
  server->Delete(".*", not_allowed);
  server->Patch(".*", not_allowed);

  int port = address.port;
  if (port == 0) {
    port = server->bind_to_any_port(address.host);
  } else if (!server->bind_to_port(address.host, port)) {
    port = -1;
  }
  if (port < 0) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address.host, ":",
                                               address.port,
                                               " (address in use, not local, or not allowed)"));
  }
  std::unique_ptr<MetricsServer> out(new MetricsServer(address.host, port, std::move(server)));
  httplib::Server* raw = out->server_.get();
  out->thread_ = std::thread([raw] {
    // The pool's threads, started by listen_after_bind, inherit the name.
    pthread_setname_np(pthread_self(), kThreadName);
    raw->listen_after_bind();
  });
  // stop() is a no-op until the server runs: wait for it (microseconds),
  // so that the destructor always finds it running.
  while (!raw->is_running()) std::this_thread::yield();
  return out;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const MetricsAddress& address,
                                                                    const Node& node) {
  return Start(address, [&node] { return PrometheusMetrics(node.Metrics()); });
}

MetricsServer::MetricsServer(std::string host, int port, std::unique_ptr<httplib::Server> server)
    : host_(std::move(host)), port_(port), server_(std::move(server)) {}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string MetricsServer::url() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return absl::StrCat("http://", v6 ? "[" : "", host_, v6 ? "]" : "", ":", port_, "/metrics");
}

}  // namespace polis::telemetry
