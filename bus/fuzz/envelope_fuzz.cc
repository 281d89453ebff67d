// bus/fuzz/envelope_fuzz.cc — libFuzzer target: the hand-written Envelope
// decoder (bus/envelope.h DecodeEnvelope) against libprotobuf.
//
// Any byte string a peer sends as a frame body must be refused or decoded
// without a crash, and the verdict must be libprotobuf's: the codec accepts
// exactly what polis.wire.Envelope's ParseFromArray accepts (refusing with
// DATA_LOSS), decodes the same fields (unknown fields aside), keeps its
// strings inside the input, and re-encodes to libprotobuf's bytes. Any
// disagreement aborts (a finding), like bus/envelope_test.cc's
// DecodesLikeProtobuf does for its hand-picked inputs.
//
// Thread-safety: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
//
// Example (by hand; tools/fuzz.sh runs every target):
//   build-fuzz/fuzz/envelope_fuzz -dict=bus/fuzz/envelope.dict bus/fuzz/corpus/envelope
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "bus/envelope.h"
#include "google/protobuf/stubs/logging.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "envelope_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

bool Inside(std::string_view s, const uint8_t* data, size_t size) {
  if (s.empty()) return true;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  return p >= data && p + s.size() <= data + size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using polis::bus::EnvelopeView;
  static google::protobuf::LogSilencer* quiet = new google::protobuf::LogSilencer;
  (void)quiet;
  if (size > (1u << 20)) return -1;  // ParseFromArray takes an int size

  EnvelopeView v;
  const absl::Status status = polis::bus::DecodeEnvelope(data, size, &v);
  polis::wire::Envelope want;
  const bool want_ok = want.ParseFromArray(data, static_cast<int>(size));
  if (status.ok() != want_ok) {
    Fail("verdicts differ", status.ok() ? "codec accepts, libprotobuf refuses"
                                        : "codec refuses (" + status.ToString() +
                                              "), libprotobuf accepts");
  }
  if (!want_ok) {
    if (status.code() != absl::StatusCode::kDataLoss) Fail("refusal is not DATA_LOSS", status.ToString());
    return 0;
  }
  want.DiscardUnknownFields();
  const polis::wire::Envelope got = polis::bus::ToProto(v);
  if (got.SerializeAsString() != want.SerializeAsString()) {
    Fail("fields differ", "codec {" + got.ShortDebugString() + "} libprotobuf {" +
                              want.ShortDebugString() + "}");
  }
  for (std::string_view s : {v.type, v.sender.node, v.sender.name, v.recipient.node,
                             v.recipient.name, v.payload, v.trace_id, v.reply_to.node,
                             v.reply_to.name, v.status_message}) {
    if (!Inside(s, data, size)) Fail("a decoded string points outside the input", std::string(s));
  }
  v.status_details.ForEach([&](std::string_view url, std::string_view value) {
    if (!Inside(url, data, size) || !Inside(value, data, size)) {
      Fail("a status detail points outside the input", std::string(url));
    }
  });
  const std::string want_bytes = want.SerializeAsString();
  const size_t n = polis::bus::EncodedSize(v);
  if (n != want_bytes.size()) Fail("EncodedSize differs from libprotobuf's", std::to_string(n));
  std::string again(n, '\0');
  polis::bus::EncodeEnvelope(v, reinterpret_cast<uint8_t*>(again.data()));
  if (again != want_bytes) Fail("re-encoding differs from libprotobuf's", want.ShortDebugString());
  return 0;
}
