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
// A reply's status details (Envelope.status_details, a repeated
// google.protobuf.Any) are a StatusDetailsView: encoded straight from an
// absl::Status's payloads, decoded as a view of the received bytes. An
// envelope without details costs nothing for them; none allocates.
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

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/message_lite.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "polis/envelope.pb.h"

namespace polis::bus {

// The wire version this build speaks: in every frame header (bus/WIRE.md
// "Frame layout"), in Envelope.version and in Hello.wire_version. Bumped
// only for a change an old reader would misinterpret; see bus/WIRE.md
// "Versioning". The one place it is spelled.
inline constexpr uint8_t kWireVersion = 1;

// How far apart the wall clocks of a cluster's machines are assumed to be,
// at most (bus/WIRE.md, "Deadlines"; NTP keeps them within milliseconds).
// A receiver drops a call unprocessed once its own wall clock is past the
// caller's Envelope.deadline_unix_us by this much, and it drops it at
// received + timeout_us too, whichever comes first. With a larger skew: a
// receiver whose clock is behind judges the call by timeout_us alone (in
// effect); one whose clock is ahead by more than this drops calls early,
// up to (its lead - this) before the caller's deadline.
inline constexpr absl::Duration kClockSkewAllowance = absl::Milliseconds(250);

namespace envelope_internal {
struct DetailsAccess;
}  // namespace envelope_internal

// polis.wire.Envelope.status_details — the details of a non-OK reply, each a
// google.protobuf.Any (type URL + value bytes) — not owning them. Empty by
// default. For encoding it refers to an absl::Status (its payloads are the
// details) or to a wire::Envelope's details; DecodeEnvelope makes it refer to
// the received bytes (already checked: iterating cannot fail). Trivially
// copyable and destructible, like the rest of EnvelopeView.
//
// Thread-safety: a view; valid while what it refers to is alive and
// unchanged.
//
// Example:
//   absl::Status s = absl::FailedPreconditionError("no funds");
//   s.SetPayload("type.googleapis.com/bank.InsufficientFunds", absl::Cord(bytes));
//   EnvelopeView v;  // ...
//   v.status_details = StatusDetailsView(s);  // s must outlive the encoding
//   ...
//   decoded.status_details.ForEach([&](std::string_view url, std::string_view value) {
//     status.SetPayload(url, absl::Cord(value));
//   });
class StatusDetailsView {
 public:
  StatusDetailsView() : source_(kNone), count_(0), data_(nullptr), bytes_(0) {}
  // The payloads of `status` (none if it is OK): each is one detail whose
  // type URL is the payload's key and whose value is the payload's bytes. A
  // payload whose type URL is not UTF-8 is left out: a proto3 string could
  // not carry it (the envelope would not parse). `status` must outlive the
  // view, with its payloads unchanged.
  explicit StatusDetailsView(const absl::Status& status);
  // The details of a libprotobuf Envelope, as they are (a type URL that is
  // not UTF-8 is written anyway, as libprotobuf does).
  explicit StatusDetailsView(
      const google::protobuf::RepeatedPtrField<google::protobuf::Any>& details);

  bool empty() const { return count_ == 0; }
  // The number of details.
  size_t size() const { return count_; }
  // Calls `f(type_url, value)` for each detail, in wire order (for a status:
  // the order absl::Status::ForEachPayload gives, which is unspecified). A
  // decoded view's strings point into the received bytes; a payload held by
  // an absl::Cord in several pieces is copied into one string first.
  void ForEach(
      absl::FunctionRef<void(std::string_view type_url, std::string_view value)> f) const;

 private:
  friend struct envelope_internal::DetailsAccess;
  enum Source : uint8_t { kNone, kStatus, kProto, kWire };

  Source source_;
  uint32_t count_;
  // kStatus: the absl::Status; kProto: the RepeatedPtrField<Any>; kWire: the
  // first byte of the first detail's tag in the received envelope.
  const void* data_;
  // kWire: bytes from there to the end of the last detail (other fields may
  // lie in between: iterating skips them).
  size_t bytes_;
};

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
  StatusDetailsView status_details;
  int64_t deadline_unix_us = 0;
  uint32_t trace_flags = 0;

  // Field by field on purpose: a defaulted constructor clears all 320
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
        status_message(),
        status_details(),
        deadline_unix_us(0),
        trace_flags(0) {}
  // A view of `e` (valid while `e` is alive and unchanged). Implicit, like
  // string_view from string: every bus API taking a view takes an Envelope.
  EnvelopeView(const wire::Envelope& e);  // NOLINT(google-explicit-constructor)
};

// The libprotobuf form of `v` (copies every field), for tests and tools.
wire::Envelope ToProto(const EnvelopeView& v);

// The number of bytes EncodeEnvelope writes for `v` (computes and caches
// the size of `v.payload_message`, if set).
size_t EncodedSize(const EnvelopeView& v);

// At least EncodedSize(v), for a `v` whose strings (and payload) are under
// 2^31 bytes each, and cheaper to compute: the strings' sizes plus each
// field's most bytes besides (about 240 in all). For a buffer to encode
// into without sizing the envelope first: encoding returns where it ended.
// Computes and caches the size of `v.payload_message`, like EncodedSize.
size_t EncodedSizeBound(const EnvelopeView& v);

// Writes the protobuf encoding of `v` (fields in field-number order, zero
// values omitted, as libprotobuf does) to `out`, which has room for
// EncodedSize(v) bytes (EncodedSize or EncodedSizeBound has just been
// called for `v`: a payload_message's cached size is used). Returns the
// end of what was written. Never fails.
uint8_t* EncodeEnvelope(const EnvelopeView& v, uint8_t* out);

// Decodes the `size` bytes at `data` into `*v`, whose strings (and status
// details) then point into `data`. DATA_LOSS if the bytes are not a parsable
// Envelope (truncated, malformed varint or tag, a string that is not UTF-8 —
// a detail's type URL included —, a group left open, nesting over 100
// levels); `*v` is unspecified after an error.
absl::Status DecodeEnvelope(const void* data, size_t size, EnvelopeView* v);

}  // namespace polis::bus

#endif  // POLIS_BUS_ENVELOPE_H_
