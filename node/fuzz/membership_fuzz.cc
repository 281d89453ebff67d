// node/fuzz/membership_fuzz.cc — libFuzzer target: the membership handshake
// as a hostile peer drives it (Hello, NamesChanged, Members, Goodbye system
// messages; node/internal/membership.*), against a real Node.
//
// One input is a sequence of system messages, each
//   [selector][length: 2 bytes big-endian][payload: length bytes]
// where selector % 4 picks the type (Hello, NamesChanged, Members, Goodbye)
// and the payload is the serialized message as the peer would send it
// (parsable or not). A fresh in-process Node (one scheduler thread,
// InProcTransport) receives them from a transport of the fuzzer's own, then
// a NodeInfoRequest; the target waits for its reply, so every message was
// handled and the node still answers, and the reply (the node's view after
// the messages) must parse. A node that does not answer within 10 s is a
// finding (abort), as is any crash or sanitizer report. Driving a whole Node
// costs ~1 ms per input (see WORKSPACE.md "Fuzzing"), cheap enough to keep
// what a real peer reaches: the handshake, the directory, conflict
// resolution, greeting referred endpoints, node-down handling.
//
// Thread-safety: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
//
// Example:
//   build-fuzz/fuzz/membership_fuzz -dict=node/fuzz/membership.dict node/fuzz/corpus/membership
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bus/envelope.h"
#include "bus/inproc_transport.h"
#include "bus/transport.h"
#include "google/protobuf/stubs/logging.h"
#include "node/node.h"
#include "polis/envelope.pb.h"

namespace {

using polis::bus::EnvelopeView;

const char* const kTypes[] = {"polis.wire.Hello", "polis.wire.NamesChanged",
                              "polis.wire.Members", "polis.wire.Goodbye"};

EnvelopeView SystemEnvelope(std::string_view type, std::string_view payload) {
  EnvelopeView v;
  v.version = polis::bus::kWireVersion;
  v.kind = polis::wire::KIND_SYSTEM;
  v.type = type;
  v.sender.node = "fuzz-peer";
  v.sender.incarnation = 7;
  v.sender.present = true;
  v.payload = payload;
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // Every refused message is a WARNING line; keep the fuzzer's output useful.
  setenv("POLIS_LOG", "ERROR", /*overwrite=*/0);
  // And libprotobuf's line for every payload with a string that is not UTF-8.
  static google::protobuf::LogSilencer* quiet = new google::protobuf::LogSilencer;
  (void)quiet;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return -1;
  auto transport = polis::bus::InProcTransport::Create({});
  if (!transport.ok()) std::abort();
  polis::NodeOptions options;
  options.name = "target";
  options.scheduler_threads = 1;
  options.listen = "inproc://membership-fuzz";
  options.transport = std::move(*transport);
  auto node = polis::Node::Create(std::move(options));
  if (!node.ok()) {
    std::fprintf(stderr, "membership_fuzz: %s\n", node.status().ToString().c_str());
    std::abort();
  }
  auto peer = polis::bus::InProcTransport::Create({});
  if (!peer.ok()) std::abort();
  const std::string target = "inproc://membership-fuzz";

  size_t i = 0;
  while (i + 3 <= size) {
    const char* type = kTypes[data[i] % 4];
    const size_t n = std::min<size_t>((size_t{data[i + 1]} << 8) | data[i + 2], size - i - 3);
    const std::string_view payload(reinterpret_cast<const char*>(data + i + 3), n);
    i += 3 + n;
    (void)(*peer)->Send(target, SystemEnvelope(type, payload));
  }
  // Node::Info runs on the node's I/O thread, between two polls of its
  // transport: the second one runs after a poll that took the messages in.
  for (int round = 0; round < 2; ++round) {
    absl::StatusOr<polis::wire::NodeInfo> info = (*node)->Info("", absl::Seconds(10));
    if (!info.ok()) {
      std::fprintf(stderr, "membership_fuzz: the node did not describe itself: %s\n",
                   info.status().ToString().c_str());
      std::abort();
    }
  }
  return 0;
}
