// `polis node --metrics` with real processes: Debian's promtool accepts what
// a node serves, a real Prometheus (started here, scraping every second)
// scraping a 2-node cluster sees exactly the calls a client made and a
// supervised restart, and bad --metrics values fail clearly.
//
// No sleeps: the Prometheus query is repeated until it answers the expected
// value, within a deadline (tests/wait.h).
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "examples/examples.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/node_fixtures.h"
#include "tests/node_process.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"
#include "tools/child_process.h"

namespace polis::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kPromtool[] = "/usr/bin/promtool";
constexpr char kPrometheus[] = "/usr/bin/prometheus";
// Prometheus's start (its TSDB) and a few scrapes, on a loaded machine.
constexpr absl::Duration kPrometheusWait = absl::Seconds(60);

// A node started with --metrics=127.0.0.1:0, and the port it reported.
struct MetricsNode {
  std::unique_ptr<NodeProcess> process;
  int port = 0;
};

absl::StatusOr<MetricsNode> StartWithMetrics(NodeProcessOptions options) {
  options.extra_args.push_back("--metrics=127.0.0.1:0");
  MetricsNode n;
  absl::StatusOr<std::unique_ptr<NodeProcess>> p = NodeProcess::Start(options);
  if (!p.ok()) return p.status();
  n.process = *std::move(p);
  absl::StatusOr<std::string> line = n.process->ReadLine();
  if (!line.ok()) return line.status();
  const std::string prefix =
      absl::StrCat("node ", options.name, " serves metrics at http://127.0.0.1:");
  absl::string_view rest = *line;
  if (!absl::ConsumePrefix(&rest, prefix) || !absl::ConsumeSuffix(&rest, "/metrics") ||
      !absl::SimpleAtoi(rest, &n.port)) {
    return absl::InternalError(absl::StrCat("unexpected line \"", *line, "\""));
  }
  return n;
}

std::string Scrape(int port) {
  httplib::Client client("127.0.0.1", port);
  httplib::Result r = client.Get("/metrics");
  EXPECT_TRUE(r) << "GET /metrics on port " << port;
  if (!r) return "";
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->get_header_value("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
  return r->body;
}

// promtool check metrics < `body`: its result.
ProcessResult Promtool(const ScratchDir& dir, const std::string& body) {
  const std::string file = dir.File("metrics.txt");
  std::ofstream(file) << body;
  absl::StatusOr<ProcessResult> r = RunProcess(
      {"/bin/sh", "-c", absl::StrCat(kPromtool, " check metrics < ", file)}, absl::Seconds(30));
  EXPECT_THAT(r, IsOk());
  return r.value_or(ProcessResult());
}

// A port nothing listens on right now (the kernel's pick; released at once).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// Prometheus on 127.0.0.1, scraping `targets` every second, its data in
// `dir`. Stopped (SIGTERM, then SIGKILL) when destroyed.
struct Prometheus {
  std::unique_ptr<tools::ChildProcess> process;
  int port = 0;

  static absl::StatusOr<Prometheus> Start(const ScratchDir& dir, const std::vector<int>& targets) {
    std::string list;
    for (int t : targets) absl::StrAppend(&list, list.empty() ? "" : ", ", "'127.0.0.1:", t, "'");
    const std::string config = dir.File("prometheus.yml");
    std::ofstream(config) << "global:\n"
                             "  scrape_interval: 1s\n"
                             "  scrape_timeout: 1s\n"
                             "scrape_configs:\n"
                             "  - job_name: polis\n"
                             "    static_configs:\n"
                             "      - targets: ["
                          << list << "]\n";
    Prometheus p;
    p.port = FreePort();
    // sh prints the ready line ChildProcess waits for, then becomes
    // Prometheus (same pid: the stop signal reaches it); its log goes to a
    // file in the scratch dir.
    absl::StatusOr<std::unique_ptr<tools::ChildProcess>> child = tools::ChildProcess::Start(
        {"/bin/sh", "-c",
         absl::StrCat("echo started; exec ", kPrometheus, " --config.file=", config,
                      " --storage.tsdb.path=", dir.File("tsdb"),
                      " --web.listen-address=127.0.0.1:", p.port, " 2> ", dir.File("prom.log"))},
        absl::Seconds(10));
    if (!child.ok()) return child.status();
    p.process = *std::move(child);
    return p;
  }

  // The value of instant query `query` if it returns exactly one sample.
  absl::StatusOr<double> Query(const std::string& query) const {
    httplib::Client client("127.0.0.1", port);
    httplib::Result r =
        client.Get("/api/v1/query", httplib::Params{{"query", query}}, httplib::Headers{});
    if (!r) return absl::UnavailableError(httplib::to_string(r.error()));
    if (r->status != 200) return absl::UnavailableError(absl::StrCat(r->status, " ", r->body));
    google::protobuf::Struct s;
    if (!google::protobuf::util::JsonStringToMessage(r->body, &s).ok()) {
      return absl::InternalError(r->body);
    }
    const auto& result =
        s.fields().at("data").struct_value().fields().at("result").list_value().values();
    if (result.size() != 1) {
      return absl::NotFoundError(absl::StrCat(result.size(), " samples: ", r->body));
    }
    const std::string& text =
        result[0].struct_value().fields().at("value").list_value().values(1).string_value();
    double v = 0;
    if (!absl::SimpleAtod(text, &v)) return absl::InternalError(r->body);
    return v;
  }

  // Waits until `query` answers `want`; the last answer otherwise.
  absl::StatusOr<double> AwaitValue(const std::string& query, double want) const {
    absl::StatusOr<double> got = absl::UnavailableError("not asked yet");
    WaitFor(
        [&] {
          got = Query(query);
          return got.ok() && *got == want;
        },
        kPrometheusWait);
    return got;
  }
};

class MetricsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kPromtool, X_OK) != 0 || access(kPrometheus, X_OK) != 0) {
      // CI installs them (tools/dev.sh); a missing one is a broken set-up.
      FAIL() << kPromtool << " and " << kPrometheus
             << " are needed: apt-get install prometheus (tools/dev.sh does)";
    }
    absl::StatusOr<std::unique_ptr<ScratchDir>> dir = ScratchDir::Create("polis-metrics");
    ASSERT_THAT(dir, IsOk());
    dir_ = *std::move(dir);
  }
  std::unique_ptr<ScratchDir> dir_;
};

TEST_F(MetricsE2eTest, PromtoolAcceptsWhatANodeServes) {
  absl::StatusOr<MetricsNode> a =
      StartWithMetrics({.name = "a", .listen = "tcp://127.0.0.1:*", .serve = {"counter", "kv"}});
  ASSERT_THAT(a, IsOk());
  ASSERT_EQ(
      Polis({"call", "--seed=" + a->process->endpoint(), "counter", R"({"add": 2})"}).exit_code, 0);
  const std::string body = Scrape(a->port);
  EXPECT_THAT(body, HasSubstr("polis_server_messages_total{node=\"a\",server=\"counter\","
                              "kind=\"counter\",message_kind=\"call\"} 1\n"));
  const ProcessResult check = Promtool(*dir_, body);
  EXPECT_EQ(check.exit_code, 0) << check.Summary() << "\n" << body;
  EXPECT_THAT(a->process->Stop(), IsOk());
}

TEST_F(MetricsE2eTest, PrometheusScrapesATwoNodeClusterAndSeesTheCallsMade) {
  absl::StatusOr<MetricsNode> a =
      StartWithMetrics({.name = "a", .listen = "tcp://127.0.0.1:*", .serve = {"kv"}});
  ASSERT_THAT(a, IsOk());
  absl::StatusOr<MetricsNode> b = StartWithMetrics({.name = "b",
                                                    .listen = "tcp://127.0.0.1:*",
                                                    .seeds = {a->process->endpoint()},
                                                    .serve = {"counter", "counter:crashy"}});
  ASSERT_THAT(b, IsOk());
  absl::StatusOr<Prometheus> prom = Prometheus::Start(*dir_, {a->port, b->port});
  ASSERT_THAT(prom, IsOk());

  // 37 calls from a client node that joined through a; the counter is on b.
  absl::StatusOr<std::unique_ptr<Node>> client =
      StartJoinedNode({.name = "client", .seeds = {a->process->endpoint()}, .client = true});
  ASSERT_THAT(client, IsOk());
  ASSERT_THAT(AwaitName(**client, "counter"), IsOk());
  examples::CounterRequest add;
  add.set_add(1);
  constexpr int kCalls = 37;
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_THAT((*client)->Call<examples::CounterReply>("counter", add), IsOk());
  }
  // And one crash of a supervised server: restarted by b's root supervisor.
  examples::CounterRequest crash;
  crash.mutable_crash();
  EXPECT_THAT((*client)->Call<examples::CounterReply>("crashy", crash),
              StatusIs(absl::StatusCode::kInternal));
  (*client)->Shutdown();

  EXPECT_THAT(prom->AwaitValue("polis_server_calls_answered_total{node=\"b\",server=\"counter\","
                               "code=\"OK\"}",
                               kCalls),
              IsOkAndHolds(kCalls));
  EXPECT_THAT(prom->AwaitValue("polis_server_messages_total{node=\"b\",server=\"counter\","
                               "message_kind=\"call\"}",
                               kCalls),
              IsOkAndHolds(kCalls));
  EXPECT_THAT(prom->AwaitValue("polis_server_restarts_total{node=\"b\",server=\"crashy\"}", 1),
              IsOkAndHolds(1));
  // Each node sees the other up, and both were scraped.
  EXPECT_THAT(prom->AwaitValue("polis_peer_up{node=\"a\",peer=\"b\"}", 1), IsOkAndHolds(1));
  EXPECT_THAT(prom->AwaitValue("polis_peer_up{node=\"b\",peer=\"a\"}", 1), IsOkAndHolds(1));
  EXPECT_THAT(prom->AwaitValue("count(up{job=\"polis\"} == 1)", 2), IsOkAndHolds(2));
  // The client's calls reached b over the client's own connection: at b
  // they count as traffic from non-members (peer="").
  EXPECT_THAT(prom->AwaitValue("polis_peer_received_messages_total{node=\"b\",peer=\"\"} >= bool " +
                                   std::to_string(kCalls),
                               1),
              IsOkAndHolds(1));

  // b dies: a declares it down and keeps greeting it, a member that is down.
  b->process->Kill();
  EXPECT_THAT(prom->AwaitValue("polis_peer_up{node=\"a\",peer=\"b\"}", 0), IsOkAndHolds(0));

  prom->process.reset();  // Stop Prometheus before the node it scrapes.
  EXPECT_THAT(a->process->Stop(), IsOk());
}

TEST_F(MetricsE2eTest, ABadMetricsAddressIsAUsageErrorAndABusyPortFailsTheNode) {
  for (const char* bad : {"--metrics=9464", "--metrics=localhost:http", "--metrics=h:70000"}) {
    const ProcessResult r = Polis({"node", "--name=x", bad});
    EXPECT_EQ(r.exit_code, 2) << r.Summary();
    EXPECT_THAT(r.err, HasSubstr("--metrics")) << r.Summary();
    EXPECT_THAT(r.err, HasSubstr("expected HOST:PORT")) << r.Summary();
  }
  const std::string config = dir_->File("node.textproto");
  std::ofstream(config) << "name: \"x\"\nmetrics: \"nowhere\"\n";
  const ProcessResult from_file = Polis({"node", "--config=" + config});
  EXPECT_EQ(from_file.exit_code, 2) << from_file.Summary();
  EXPECT_THAT(from_file.err, HasSubstr("expected HOST:PORT"));

  absl::StatusOr<MetricsNode> a = StartWithMetrics({.name = "a", .listen = "tcp://127.0.0.1:*"});
  ASSERT_THAT(a, IsOk());
  const ProcessResult busy = Polis({"node", "--name=y", "--listen=tcp://127.0.0.1:*",
                                    absl::StrCat("--metrics=127.0.0.1:", a->port)});
  EXPECT_EQ(busy.exit_code, 1) << busy.Summary();
  EXPECT_THAT(busy.err, HasSubstr("UNAVAILABLE: cannot serve metrics on 127.0.0.1:"))
      << busy.Summary();
  EXPECT_THAT(a->process->Stop(), IsOk());
}

}  // namespace
}  // namespace polis::testing
