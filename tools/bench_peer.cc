// tools/bench_peer.cc — `polis bench-peer`: the second process of
// `polis bench remote`. Hosts a polis node (servers "pong": echo, "sink":
// counts casts) and a raw ZeroMQ echo server on the same transport, prints
//   ready POLIS_ENDPOINT ZMQ_ENDPOINT [PUBLIC_KEY]
// (with --authorize=Z85 its node runs CurveZMQ with a fresh keypair, admits
// that one key as a node, and prints its own public key), and runs until its
// stdin closes (the parent went away) or SIGTERM/SIGINT. With --idle (the
// subject of `bench scale`'s idle CPU figure) it serves no raw ZeroMQ echo,
// whose polling thread would be part of what is measured, and prints
//   ready POLIS_ENDPOINT NODE_NAME
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bus/authorized_keys.h"
#include "bus/curve_keys.h"
#include "examples/echo.h"
#include "node/node.h"
#include "tools/args.h"
#include "tools/bench.h"
#include "tools/bench_servers.h"
#include "tools/bench_zmq.h"

namespace polis::tools {

absl::Status RunBenchPeer(const std::vector<std::string>& argv) {
  absl::StatusOr<ParsedArgs> args =
      ParseArgs(argv, {{"transport", FlagKind::kValue},
                       {"authorize", FlagKind::kValue},
                       {"idle", FlagKind::kBool}});
  if (!args.ok()) return args.status();
  const std::string transport = args->Get("transport", "tcp");
  std::string polis_endpoint = "tcp://127.0.0.1:*";
  std::string zmq_endpoint = "tcp://127.0.0.1:*";
  if (transport == "ipc") {
    polis_endpoint = absl::StrCat("ipc:///tmp/polis-bench-", getpid(), "-node");
    zmq_endpoint = absl::StrCat("ipc:///tmp/polis-bench-", getpid(), "-zmq");
  } else if (transport != "tcp") {
    return absl::InvalidArgumentError(absl::StrCat("--transport: tcp or ipc, not ", transport));
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  NodeOptions options;
  options.name = absl::StrCat("bench-peer-", transport);
  options.listen = polis_endpoint;
  std::string public_key;
  if (args->Has("authorize")) {
    absl::StatusOr<bus::CurveKeyPair> own = bus::GenerateCurveKeyPair();
    if (!own.ok()) return own.status();
    absl::StatusOr<std::shared_ptr<const bus::AuthorizedKeys>> authorized =
        bus::AuthorizedKeys::Parse("node " + args->Get("authorize") + " bench main\n", "--authorize");
    if (!authorized.ok()) return authorized.status();
    public_key = own->public_key;
    options.curve = std::make_shared<bus::CurveSecurity>(*own, *authorized);
  }
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Create(std::move(options));
  if (!node.ok()) return node.status();
  if (auto s = (*node)->Spawn(std::make_unique<examples::Echo>(), {.name = "pong", .kind = "echo"}); !s.ok()) {
    return s.status();
  }
  if (auto s = (*node)->Spawn(std::make_unique<Sink>(), {.name = "sink", .kind = "sink"}); !s.ok()) {
    return s.status();
  }
  std::unique_ptr<ZmqEchoServer> zmq;
  if (args->Has("idle")) {
    std::cout << "ready " << (*node)->endpoint() << " " << (*node)->name() << std::endl;
  } else {
    absl::StatusOr<std::unique_ptr<ZmqEchoServer>> started = ZmqEchoServer::Start(zmq_endpoint);
    if (!started.ok()) return started.status();
    zmq = std::move(*started);
    std::cout << "ready " << (*node)->endpoint() << " " << zmq->endpoint()
              << (public_key.empty() ? "" : " " + public_key) << std::endl;
  }

  // EOF on stdin: the parent is gone or done. Turn it into a SIGTERM.
  std::thread stdin_watch([] {
    char buffer[64];
    while (read(STDIN_FILENO, buffer, sizeof(buffer)) > 0) {
    }
    kill(getpid(), SIGTERM);
  });
  stdin_watch.detach();
  int signal = 0;
  sigwait(&stop_signals, &signal);
  (*node)->Shutdown();
  zmq.reset();
  if (transport == "ipc") {
    unlink(polis_endpoint.substr(6).c_str());
    unlink(zmq_endpoint.substr(6).c_str());
  }
  return absl::OkStatus();
}

}  // namespace polis::tools
