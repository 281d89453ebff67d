// bus/fuzz/frame_fuzz.cc — libFuzzer target: one received ZeroMQ message as
// a transport takes it apart (bus/frame_codec.h FrameSplitter, then
// DecodeFrame on every frame it yields).
//
// Checks, besides "never crashes, never reads outside the message" (ASan):
// the splitter yields frames that lie inside the message, back to back from
// its start; DecodeFrame returns only the documented codes; a decoded
// envelope re-encodes (FrameSize + EncodeFrameTo) into a frame that decodes
// to the same fields. The first input byte picks the envelope size limit,
// so the RESOURCE_EXHAUSTED path is reached with small inputs.
//
// Thread-safety: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
//
// Example:
//   build-fuzz/fuzz/frame_fuzz -dict=bus/fuzz/frame.dict bus/fuzz/corpus/frame
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "bus/envelope.h"
#include "bus/frame_codec.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "frame_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

bool Documented(absl::StatusCode c) {
  switch (c) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDataLoss:
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace polis::bus;  // NOLINT(build/namespaces)
  if (size == 0) return 0;
  // Byte 0: the receiver's envelope limit, 0 = the default 1 MiB.
  const int64_t max_bytes = data[0] == 0 ? int64_t{1} << 20 : int64_t{data[0]} * 4;
  const uint8_t* msg = data + 1;
  const size_t msg_size = size - 1;

  FrameSplitter split(msg, msg_size);
  const uint8_t* frame;
  size_t n;
  const uint8_t* expect = msg;
  while (split.Next(&frame, &n)) {
    if (frame != expect || n < kFrameHeaderBytes || frame + n > msg + msg_size) {
      Fail("splitter yielded a frame out of place", std::to_string(n));
    }
    expect = frame + n;
    EnvelopeView v;
    const absl::Status s = DecodeFrame(frame, n, max_bytes, &v);
    if (!Documented(s.code())) Fail("undocumented DecodeFrame code", s.ToString());
    if (!s.ok()) continue;
    // Round trip: what was accepted encodes and decodes to the same fields.
    const polis::wire::Envelope first = ToProto(v);
    std::string again;
    const absl::Status e = EncodeFrame(v, int64_t{1} << 30, &again);
    if (!e.ok()) Fail("re-encoding an accepted envelope failed", e.ToString());
    EnvelopeView back;
    const absl::Status d = DecodeFrame(again.data(), again.size(), int64_t{1} << 30, &back);
    if (!d.ok()) Fail("re-encoded frame refused", d.ToString());
    if (ToProto(back).SerializeAsString() != first.SerializeAsString()) {
      Fail("round trip changed the envelope", first.ShortDebugString());
    }
  }
  if (!Documented(split.status().code())) Fail("undocumented splitter code", split.status().ToString());
  return 0;
}
