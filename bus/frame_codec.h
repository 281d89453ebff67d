// bus/frame_codec.h — one Envelope <-> one wire frame (header + protobuf).
//
// Every polis message on a socket is a single ZeroMQ frame: an 8-byte header
// (magic "PL", wire version, flags, body length) followed by the serialized
// polis.wire.Envelope. The byte-by-byte layout, and what a reader must refuse,
// is the contract in bus/WIRE.md; this file implements it. No ZeroMQ types
// appear here: callers hand in a buffer (a zmq::message_t's data(), a
// std::string, ...), so the envelope is serialized straight into it.
//
// Thread-safety: stateless free functions. Encoding reads `envelope` (and
// fills protobuf's cached sizes), so do not encode one Envelope from two
// threads at once.
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(size_t n, FrameSize(env, max_bytes));
//   zmq::message_t msg(n);
//   EncodeFrameTo(env, n, msg.data());          // no intermediate copy
//   ...
//   wire::Envelope got;
//   absl::Status s = DecodeFrame(msg.data(), msg.size(), max_bytes, &got);
#ifndef POLIS_BUS_FRAME_CODEC_H_
#define POLIS_BUS_FRAME_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "polis/envelope.pb.h"

namespace polis::bus {

// The wire version this build speaks (header byte 2). Bumped only for a
// change an old reader would misinterpret; see bus/WIRE.md "Versioning".
inline constexpr uint8_t kWireVersion = 1;

// Header layout (bus/WIRE.md "Frame header").
inline constexpr uint8_t kFrameMagic0 = 0x50;  // 'P'
inline constexpr uint8_t kFrameMagic1 = 0x4C;  // 'L'
inline constexpr size_t kFrameHeaderBytes = 8;

// Returns the size of the frame that encodes `envelope` (header + body).
// RESOURCE_EXHAUSTED if the serialized envelope is over `max_envelope_bytes`
// (nothing is written anywhere). Caches the envelope's size inside it, for
// the EncodeFrameTo call that must follow without modifying `envelope`.
absl::StatusOr<size_t> FrameSize(const wire::Envelope& envelope, int64_t max_envelope_bytes);

// Writes the frame for `envelope` into `out`, which holds exactly
// `frame_size` bytes, the value FrameSize just returned for this envelope
// (unmodified since). Never fails.
void EncodeFrameTo(const wire::Envelope& envelope, size_t frame_size, void* out);

// Convenience: FrameSize + EncodeFrameTo into `*out` (resized). Same errors.
absl::Status EncodeFrame(const wire::Envelope& envelope, int64_t max_envelope_bytes,
                         std::string* out);

// Parses one frame of `size` bytes at `data` into `*envelope`. Never crashes
// on any input. Errors (envelope contents unspecified after an error):
//   INVALID_ARGUMENT     wrong magic (not a polis frame), or unknown flag bits;
//   FAILED_PRECONDITION  a wire version this build does not speak (in the
//                        header, or a nonzero Envelope.version that differs);
//   RESOURCE_EXHAUSTED   declared body length over `max_envelope_bytes`;
//   DATA_LOSS            shorter than the header, length field disagrees with
//                        the frame size (truncated or trailing bytes), or the
//                        body is not a parsable Envelope.
// On success an Envelope.version of 0 is set to the header's version.
absl::Status DecodeFrame(const void* data, size_t size, int64_t max_envelope_bytes,
                         wire::Envelope* envelope);

}  // namespace polis::bus

#endif  // POLIS_BUS_FRAME_CODEC_H_
