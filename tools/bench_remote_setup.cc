// tools/bench_remote_setup.cc — see bench_remote_setup.h.
#include "tools/bench_remote_setup.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bus/authorized_keys.h"
#include "bus/curve_keys.h"
#include "tools/bench.h"

namespace polis::tools {

absl::StatusOr<RemoteSetup> ConnectPeer(const std::string& transport, bool curve) {
  RemoteSetup setup;
  std::vector<std::string> argv = {"/proc/self/exe", kBenchPeerCommand, "--transport=" + transport};
  bus::CurveKeyPair own;
  if (curve) {
    absl::StatusOr<bus::CurveKeyPair> k = bus::GenerateCurveKeyPair();
    if (!k.ok()) return k.status();
    own = *k;
    argv.push_back("--authorize=" + own.public_key);
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> peer = ChildProcess::Start(argv, absl::Seconds(10));
  if (!peer.ok()) return peer.status();
  setup.peer = std::move(*peer);
  std::vector<std::string> ready = absl::StrSplit(setup.peer->first_line(), ' ');
  if (ready.size() != (curve ? 4u : 3u) || ready[0] != "ready") {
    return absl::InternalError(absl::StrCat("bench peer said: ", setup.peer->first_line()));
  }
  const std::string listen = transport == "ipc"
                                 ? absl::StrCat("ipc:///tmp/polis-bench-", getpid(), "-main")
                                 : "tcp://127.0.0.1:*";
  NodeOptions options;
  options.name = absl::StrCat("bench-main-", transport);
  options.listen = listen;
  options.seeds = {ready[1]};
  options.trace.sampler = Sampler::Never();
  if (curve) {
    options.name += "-curve";
    absl::StatusOr<std::shared_ptr<const bus::AuthorizedKeys>> authorized =
        bus::AuthorizedKeys::Parse("node " + ready[3] + " bench peer\n", "bench");
    if (!authorized.ok()) return authorized.status();
    options.curve = std::make_shared<bus::CurveSecurity>(own, *authorized, ready[3]);
  }
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Create(std::move(options));
  if (!node.ok()) return node.status();
  setup.node = std::move(*node);
  if (absl::Status s = setup.node->Join(absl::Seconds(10)); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<ZmqClient>> zmq = ZmqClient::Connect(ready[2]);
  if (!zmq.ok()) return zmq.status();
  setup.zmq = std::move(*zmq);
  return setup;
}

absl::StatusOr<std::vector<double>> PolisRoundTrips(Node& node, int n, bool sampled,
                                                    int64_t payload_bytes) {
  const google::protobuf::BytesValue payload = BenchPayload(payload_bytes);
  std::vector<double> lat;
  lat.reserve(n);
  for (int i = 0; i < n; ++i) {
    TraceContext trace = node.StartTrace();
    trace.sampled = sampled;
    ScopedTrace scope(trace);
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<Message> reply = node.CallRaw("pong", payload);
    if (!reply.ok()) return reply.status();
    lat.push_back(MicrosSince(start));
  }
  return lat;
}

}  // namespace polis::tools
