// bus/frame_codec.cc — see frame_codec.h and bus/WIRE.md.
#include "bus/frame_codec.h"

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "bus/internal/little_endian.h"

namespace polis::bus {
namespace {

// The largest body the 32-bit length field (and protobuf's int sizes) allow.
constexpr int64_t kHardMaxBody = std::numeric_limits<int32_t>::max();

int64_t EffectiveMax(int64_t max_envelope_bytes) {
  return max_envelope_bytes < kHardMaxBody ? max_envelope_bytes : kHardMaxBody;
}

}  // namespace

absl::StatusOr<size_t> FrameSize(const EnvelopeView& envelope, int64_t max_envelope_bytes) {
  const size_t body = EncodedSize(envelope);
  if (static_cast<int64_t>(body) > EffectiveMax(max_envelope_bytes)) {
    return absl::ResourceExhaustedError(absl::StrCat("envelope of ", body,
                                                     " bytes is over the limit of ",
                                                     EffectiveMax(max_envelope_bytes)));
  }
  return kFrameHeaderBytes + body;
}

absl::StatusOr<size_t> FrameRoom(const EnvelopeView& envelope, int64_t max_envelope_bytes) {
  const size_t bound = EncodedSizeBound(envelope);
  if (static_cast<int64_t>(bound) <= EffectiveMax(max_envelope_bytes)) {
    return kFrameHeaderBytes + bound;
  }
  return FrameSize(envelope, max_envelope_bytes);  // exact: over the limit, or near it
}

namespace {

// The header of a frame of `body` bytes, at `p`.
void PutHeader(uint8_t* p, uint32_t body) {
  p[0] = kFrameMagic0;
  p[1] = kFrameMagic1;
  p[2] = kWireVersion;
  p[3] = 0;  // flags: none defined in version 1
  internal::PutLittleEndian(p + 4, body);
}

}  // namespace

void EncodeFrameTo(const EnvelopeView& envelope, size_t frame_size, void* out) {
  auto* p = static_cast<uint8_t*>(out);
  PutHeader(p, static_cast<uint32_t>(frame_size - kFrameHeaderBytes));
  EncodeEnvelope(envelope, p + kFrameHeaderBytes);
}

absl::Status EncodeFrame(const EnvelopeView& envelope, int64_t max_envelope_bytes,
                         std::string* out) {
  absl::StatusOr<size_t> size = FrameSize(envelope, max_envelope_bytes);
  if (!size.ok()) return size.status();
  out->resize(*size);
  EncodeFrameTo(envelope, *size, out->data());
  return absl::OkStatus();
}

absl::Status DecodeFrame(const void* data, size_t size, int64_t max_envelope_bytes,
                         EnvelopeView* envelope) {
  const auto* p = static_cast<const uint8_t*>(data);
  if (size < kFrameHeaderBytes) {
    return absl::DataLossError(
        absl::StrCat("frame of ", size, " bytes is shorter than the ", kFrameHeaderBytes,
                     "-byte header"));
  }
  if (p[0] != kFrameMagic0 || p[1] != kFrameMagic1) {
    return absl::InvalidArgumentError("not a polis frame (bad magic)");
  }
  if (p[2] != kWireVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "frame has wire version ", p[2], "; this node speaks ", kWireVersion));
  }
  if ((p[3] & ~kFlagFollowed) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("frame has unknown flags 0x", absl::Hex(p[3])));
  }
  const uint32_t body = internal::LoadLittleEndian<uint32_t>(p + 4);
  if (static_cast<int64_t>(body) > EffectiveMax(max_envelope_bytes)) {
    return absl::ResourceExhaustedError(absl::StrCat("envelope of ", body,
                                                     " bytes is over the limit of ",
                                                     EffectiveMax(max_envelope_bytes)));
  }
  if (body != size - kFrameHeaderBytes) {
    return absl::DataLossError(absl::StrCat("frame header says ", body, " body bytes, frame has ",
                                            size - kFrameHeaderBytes));
  }
  if (!DecodeEnvelope(p + kFrameHeaderBytes, body, envelope).ok()) {
    return absl::DataLossError("frame body is not a parsable polis.wire.Envelope");
  }
  if (envelope->version == 0) {
    envelope->version = kWireVersion;
  } else if (envelope->version != kWireVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "envelope has version ", envelope->version, "; this node speaks ", kWireVersion));
  }
  return absl::OkStatus();
}

size_t FrameBatch::Append(const EnvelopeView& envelope, size_t room) {
  const size_t at = buffer_.size();
  if (at != 0) buffer_[last_frame_ + 3] |= static_cast<char>(kFlagFollowed);
  // resize() zero-fills, which costs little next to serializing the body.
  buffer_.resize(at + room);
  auto* frame = reinterpret_cast<uint8_t*>(buffer_.data() + at);
  const uint8_t* end = EncodeEnvelope(envelope, frame + kFrameHeaderBytes);
  const size_t frame_size = static_cast<size_t>(end - frame);
  PutHeader(frame, static_cast<uint32_t>(frame_size - kFrameHeaderBytes));
  buffer_.resize(at + frame_size);
  last_frame_ = at;
  ++frames_;
  return frame_size;
}

bool FrameSplitter::Next(const uint8_t** frame, size_t* size) {
  if (done_) return false;
  const size_t left = static_cast<size_t>(end_ - p_);
  if (left < kFrameHeaderBytes) {
    // An empty message (or one cut inside a header) yields nothing.
    done_ = true;
    status_ = absl::DataLossError(absl::StrCat("frame of ", left, " bytes is shorter than the ",
                                               kFrameHeaderBytes, "-byte header"));
    return false;
  }
  if (p_[0] != kFrameMagic0 || p_[1] != kFrameMagic1) {
    done_ = true;
    status_ = absl::InvalidArgumentError("not a polis frame (bad magic)");
    return false;
  }
  const uint64_t body = internal::LoadLittleEndian<uint32_t>(p_ + 4);
  if (body > left - kFrameHeaderBytes) {
    done_ = true;
    status_ = absl::DataLossError(absl::StrCat("frame header says ", body, " body bytes, only ",
                                               left - kFrameHeaderBytes, " follow"));
    return false;
  }
  const size_t n = kFrameHeaderBytes + body;
  const bool followed = (p_[3] & kFlagFollowed) != 0;
  if (!followed && n != left) {
    done_ = true;
    status_ = absl::DataLossError(
        absl::StrCat(left - n, " bytes after the last frame of a message"));
    return false;
  }
  if (followed && n == left) {
    done_ = true;
    status_ = absl::DataLossError("frame says another follows, but the message ends");
    // The frame itself is whole: hand it out.
  }
  *frame = p_;
  *size = n;
  p_ += n;
  if (!followed) done_ = true;
  return true;
}

}  // namespace polis::bus
