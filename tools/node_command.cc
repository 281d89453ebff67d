// tools/node_command.cc — see node_command.h.
#include "tools/node_command.h"

#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "bus/authorized_keys.h"
#include "bus/curve_keys.h"
#include "genserver/supervisor.h"
#include "tools/node_config.h"

namespace polis::tools {
namespace {

constexpr absl::Duration kJoinTimeout = absl::Seconds(5);

const char* SignalName(int signal) { return signal == SIGINT ? "SIGINT" : "SIGTERM"; }

// Stops the exporter and says on stderr what it did.
void StopExporter(const std::string& node, telemetry::SpanExporter& exporter) {
  exporter.Stop();
  const telemetry::SpanExportStats s = exporter.stats();
  std::cerr << "node " << node << ": spans exported:";
  if (s.has_file) std::cerr << " file " << s.file.exported_spans;
  if (s.has_http) std::cerr << " otlp_http " << s.otlp_http.exported_spans;
  std::cerr << "; dropped: " << s.missed_spans << " missed in the store";
  if (s.has_file) std::cerr << ", file " << s.file.dropped_spans;
  if (s.has_http) std::cerr << ", otlp_http " << s.otlp_http.dropped_spans;
  std::cerr << std::endl;
}

}  // namespace

void ReloadKeysOnSignal(const NodeConfig& config, const std::string& node_name,
                        bus::CurveSecurity* curve) {
  if (curve == nullptr) {
    std::cerr << "node " << node_name
              << ": SIGHUP: no authorized keys to reload (the node runs without --key)"
              << std::endl;
    return;
  }
  const std::string& path = config.authorized_keys_file();
  absl::StatusOr<bus::AuthorizedKeysChange> c = bus::ReloadAuthorizedKeys(*curve, path);
  if (!c.ok()) {
    std::cerr << "node " << node_name << ": error: authorized keys not reloaded (keeping the "
              << curve->authorized()->size() << " in use): " << c.status().message()
              << std::endl;
    return;
  }
  std::cerr << "node " << node_name << ": authorized keys reloaded: " << c->keys << " keys (+"
            << c->added << " -" << c->removed << ")" << std::endl;
}

absl::StatusOr<std::unique_ptr<telemetry::SpanExporter>> CreateSpanExporter(
    const NodeConfig& config) {
  if (config.trace_file().empty() && config.otlp_endpoint().empty()) {
    return std::unique_ptr<telemetry::SpanExporter>();
  }
  return telemetry::SpanExporter::Create(
      {.trace_file = config.trace_file(), .otlp_endpoint = config.otlp_endpoint()});
}

absl::StatusOr<StartedNode> StartNode(const NodeConfig& config,
                                      std::unique_ptr<telemetry::SpanExporter> exporter) {
  absl::StatusOr<supervision::SupervisorSpec> root = RootSupervisorSpec(config);
  if (!root.ok()) return root.status();
  NodeOptions options;
  options.name = config.name();
  options.listen = config.listen();
  options.advertise = config.advertise();
  if (!config.key_file().empty()) {
    absl::StatusOr<bus::CurveKeyPair> own = bus::LoadCurveSecretKeyFile(config.key_file());
    if (!own.ok()) return own.status();
    absl::StatusOr<std::shared_ptr<const bus::AuthorizedKeys>> authorized =
        bus::AuthorizedKeys::LoadFile(config.authorized_keys_file());
    if (!authorized.ok()) return authorized.status();
    std::string default_key;
    if (!config.server_key().empty()) {
      absl::StatusOr<std::string> k = bus::LoadCurvePublicKey(config.server_key());
      if (!k.ok()) return k.status();
      default_key = *k;
    }
    options.curve = std::make_shared<bus::CurveSecurity>(*own, *authorized, default_key);
  }
  for (const std::string& seed : config.seeds()) {
    auto [endpoint, key] = SplitSeedKey(seed);
    if (!key.empty()) {
      absl::StatusOr<std::string> k = bus::LoadCurvePublicKey(key);
      if (!k.ok()) return k.status();
      if (options.curve != nullptr) {
        if (absl::Status s = options.curve->SetServerKey(endpoint, *k); !s.ok()) return s;
      }
    }
    options.seeds.push_back(endpoint);
  }
  if (config.insecure() && !ListensOnlyLocally(config.listen())) {
    POLIS_LOG(WARNING) << "polis: node " << config.name() << " listens on " << config.listen()
                       << " with --insecure: no authentication, no encryption; anyone who "
                          "reaches it can call, stop or reconfigure any server";
  }
  options.scheduler_threads = config.threads();
  if (config.max_message_bytes() > 0) options.max_message_bytes = config.max_message_bytes();
  if (config.failure_timeout_ms() > 0) {
    options.failure_timeout = absl::Milliseconds(config.failure_timeout_ms());
    options.heartbeat_interval = std::min(absl::Milliseconds(100), options.failure_timeout / 4);
  }
  if (!config.trace_sample().empty()) {
    absl::StatusOr<Sampler> sampler = Sampler::Parse(config.trace_sample());
    if (!sampler.ok()) return sampler.status();
    options.trace.sampler = *sampler;
  }
  if (config.trace_buffer_spans() > 0) {
    options.trace.max_spans = static_cast<size_t>(config.trace_buffer_spans());
  }
  std::shared_ptr<bus::CurveSecurity> curve = options.curve;
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Create(std::move(options));
  if (!node.ok()) return node.status();
  // From here on, the spans of everything the node does are exported.
  if (exporter != nullptr) exporter->Start(**node);
  std::unique_ptr<telemetry::MetricsServer> metrics;
  if (!config.metrics().empty()) {
    absl::StatusOr<telemetry::MetricsAddress> where =
        telemetry::ParseMetricsAddress(config.metrics());
    if (!where.ok()) return where.status();
    absl::StatusOr<std::unique_ptr<telemetry::MetricsServer>> server =
        telemetry::MetricsServer::Start(*where, **node);
    if (!server.ok()) return server.status();
    metrics = *std::move(server);
  }
  // Join before registering names: the cluster then hears of them, and a
  // name taken elsewhere is refused (ALREADY_EXISTS).
  if (config.seeds_size() > 0) {
    // Not fatal: a node may start before its seeds; it keeps trying.
    if (absl::Status s = (*node)->Join(kJoinTimeout); !s.ok()) {
      std::cerr << "node " << (*node)->name() << ": warning: " << s << std::endl;
    }
  }
  StartedNode started{.node = *std::move(node),
                      .curve = std::move(curve),
                      .root = RootName(config),
                      .stop = std::make_shared<NodeStop>(),
                      .exporter = std::move(exporter)};
  started.metrics = std::move(metrics);
  if (absl::Status s = StartRoot(*started.node, *root, started.root, started.stop); !s.ok()) {
    return s;
  }
  return started;
}

absl::Status RunNode(const NodeConfig& config,
                     std::unique_ptr<telemetry::SpanExporter> exporter) {
  // Block the stop signals (and SIGHUP) before any thread starts, so that
  // every node thread inherits the mask and only the sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<StartedNode> started = StartNode(config, std::move(exporter));
  if (!started.ok()) return started.status();
  Node& node = *started->node;
  std::cout << "node " << node.name() << " listening on "
            << (node.endpoint().empty() ? "(nothing)" : node.endpoint()) << std::endl;
  if (started->metrics) {
    std::cout << "node " << node.name() << " serves metrics at " << started->metrics->url()
              << std::endl;
  }

  std::shared_ptr<NodeStop> stop = started->stop;
  std::thread signals([&stop_signals, stop, &config, &node, curve = started->curve] {
    int signal = 0;
    while (sigwait(&stop_signals, &signal) == 0) {
      if (signal == SIGHUP) {
        ReloadKeysOnSignal(config, node.name(), curve.get());
        continue;
      }
      stop->SignalReceived(signal);
      return;
    }
  });
  const NodeStop::Cause cause = stop->Wait();

  absl::Status result;
  const std::string& root = started->root;
  if (cause.signal != 0) {
    std::cerr << "node " << node.name() << ": " << SignalName(cause.signal)
              << ", stopping the supervision tree '" << root << "'" << std::endl;
    if (absl::Status s = Supervisor::ShutdownTree(node, root); !s.ok()) {
      std::cerr << "node " << node.name() << ": warning: stopping '" << root << "': " << s
                << std::endl;
    } else {
      std::cerr << "node " << node.name() << ": supervision tree '" << root << "' stopped"
                << std::endl;
    }
  } else if (cause.root_reason.ok()) {
    std::cerr << "node " << node.name() << ": root supervisor '" << root
              << "' stopped, shutting down" << std::endl;
  } else {
    // As far as escalation goes: the node gives up, like an OTP node whose
    // application's top supervisor died.
    result = absl::AbortedError(absl::StrCat("node ", node.name(), ": root supervisor '", root,
                                             "' failed: ", cause.root_reason.message()));
    std::cerr << "node " << node.name() << ": root supervisor '" << root
              << "' failed, shutting down" << std::endl;
  }
  started->metrics.reset();  // No scrape while the node shuts down.
  // What the node recorded until now (the tree's shutdown included) is
  // exported before the node goes.
  if (started->exporter != nullptr) StopExporter(node.name(), *started->exporter);
  node.Shutdown();
  // Wake the signal thread if the root ended first (the signal is blocked,
  // so it is delivered to that thread's sigwait, not acted upon).
  if (cause.signal == 0) pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  return result;
}

}  // namespace polis::tools
