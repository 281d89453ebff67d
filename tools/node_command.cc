// tools/node_command.cc — see node_command.h.
#include "tools/node_command.h"

#include <signal.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "genserver/server_kinds.h"

namespace polis::tools {
namespace {

constexpr absl::Duration kJoinTimeout = absl::Seconds(5);

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> StartNode(const NodeConfig& config) {
  NodeOptions options;
  options.name = config.name();
  options.listen = config.listen();
  options.seeds.assign(config.seeds().begin(), config.seeds().end());
  options.scheduler_threads = config.threads();
  if (config.max_message_bytes() > 0) options.max_message_bytes = config.max_message_bytes();
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Create(std::move(options));
  if (!node.ok()) return node.status();
  // Join before registering names: the cluster then hears of them, and a
  // name taken elsewhere is refused (ALREADY_EXISTS).
  if (config.seeds_size() > 0) {
    // Not fatal: a node may start before its seeds; it keeps trying.
    if (absl::Status s = (*node)->Join(kJoinTimeout); !s.ok()) {
      std::cerr << "node " << (*node)->name() << ": warning: " << s << std::endl;
    }
  }
  for (const ServeSpec& spec : config.serve()) {
    const std::string name = spec.name().empty() ? spec.kind() : spec.name();
    absl::StatusOr<std::unique_ptr<Behaviour>> server = ServerKinds::Create(spec.kind(), spec.args());
    absl::StatusOr<Pid> pid = server.ok() ? (*node)->Spawn(std::move(*server),
                                                           {.name = name, .kind = spec.kind()})
                                          : absl::StatusOr<Pid>(server.status());
    if (!pid.ok()) {
      return absl::Status(pid.status().code(), absl::StrCat("serve ", spec.kind(), ":", name, ": ",
                                                            pid.status().message()));
    }
  }
  return node;
}

absl::Status RunNode(const NodeConfig& config) {
  // Block the stop signals before any thread starts, so that every node
  // thread inherits the mask and only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<std::unique_ptr<Node>> node = StartNode(config);
  if (!node.ok()) return node.status();
  std::cout << "node " << (*node)->name() << " listening on "
            << ((*node)->endpoint().empty() ? "(nothing)" : (*node)->endpoint()) << std::endl;

  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cerr << "node " << (*node)->name() << ": " << (signal == SIGINT ? "SIGINT" : "SIGTERM")
            << ", shutting down" << std::endl;
  (*node)->Shutdown();
  return absl::OkStatus();
}

}  // namespace polis::tools
