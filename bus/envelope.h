// bus/envelope.h — the envelope as the bus moves it: a view, and its codec.
//
// EnvelopeView holds the fields of a polis.wire.Envelope (proto/polis/
// envelope.proto) without owning any bytes: strings are string_views into
// the sender's own objects (when encoding) or into the received frame (when
// decoding). The codec writes and reads the protobuf wire format of that
// message by hand — byte for byte what libprotobuf produces and accepts —
// so that the hot path builds no protobuf object, allocates nothing and
// copies each byte once. proto/polis/envelope.proto stays the contract:
// another language's client uses its generated code and interoperates.
//
// Decoding accepts what libprotobuf accepts for this message and refuses what
// it refuses (bus/WIRE.md "Envelope body"): unknown fields are skipped, a
// known field with another wire type is skipped as unknown, a field seen
// twice keeps the last value (an address seen twice is merged), strings must
// be valid UTF-8. The one difference: unknown fields are not kept.
//
// Thread-safety: plain values and pure functions. A decoded view is valid as
// long as the buffer it was decoded from; an encoding view as long as the
// objects its strings point into.
//
// Example:
//   EnvelopeView v;
//   v.kind = wire::KIND_CAST;
//   v.type = "polis.examples.CounterRequest";
//   v.recipient = {.name = "counter", .present = true};
//   v.payload = bytes;
//   std::string buf(EncodedSize(v), '\0');
//   EncodeEnvelope(v, reinterpret_cast<uint8_t*>(buf.data()));
//   EnvelopeView back;
//   absl::Status s = DecodeEnvelope(buf.data(), buf.size(), &back);  // views into buf
#ifndef POLIS_BUS_ENVELOPE_H_
#define POLIS_BUS_ENVELOPE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message_lite.h"
#include "polis/envelope.pb.h"

namespace polis::bus {

// polis.wire.Address, not owning its strings.
struct AddressView {
  std::string_view node;
  std::string_view name;
  uint64_t pid = 0;
  uint64_t incarnation = 0;
  // Whether the envelope carries this address at all (proto3 message
  // presence); an absent address encodes to nothing.
  bool present = false;
};

// polis.wire.Envelope, not owning its strings. Field comments are in
// proto/polis/envelope.proto.
struct EnvelopeView {
  uint32_t version = 0;
  wire::Kind kind = wire::KIND_UNSPECIFIED;
  std::string_view type;
  AddressView sender;
  AddressView recipient;
  std::string_view payload;
  // Encoding only: when set, the payload is this message, serialized
  // straight into the output (and `payload` is ignored), so a sender needs
  // no buffer of its own for it. It must not change between EncodedSize and
  // EncodeEnvelope (its cached size is used). Never set by decoding.
  const google::protobuf::MessageLite* payload_message = nullptr;
  std::string_view trace_id;
  uint64_t span_id = 0;
  uint64_t parent_span_id = 0;
  uint64_t ref = 0;
  AddressView reply_to;
  int64_t timeout_us = 0;
  int32_t status_code = 0;
  std::string_view status_message;

  // Field by field on purpose: a defaulted constructor clears all 288
  // bytes with one `rep stos`, whose start-up cost was a tenth of a busy
  // sender's time (the decoder's Reset builds views with it too).
  EnvelopeView()
      : version(0),
        kind(wire::KIND_UNSPECIFIED),
        type(),
        sender(),
        recipient(),
        payload(),
        payload_message(nullptr),
        trace_id(),
        span_id(0),
        parent_span_id(0),
        ref(0),
        reply_to(),
        timeout_us(0),
        status_code(0),
        status_message() {}
  // A view of `e` (valid while `e` is alive and unchanged). Implicit, like
  // string_view from string: every bus API taking a view takes an Envelope.
  EnvelopeView(const wire::Envelope& e);  // NOLINT(google-explicit-constructor)
};

// The libprotobuf form of `v` (copies every field), for tests and tools.
wire::Envelope ToProto(const EnvelopeView& v);

// The number of bytes EncodeEnvelope writes for `v` (computes and caches
// the size of `v.payload_message`, if set).
size_t EncodedSize(const EnvelopeView& v);

// Writes the protobuf encoding of `v` (fields in field-number order, zero
// values omitted, as libprotobuf does) to `out`, which has room for
// EncodedSize(v) bytes, the value EncodedSize just returned for `v`.
// Returns the end of what was written. Never fails.
uint8_t* EncodeEnvelope(const EnvelopeView& v, uint8_t* out);

// Decodes the `size` bytes at `data` into `*v`, whose strings then point
// into `data`. DATA_LOSS if the bytes are not a parsable Envelope
// (truncated, malformed varint or tag, a string that is not UTF-8, a group
// left open, nesting over 100 levels); `*v` is unspecified after an error.
absl::Status DecodeEnvelope(const void* data, size_t size, EnvelopeView* v);

}  // namespace polis::bus

#endif  // POLIS_BUS_ENVELOPE_H_
