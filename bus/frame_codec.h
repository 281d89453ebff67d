// bus/frame_codec.h — Envelopes <-> wire frames (header + protobuf body).
//
// Every polis envelope on a socket is one frame: an 8-byte header (magic
// "PL", wire version, flags, body length) followed by the serialized
// polis.wire.Envelope (written and read by bus/envelope.h's codec). One ZeroMQ message carries one frame, or a batch of
// frames back to back (every frame but the last has kFlagFollowed set):
// FrameBatch builds such a batch, FrameSplitter takes one apart. The byte-by-byte layout, and what a reader must refuse,
// is the contract in bus/WIRE.md; this file implements it. No ZeroMQ types
// appear here: callers hand in a buffer (a zmq::message_t's data(), a
// std::string, ...), so the envelope is serialized straight into it.
//
// Thread-safety: stateless free functions; FrameBatch is thread-compatible.
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(size_t n, FrameSize(env, max_bytes));
//   zmq::message_t msg(n);
//   EncodeFrameTo(env, n, msg.data());          // no intermediate copy
//   ...
//   FrameBatch batch;                           // several frames, one message
//   POLIS_ASSIGN_OR_RETURN(size_t room, FrameRoom(env, max_bytes));
//   size_t frame_bytes = batch.Append(env, room);
//   ...
//   EnvelopeView got;                           // points into msg
//   absl::Status s = DecodeFrame(msg.data(), msg.size(), max_bytes, &got);
#ifndef POLIS_BUS_FRAME_CODEC_H_
#define POLIS_BUS_FRAME_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bus/envelope.h"

namespace polis::bus {

// The wire version this build speaks (header byte 2) is kWireVersion, from
// bus/envelope.h.

// Header layout (bus/WIRE.md "Frame header").
inline constexpr uint8_t kFrameMagic0 = 0x50;  // 'P'
inline constexpr uint8_t kFrameMagic1 = 0x4C;  // 'L'
inline constexpr size_t kFrameHeaderBytes = 8;
// Header flag (byte 3): another frame follows this one in the same message.
inline constexpr uint8_t kFlagFollowed = 0x01;
// The most bytes a sender puts into one message holding several frames. A
// frame bigger than this travels alone; receivers accept batches up to this
// size whatever their own envelope limit (each frame is still checked).
inline constexpr size_t kMaxBatchBytes = 32 * 1024;

// Returns the size of the frame that encodes `envelope` (header + body).
// RESOURCE_EXHAUSTED if the serialized envelope is over `max_envelope_bytes`
// (nothing is written anywhere).
absl::StatusOr<size_t> FrameSize(const EnvelopeView& envelope, int64_t max_envelope_bytes);

// Room for the frame of `envelope`: at least FrameSize's value, and cheap
// (bus/envelope.h EncodedSizeBound; FrameSize's exact work is done only when
// that bound is over `max_envelope_bytes`). For appending to a FrameBatch.
// Same errors as FrameSize.
absl::StatusOr<size_t> FrameRoom(const EnvelopeView& envelope, int64_t max_envelope_bytes);

// Writes the frame for `envelope` into `out`, which holds exactly
// `frame_size` bytes, the value FrameSize returned for this envelope.
// Never fails.
void EncodeFrameTo(const EnvelopeView& envelope, size_t frame_size, void* out);

// Convenience: FrameSize + EncodeFrameTo into `*out` (resized). Same errors.
absl::Status EncodeFrame(const EnvelopeView& envelope, int64_t max_envelope_bytes,
                         std::string* out);

// Parses one frame of `size` bytes at `data` into `*envelope`, whose strings
// then point into `data` (no copies). Never crashes on any input. Errors (envelope contents unspecified after an error):
//   INVALID_ARGUMENT     wrong magic (not a polis frame), or unknown flag bits
//                        (kFlagFollowed is known);
//   FAILED_PRECONDITION  a wire version this build does not speak (in the
//                        header, or a nonzero Envelope.version that differs);
//   RESOURCE_EXHAUSTED   declared body length over `max_envelope_bytes`;
//   DATA_LOSS            shorter than the header, length field disagrees with
//                        the frame size (truncated or trailing bytes), or the
//                        body is not a parsable Envelope.
// On success an Envelope.version of 0 is set to the header's version.
absl::Status DecodeFrame(const void* data, size_t size, int64_t max_envelope_bytes,
                         EnvelopeView* envelope);

// Frames appended back to back into one buffer, to be sent as one message.
// Sets kFlagFollowed on each frame when the next one is appended.
// Thread-compatible (one owner).
class FrameBatch {
 public:
  // Appends the frame for `envelope`, encoded straight into the batch (not
  // sized first); `room` is what FrameRoom or FrameSize just returned for
  // it. Returns the frame's size.
  size_t Append(const EnvelopeView& envelope, size_t room);
  bool empty() const { return buffer_.empty(); }
  size_t bytes() const { return buffer_.size(); }
  // Frames appended since the last Clear (for the drop counters).
  size_t frames() const { return frames_; }
  const char* data() const { return buffer_.data(); }
  // Empties the batch, keeping its memory for the next one.
  void Clear() {
    buffer_.clear();
    frames_ = 0;
  }
  // Exchanges the batch's bytes with `other`'s (to hand them off without a
  // copy). Exchanging again restores the batch; giving it an empty string
  // leaves an empty batch.
  void SwapBytes(std::string& other) { buffer_.swap(other); }

 private:
  std::string buffer_;
  size_t last_frame_ = 0;  // offset of the newest frame's header
  size_t frames_ = 0;
};

// Walks the frames of one received message. Each frame it yields still
// needs DecodeFrame (version, flags, size limit, body). The walk stops at
// the first frame whose length runs past the message, at a frame that says
// none follow but is not the message's end (that frame is not yielded: its
// length disagrees with the message), or at a frame that says one follows but
// none does: DATA_LOSS in status(); frames before it were good. Wrong magic
// stops it too (INVALID_ARGUMENT: nothing after can be trusted).
//
// Example:
//   FrameSplitter split(msg.data(), msg.size());
//   const uint8_t* frame; size_t n;
//   while (split.Next(&frame, &n)) Use(DecodeFrame(frame, n, max, &env));
//   if (!split.status().ok()) Report(split.status());
class FrameSplitter {
 public:
  FrameSplitter(const void* data, size_t size)
      : p_(static_cast<const uint8_t*>(data)), end_(p_ + size) {}
  // The next frame, or false when the message is used up or bad.
  bool Next(const uint8_t** frame, size_t* size);
  const absl::Status& status() const { return status_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  bool done_ = false;
  absl::Status status_;
};

}  // namespace polis::bus

#endif  // POLIS_BUS_FRAME_CODEC_H_
