// telemetry/otlp_test_collector.h — test-only: a small OTLP/HTTP collector
// in the test process (httplib::Server on 127.0.0.1, a free port), which
// records every request it gets and answers with the status the test
// chooses.
//
// DeadPort is the other case: a loopback endpoint where nothing listens.
//
// Thread-safety: thread-safe (the server's threads record; the test reads).
//
// Example:
//   TestCollector collector;                  // listening once constructed
//   collector.AnswerWith([](int n) { return n < 3 ? 503 : 200; });
//   auto sink = OtlpHttpSink::Create(collector.endpoint());
//   ASSERT_TRUE(collector.WaitForRequests(4));
#ifndef POLIS_TELEMETRY_OTLP_TEST_COLLECTOR_H_
#define POLIS_TELEMETRY_OTLP_TEST_COLLECTOR_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "httplib.h"

namespace polis::telemetry::testing {

class TestCollector {
 public:
  struct Request {
    std::string method, path, content_type, body;
  };

  TestCollector() {
    server_.set_tcp_nodelay(true);
    port_ = server_.bind_to_any_port("127.0.0.1");
    // The socket listens from here on: connections wait in its backlog
    // until the thread below accepts them.
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      Handle(req, res);
    });
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~TestCollector() {
    Release();
    server_.stop();
    thread_.join();
  }
  TestCollector(const TestCollector&) = delete;
  TestCollector& operator=(const TestCollector&) = delete;

  bool listening() const { return port_ > 0; }
  std::string endpoint() const { return absl::StrCat("http://127.0.0.1:", port_); }

  // The HTTP status for the n-th request (from 0); 200 by default.
  void AnswerWith(std::function<int(int)> status) {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
  }
  // Requests wait (unanswered) until Release: a collector that hangs.
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }

  std::vector<Request> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  // Waits until at least `n` requests came in; false after `timeout`.
  bool WaitForRequests(size_t n, absl::Duration timeout = absl::Seconds(10)) const {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return requests_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  void Handle(const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    requests_.push_back(Request{.method = req.method,
                                .path = req.path,
                                .content_type = req.get_header_value("Content-Type"),
                                .body = req.body});
    const int n = static_cast<int>(requests_.size()) - 1;
    mu_.Await(absl::Condition(
        +[](bool* held) { return !*held; }, &held_));
    res.status = status_ ? status_(n) : 200;
    res.set_content(res.status == 200 ? "{}" : "{\"message\":\"test says no\"}",
                    "application/json");
  }

  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
  std::function<int(int)> status_ ABSL_GUARDED_BY(mu_);
  bool held_ ABSL_GUARDED_BY(mu_) = false;
};

// A loopback port nothing listens on: bound (so no one else gets it) but
// never listen()ed, so a connection to it is refused at once.
class DeadPort {
 public:
  DeadPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      socklen_t len = sizeof(addr);
      getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
      port_ = ntohs(addr.sin_port);
    }
  }
  ~DeadPort() { close(fd_); }
  DeadPort(const DeadPort&) = delete;
  DeadPort& operator=(const DeadPort&) = delete;
  std::string endpoint() const { return absl::StrCat("http://127.0.0.1:", port_); }

 private:
  int fd_;
  int port_ = 0;
};

}  // namespace polis::telemetry::testing

#endif  // POLIS_TELEMETRY_OTLP_TEST_COLLECTOR_H_
