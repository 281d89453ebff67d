// tools/fuzz/dynamic_json_fuzz.cc — libFuzzer target: JSON to a request of a
// type learnt at run time (tools/dynamic_types.h FromJson, what
// `polis call NAME JSON` runs), and reply bytes back to JSON (ToJson, what
// it prints of a reply a peer sent).
//
// The types are the ones a server describes: a FileDescriptorSet of the
// example servers' protos and polis's own (polis/envelope.proto,
// polis/supervisor.proto), built once through DynamicTypes::Create. Input:
//   [selector][rest]
// selector % kTypeCount picks the message type; bit 0x80 picks the mode:
// clear, `rest` is JSON for FromJson; set, `rest` is reply bytes for ToJson.
// Checks besides "no crash" (ASan, UBSan): a request FromJson accepted
// prints back to JSON (ToJson) and that JSON parses again (FromJson) to the
// same request; errors are the documented INVALID_ARGUMENT / DATA_LOSS.
// "Same" is the same bytes, or else an equal message: protobuf's JSON
// parser reads the number -0 of a google.protobuf.Value as +0, so a -0.0
// prints as -0 and comes back as 0, which compares equal (IEEE) but not
// byte for byte.
//
// Thread-safety: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
//
// Example:
//   build-fuzz/fuzz/dynamic_json_fuzz -dict=tools/fuzz/dynamic_json.dict tools/fuzz/corpus/dynamic_json
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "examples/examples.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/message_differencer.h"
#include "polis/envelope.pb.h"
#include "polis/supervisor.pb.h"
#include "tools/dynamic_types.h"

namespace {

// The request types `polis call` meets most, and a few with every field
// kind (maps, oneofs, Any, Struct, enums, repeated messages).
const char* const kTypes[] = {
    "polis.examples.CounterRequest",   "polis.examples.CounterReply",
    "polis.examples.KvRequest",        "polis.examples.KvReply",
    "polis.examples.RelayRequest",     "polis.examples.AddLater",
    "polis.supervision.SupervisorSpec", "polis.supervision.ChildSpec",
    "polis.wire.Envelope",             "polis.wire.Hello",
    "polis.wire.NodeInfo",             "polis.wire.ServerDescription",
    "google.protobuf.Struct",          "google.protobuf.Any",
    "google.protobuf.Value",           "google.protobuf.Empty",
};
constexpr size_t kTypeCount = sizeof(kTypes) / sizeof(kTypes[0]);

void AddFile(const google::protobuf::FileDescriptor* f, google::protobuf::FileDescriptorSet* set) {
  f->CopyTo(set->add_file());
}

const polis::tools::DynamicTypes& Types() {
  static const polis::tools::DynamicTypes* types = [] {
    google::protobuf::FileDescriptorSet set;
    // Only the servers' own files: DynamicTypes adds the well-known types.
    AddFile(polis::examples::CounterRequest::descriptor()->file(), &set);
    AddFile(polis::wire::Envelope::descriptor()->file(), &set);
    AddFile(polis::supervision::SupervisorSpec::descriptor()->file(), &set);
    auto t = polis::tools::DynamicTypes::Create(set.SerializeAsString());
    if (!t.ok()) {
      std::fprintf(stderr, "dynamic_json_fuzz: %s\n", t.status().ToString().c_str());
      std::abort();
    }
    return t->release();
  }();
  return *types;
}

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "dynamic_json_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static google::protobuf::LogSilencer* quiet = new google::protobuf::LogSilencer;
  (void)quiet;
  if (size == 0 || size > 64 * 1024) return -1;
  const polis::tools::DynamicTypes& types = Types();
  const std::string type = kTypes[(data[0] & 0x7F) % kTypeCount];
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);

  if (data[0] & 0x80) {
    absl::StatusOr<std::string> json = types.ToJson(type, rest);
    if (!json.ok() && json.status().code() != absl::StatusCode::kDataLoss &&
        json.status().code() != absl::StatusCode::kInvalidArgument) {
      Fail("ToJson: undocumented error", json.status().ToString());
    }
    return 0;
  }
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> m = types.FromJson(type, rest);
  if (!m.ok()) {
    if (m.status().code() != absl::StatusCode::kInvalidArgument) {
      Fail("FromJson: not INVALID_ARGUMENT", m.status().ToString());
    }
    return 0;
  }
  const std::string bytes = (*m)->SerializeAsString();
  absl::StatusOr<std::string> json = types.ToJson(type, bytes);
  if (!json.ok()) Fail("an accepted request does not print", json.status().ToString());
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> again = types.FromJson(type, *json);
  if (!again.ok()) Fail("printed JSON does not parse", *json + ": " + again.status().ToString());
  if ((*again)->SerializeAsString() != bytes &&
      !google::protobuf::util::MessageDifferencer::Equals(**m, **again)) {
    Fail("JSON round trip changed the request", *json);
  }
  return 0;
}
