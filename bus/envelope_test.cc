// bus/envelope_test.cc — the hand-written Envelope codec against libprotobuf:
// the same bytes out, the same verdict on bytes in, the same fields decoded.
//
// libprotobuf (the generated polis.wire.Envelope) is the oracle throughout:
// EncodeEnvelope must write exactly SerializeAsString(), and DecodeEnvelope
// must accept exactly what ParseFromArray accepts, with the same fields
// (unknown fields aside, which the codec drops).
#include "bus/envelope.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "base/utf8.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace polis::bus {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::StatusIs;
using namespace std::string_view_literals;  // NOLINT(build/namespaces)

// ---------------------------------------------------------------------------
// Raw wire bytes.

// Protobuf wire types.
constexpr int kVarint = 0;
constexpr int kFixed64 = 1;
constexpr int kLen = 2;
constexpr int kStartGroup = 3;
constexpr int kEndGroup = 4;
constexpr int kFixed32 = 5;

// Field numbers of polis.wire.Envelope ...
constexpr uint32_t kVersion = wire::Envelope::kVersionFieldNumber;
constexpr uint32_t kKind = wire::Envelope::kKindFieldNumber;
constexpr uint32_t kType = wire::Envelope::kTypeFieldNumber;
constexpr uint32_t kSender = wire::Envelope::kSenderFieldNumber;
constexpr uint32_t kRecipient = wire::Envelope::kRecipientFieldNumber;
constexpr uint32_t kPayload = wire::Envelope::kPayloadFieldNumber;
constexpr uint32_t kTraceId = wire::Envelope::kTraceIdFieldNumber;
constexpr uint32_t kSpanId = wire::Envelope::kSpanIdFieldNumber;
constexpr uint32_t kParentSpanId = wire::Envelope::kParentSpanIdFieldNumber;
constexpr uint32_t kRef = wire::Envelope::kRefFieldNumber;
constexpr uint32_t kReplyTo = wire::Envelope::kReplyToFieldNumber;
constexpr uint32_t kTimeoutUs = wire::Envelope::kTimeoutUsFieldNumber;
constexpr uint32_t kStatusCode = wire::Envelope::kStatusCodeFieldNumber;
constexpr uint32_t kStatusMessage = wire::Envelope::kStatusMessageFieldNumber;
constexpr uint32_t kStatusDetails = wire::Envelope::kStatusDetailsFieldNumber;
constexpr uint32_t kDeadlineUnixUs = wire::Envelope::kDeadlineUnixUsFieldNumber;  // a 2-byte tag
// ... of polis.wire.Address ...
constexpr uint32_t kNode = wire::Address::kNodeFieldNumber;
constexpr uint32_t kName = wire::Address::kNameFieldNumber;
constexpr uint32_t kPid = wire::Address::kPidFieldNumber;
constexpr uint32_t kIncarnation = wire::Address::kIncarnationFieldNumber;
// ... and of google.protobuf.Any (a status detail).
constexpr uint32_t kTypeUrl = google::protobuf::Any::kTypeUrlFieldNumber;
constexpr uint32_t kValue = google::protobuf::Any::kValueFieldNumber;
// A field number none of these messages declares.
constexpr uint32_t kUnknown = 20;
// The largest field number protobuf allows (2^29 - 1).
constexpr uint32_t kMaxFieldNumber = (1u << 29) - 1;

// Builds protobuf wire bytes by hand, well-formed or not:
//   Raw().Tag(kVersion, kVarint).Varint(1).Len(kType, "x").str()
class Raw {
 public:
  // A base-128 varint, shortest form.
  Raw& Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
    return *this;
  }
  Raw& Tag(uint32_t field, int wire_type) {
    return Varint((uint64_t{field} << 3) | static_cast<uint64_t>(wire_type));
  }
  Raw& Fixed32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
  Raw& Fixed64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
  // Bytes as they are (no tag, no length).
  Raw& Bytes(std::string_view b) {
    out_.append(b);
    return *this;
  }
  // A length-delimited field: tag, length, body.
  Raw& Len(uint32_t field, std::string_view body) {
    return Tag(field, kLen).Varint(body.size()).Bytes(body);
  }
  const std::string& str() const { return out_; }
  operator std::string_view() const { return out_; }  // NOLINT(google-explicit-constructor)

 private:
  std::string out_;
};

// `bytes` as a C string literal ("\x08\x01..."), to paste into a test;
// long inputs are cut.
std::string Hex(std::string_view bytes) {
  constexpr size_t kMax = 160;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size() && i < kMax; ++i) {
    const auto b = static_cast<uint8_t>(bytes[i]);
    out += "\\x";
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  out += "\"";
  if (bytes.size() > kMax) out += "...";
  out += " (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

// An Envelope from protobuf text format, e.g. Proto("sender { pid: 7 }").
wire::Envelope Proto(std::string_view text) {
  wire::Envelope e;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(std::string(text), &e)) << text;
  return e;
}

// Field for field, by comparing libprotobuf's encodings (canonical for this
// message: proto3, no maps, no floats). Not MessageDifferencer: it unpacks a
// status detail (an Any) by its type URL, logging when it cannot, and then
// compares the parsed message, not the bytes the codec must keep.
bool Equal(const wire::Envelope& a, const wire::Envelope& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

// ---------------------------------------------------------------------------
// Envelopes to encode.

// Every field set, with values that take the long encodings: negative int32
// and int64 (10-byte varints), all-ones uint64s, multi-byte UTF-8, a payload
// over 127 bytes (2-byte length).
wire::Envelope FullEnvelope() {
  wire::Envelope e;
  e.set_version(1);
  e.set_kind(wire::KIND_REPLY);
  e.set_type("polis.examples.CounterRequest");
  wire::Address* sender = e.mutable_sender();
  sender->set_node("node-a");
  sender->set_name("caller");
  sender->set_pid(7);
  sender->set_incarnation(0xFEDCBA9876543210);
  wire::Address* recipient = e.mutable_recipient();
  recipient->set_node("node-b");
  recipient->set_name("counter");
  recipient->set_pid(uint64_t{1} << 40);
  recipient->set_incarnation(std::numeric_limits<uint64_t>::max());
  std::string payload(300, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  e.set_payload(payload);
  e.set_trace_id(std::string("\x00\x01\x02\x03\x04\x05\x06\x07\xF8\xF9\xFA\xFB\xFC\xFD\xFE\xFF"sv));
  e.set_span_id(0x1122334455667788);
  e.set_parent_span_id(std::numeric_limits<uint64_t>::max());
  e.set_ref(std::numeric_limits<uint64_t>::max() - 1);
  wire::Address* reply_to = e.mutable_reply_to();
  reply_to->set_node("nöde-ä");
  reply_to->set_name("日本語");
  reply_to->set_pid(9);
  reply_to->set_incarnation(3);
  e.set_timeout_us(-5'000'000);
  e.set_status_code(-3);
  e.set_status_message("héllo 🌍");
  google::protobuf::Any* detail = e.add_status_details();
  detail->set_type_url("type.googleapis.com/bank.InsufficientFunds");
  detail->set_value(std::string(200, '\x7F'));  // a 2-byte length inside
  detail = e.add_status_details();
  detail->set_type_url("type.googleapis.com/ünïcödé.Empty");  // and an empty value
  detail = e.add_status_details();
  detail->set_value(std::string("\x00\xFF"sv));  // and no type URL
  e.set_deadline_unix_us(1'700'000'000'123'456);
  return e;
}

// FullEnvelope with a short payload: a small encoding whose bytes are nearly
// all structure, for flipping bits in.
wire::Envelope SmallFullEnvelope() {
  wire::Envelope e = FullEnvelope();
  e.set_payload(std::string("pay\x00load"sv));
  e.mutable_status_details(0)->set_value("funds");
  return e;
}

// Valid input with everything the decoder must skip or merge: unknown fields
// of every wire type (one a group with nested content), a known field with
// the wrong wire type, a scalar and an address seen twice, a padded varint.
std::string UnusualButValidEncoding() {
  return Raw()
      .Tag(kVersion, kVarint).Varint(9)
      .Tag(kUnknown, kVarint).Varint(std::numeric_limits<uint64_t>::max())
      .Len(kSender, Raw().Len(kNode, "a").Tag(kUnknown, kFixed32).Fixed32(5))
      .Tag(kUnknown + 1, kFixed64).Fixed64(0x0102030405060708)
      .Tag(kType, kVarint).Varint(3)  // wrong wire type: skipped
      .Len(kUnknown + 2, "\xC0\x80 not UTF-8, but unknown")
      .Tag(kUnknown + 3, kStartGroup)
      .Tag(1, kVarint).Varint(1)
      .Tag(kUnknown + 4, kStartGroup).Len(2, "in").Tag(kUnknown + 4, kEndGroup)
      .Tag(kUnknown + 3, kEndGroup)
      .Tag(kVersion, kVarint).Bytes("\x81\x80\x00"sv)  // 1, padded; replaces 9
      .Len(kSender, Raw().Tag(kPid, kVarint).Varint(7))  // merged into the first
      .Tag(kSpanId, kFixed64).Fixed64(42)
      .Tag(kMaxFieldNumber, kFixed32).Fixed32(0xFFFFFFFF)
      .Len(kPayload, "p")
      .str();
}

// A deterministic source of random values.
class Random {
 public:
  explicit Random(uint64_t seed) : rng_(seed) {}

  uint64_t Next() { return rng_(); }
  uint64_t Below(uint64_t n) { return rng_() % n; }
  bool OneIn(uint64_t n) { return Below(n) == 0; }
  // A value of random bit width 0..64, so that varints of every length are
  // common.
  uint64_t AnyWidth() {
    const uint64_t bits = Below(65);
    return bits == 0 ? 0 : rng_() >> (64 - bits);
  }
  std::string Bytes(size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng_());
    return s;
  }
  // Valid UTF-8 of up to `max_code_points` code points: mostly printable
  // ASCII, also control characters (NUL included) and 2-, 3- and 4-byte
  // sequences.
  std::string Text(size_t max_code_points) {
    std::string s;
    for (size_t n = Below(max_code_points + 1); n > 0; --n) {
      uint32_t cp;
      switch (Below(8)) {
        case 0:
          cp = 0x80 + Below(0x800 - 0x80);
          break;
        case 1:
          do cp = 0x800 + Below(0x10000 - 0x800);
          while (cp >= 0xD800 && cp <= 0xDFFF);
          break;
        case 2:
          cp = 0x10000 + Below(0x110000 - 0x10000);
          break;
        case 3:
          cp = Below(0x80);
          break;
        default:
          cp = 0x20 + Below(0x7F - 0x20);
      }
      AppendUtf8(cp, &s);
    }
    return s;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

 private:
  std::mt19937_64 rng_;
};

wire::Kind RandomKind(Random& r) {
  switch (r.Below(8)) {
    case 0:
      return static_cast<wire::Kind>(99);  // undeclared: proto3 enums are open
    case 1:
      return static_cast<wire::Kind>(-1);  // negative: a 10-byte varint
    case 2:
      return static_cast<wire::Kind>(static_cast<int32_t>(r.Next()));
    default:
      return static_cast<wire::Kind>(r.Below(6));
  }
}

// Leaves the address absent, makes it present but empty, or sets a random
// subset of its fields.
void RandomAddress(Random& r, wire::Envelope& e,
                   wire::Address* (wire::Envelope::*mutable_address)()) {
  switch (r.Below(3)) {
    case 0:
      return;
    case 1:
      (e.*mutable_address)();  // present, every field empty
      return;
    default: {
      wire::Address* a = (e.*mutable_address)();
      if (r.OneIn(2)) a->set_node(r.Text(12));
      if (r.OneIn(2)) a->set_name(r.Text(24));
      if (r.OneIn(2)) a->set_pid(r.AnyWidth());
      if (r.OneIn(2)) a->set_incarnation(r.AnyWidth());
    }
  }
}

// An envelope with a random subset of its fields set, to random values.
wire::Envelope RandomEnvelope(Random& r) {
  wire::Envelope e;
  if (r.OneIn(2)) e.set_version(static_cast<uint32_t>(r.AnyWidth()));
  if (r.OneIn(2)) e.set_kind(RandomKind(r));
  if (r.OneIn(2)) e.set_type(r.Text(48));
  RandomAddress(r, e, &wire::Envelope::mutable_sender);
  RandomAddress(r, e, &wire::Envelope::mutable_recipient);
  if (r.OneIn(2)) e.set_payload(r.Bytes(r.OneIn(4) ? r.Below(4097) : r.Below(65)));
  if (r.OneIn(2)) e.set_trace_id(r.Bytes(r.OneIn(4) ? r.Below(33) : 16));
  if (r.OneIn(2)) e.set_span_id(r.AnyWidth());
  if (r.OneIn(2)) e.set_parent_span_id(r.AnyWidth());
  if (r.OneIn(2)) e.set_ref(r.AnyWidth());
  RandomAddress(r, e, &wire::Envelope::mutable_reply_to);
  if (r.OneIn(2)) {
    const uint64_t magnitude = r.AnyWidth();
    e.set_timeout_us(static_cast<int64_t>(r.OneIn(2) ? magnitude : 0 - magnitude));
  }
  if (r.OneIn(2)) {
    const uint64_t magnitude = r.AnyWidth();
    e.set_status_code(static_cast<int32_t>(r.OneIn(2) ? magnitude : 0 - magnitude));
  }
  if (r.OneIn(2)) e.set_status_message(r.Text(64));
  if (r.OneIn(3)) {
    for (uint64_t n = 1 + r.Below(3); n > 0; --n) {
      google::protobuf::Any* d = e.add_status_details();
      if (!r.OneIn(8)) d->set_type_url("type.googleapis.com/" + r.Text(24));
      if (!r.OneIn(4)) d->set_value(r.Bytes(r.OneIn(8) ? r.Below(300) : r.Below(24)));
    }
  }
  if (r.OneIn(2)) {
    const uint64_t magnitude = r.AnyWidth();
    e.set_deadline_unix_us(static_cast<int64_t>(r.OneIn(2) ? magnitude : 0 - magnitude));
  }
  return e;
}

// 2000 random envelopes, the same on every run.
const std::vector<wire::Envelope>& RandomEnvelopes() {
  static const std::vector<wire::Envelope>* const envelopes = [] {
    auto* v = new std::vector<wire::Envelope>;
    Random r(0x706f6c6973);  // "polis"
    for (int i = 0; i < 2000; ++i) v->push_back(RandomEnvelope(r));
    return v;
  }();
  return *envelopes;
}

// ---------------------------------------------------------------------------
// Checks against libprotobuf.

// Whether s lies inside buf (by address).
bool Inside(std::string_view s, std::string_view buf) {
  const auto p = reinterpret_cast<uintptr_t>(s.data());
  const auto b = reinterpret_cast<uintptr_t>(buf.data());
  return p >= b && p + s.size() <= b + buf.size();
}

// The name of the first non-empty string of `v` that does not point into
// `buf`, or nullptr if they all do.
const char* StringOutside(const EnvelopeView& v, std::string_view buf) {
  const std::pair<const char*, std::string_view> strings[] = {
      {"type", v.type},
      {"sender.node", v.sender.node},
      {"sender.name", v.sender.name},
      {"recipient.node", v.recipient.node},
      {"recipient.name", v.recipient.name},
      {"payload", v.payload},
      {"trace_id", v.trace_id},
      {"reply_to.node", v.reply_to.node},
      {"reply_to.name", v.reply_to.name},
      {"status_message", v.status_message},
  };
  for (const auto& [name, s] : strings) {
    if (!s.empty() && !Inside(s, buf)) return name;
  }
  const char* outside = nullptr;
  v.status_details.ForEach([&](std::string_view url, std::string_view value) {
    if (!url.empty() && !Inside(url, buf)) outside = "status_details.type_url";
    if (!value.empty() && !Inside(value, buf)) outside = "status_details.value";
  });
  return outside;
}

// Encodes `e` through EnvelopeView(e) into a buffer with guard bytes on both
// sides. Success if EncodedSize is ByteSizeLong, EncodedSizeBound is at
// least that, and the codec writes exactly SerializeAsString(), nothing
// outside it, and returns its end.
::testing::AssertionResult EncodesLikeProtobuf(const wire::Envelope& e) {
  const std::string want = e.SerializeAsString();
  const EnvelopeView v(e);
  const size_t size = EncodedSize(v);
  if (size != e.ByteSizeLong()) {
    return ::testing::AssertionFailure() << "EncodedSize is " << size << " but ByteSizeLong is "
                                         << e.ByteSizeLong() << " for {" << e.ShortDebugString()
                                         << "}";
  }
  if (const size_t bound = EncodedSizeBound(v); bound < size) {
    return ::testing::AssertionFailure() << "EncodedSizeBound is " << bound << ", under the size "
                                         << size << " for {" << e.ShortDebugString() << "}";
  }
  constexpr size_t kGuard = 32;
  constexpr uint8_t kFill = 0xA5;
  std::vector<uint8_t> buf(kGuard + size + kGuard, kFill);
  const uint8_t* end = EncodeEnvelope(v, buf.data() + kGuard);
  if (end != buf.data() + kGuard + size) {
    return ::testing::AssertionFailure() << "EncodeEnvelope returned out+" << (end - buf.data() - kGuard)
                                         << ", want out+" << size << " for {"
                                         << e.ShortDebugString() << "}";
  }
  for (size_t i = 0; i < kGuard; ++i) {
    if (buf[i] != kFill || buf[kGuard + size + i] != kFill) {
      return ::testing::AssertionFailure() << "EncodeEnvelope wrote outside its "
                                           << size << " bytes for {" << e.ShortDebugString() << "}";
    }
  }
  const std::string got(reinterpret_cast<const char*>(buf.data() + kGuard), size);
  if (got != want) {
    size_t at = 0;
    while (got[at] == want[at]) ++at;
    return ::testing::AssertionFailure() << "bytes differ from offset " << at << ":\n  codec       "
                                         << Hex(got) << "\n  libprotobuf " << Hex(want)
                                         << "\n  for {" << e.ShortDebugString() << "}";
  }
  return ::testing::AssertionSuccess();
}

// Decodes `bytes` with the codec and with libprotobuf's ParseFromArray.
// Success if both refuse it (the codec with DATA_LOSS), or both accept it
// and: the codec's fields equal libprotobuf's less its unknown fields, the
// codec's strings point into the input, and re-encoding the view gives
// libprotobuf's re-encoding. `*accepted` (if given) is libprotobuf's verdict.
::testing::AssertionResult DecodesLikeProtobuf(std::string_view bytes,
                                               bool* accepted = nullptr) {
  const std::string input(bytes);  // the decoded views must point into this
  EnvelopeView v;
  const absl::Status status = DecodeEnvelope(input.data(), input.size(), &v);
  wire::Envelope want;
  bool want_ok;
  {
    google::protobuf::LogSilencer quiet;  // it logs every non-UTF-8 string it refuses
    want_ok = want.ParseFromArray(input.data(), static_cast<int>(input.size()));
  }
  if (accepted != nullptr) *accepted = want_ok;
  if (status.ok() != want_ok) {
    return ::testing::AssertionFailure()
           << "input " << Hex(input) << ": the codec "
           << (status.ok() ? "accepts it as {" + ToProto(v).ShortDebugString() + "}"
                           : "refuses it (" + status.ToString() + ")")
           << " but libprotobuf "
           << (want_ok ? "accepts it as {" + want.ShortDebugString() + "}" : "refuses it");
  }
  if (!want_ok) {
    if (status.code() != absl::StatusCode::kDataLoss) {
      return ::testing::AssertionFailure() << "input " << Hex(input)
                                           << ": refused with " << status << ", want DATA_LOSS";
    }
    return ::testing::AssertionSuccess();
  }
  want.DiscardUnknownFields();
  const wire::Envelope got = ToProto(v);
  if (!Equal(got, want)) {
    return ::testing::AssertionFailure() << "input " << Hex(input) << " decodes to {"
                                         << got.ShortDebugString() << "}, libprotobuf to {"
                                         << want.ShortDebugString() << "}";
  }
  if (const char* field = StringOutside(v, input)) {
    return ::testing::AssertionFailure() << "input " << Hex(input) << ": decoded " << field
                                         << " does not point into the input";
  }
  const std::string want_bytes = want.SerializeAsString();
  if (EncodedSize(v) != want_bytes.size()) {
    return ::testing::AssertionFailure() << "input " << Hex(input) << ": EncodedSize of the view is "
                                         << EncodedSize(v) << ", libprotobuf's re-encoding is "
                                         << want_bytes.size() << " bytes";
  }
  std::string again(EncodedSize(v), '\0');
  EncodeEnvelope(v, reinterpret_cast<uint8_t*>(again.data()));
  if (again != want_bytes) {
    return ::testing::AssertionFailure() << "input " << Hex(input) << " re-encodes to "
                                         << Hex(again) << ", libprotobuf's to " << Hex(want_bytes);
  }
  return ::testing::AssertionSuccess();
}

// Both sides accept `input`, as the envelope in text format `want`.
::testing::AssertionResult DecodesAs(std::string_view input, std::string_view want) {
  if (::testing::AssertionResult same = DecodesLikeProtobuf(input); !same) return same;
  EnvelopeView v;
  const absl::Status status = DecodeEnvelope(input.data(), input.size(), &v);
  if (!status.ok()) {
    return ::testing::AssertionFailure() << "input " << Hex(input) << " refused by both: "
                                         << status;
  }
  const wire::Envelope got = ToProto(v);
  if (!Equal(got, Proto(want))) {
    return ::testing::AssertionFailure() << "input " << Hex(input) << " decodes to {"
                                         << got.ShortDebugString() << "} on both sides, want {"
                                         << want << "}";
  }
  return ::testing::AssertionSuccess();
}

// Both sides refuse `input` (the codec with DATA_LOSS).
::testing::AssertionResult IsRefused(std::string_view input) {
  bool accepted;
  if (::testing::AssertionResult same = DecodesLikeProtobuf(input, &accepted); !same) return same;
  if (accepted) {
    return ::testing::AssertionFailure() << "input " << Hex(input) << " accepted by both";
  }
  return ::testing::AssertionSuccess();
}

// Runs DecodesLikeProtobuf over many inputs; reports the first few
// disagreements in full, then only counts them.
class ParityRun {
 public:
  void Check(std::string_view bytes) {
    bool accepted = false;
    const ::testing::AssertionResult same = DecodesLikeProtobuf(bytes, &accepted);
    ++checked_;
    if (accepted) ++accepted_;
    if (!same && ++failed_ <= kReported) ADD_FAILURE() << same.message();
  }
  int checked() const { return checked_; }
  int accepted() const { return accepted_; }
  int refused() const { return checked_ - accepted_; }
  int failed() const { return failed_; }

 private:
  static constexpr int kReported = 5;
  int checked_ = 0;
  int accepted_ = 0;
  int failed_ = 0;
};

// Checks `bytes` with each one of its bits flipped, one at a time.
void CheckEveryBitFlip(ParityRun& run, const std::string& bytes) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = bytes;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      run.Check(flipped);
    }
  }
}

// Whether libprotobuf accepts `s` as the value of a string field: `type`
// set to it, serialized, parsed back.
bool ProtobufAcceptsAsString(std::string_view s) {
  google::protobuf::LogSilencer quiet;  // it logs non-UTF-8 strings both ways
  wire::Envelope e;
  e.set_type(std::string(s));
  wire::Envelope back;
  return back.ParseFromString(e.SerializeAsString());
}

// `depth` nested groups of unknown field `field`, with a varint in the
// innermost one.
std::string NestedGroups(uint32_t field, int depth) {
  Raw raw;
  for (int i = 0; i < depth; ++i) raw.Tag(field, kStartGroup);
  raw.Tag(1, kVarint).Varint(1);
  for (int i = 0; i < depth; ++i) raw.Tag(field, kEndGroup);
  return raw.str();
}

// ---------------------------------------------------------------------------
// 1. Encoding.

TEST(EnvelopeEncodeTest, FullyPopulatedEnvelopeEncodesToLibprotobufsBytes) {
  const wire::Envelope e = FullEnvelope();
  EXPECT_TRUE(EncodesLikeProtobuf(e));
  EXPECT_TRUE(EncodesLikeProtobuf(SmallFullEnvelope()));
}

TEST(EnvelopeEncodeTest, EmptyEnvelopeEncodesToNothing) {
  const wire::Envelope e;
  EXPECT_EQ(EncodedSize(EnvelopeView(e)), 0u);
  EXPECT_TRUE(EncodesLikeProtobuf(e));
  EXPECT_EQ(EncodedSize(EnvelopeView()), 0u);
}

TEST(EnvelopeEncodeTest, KnownEnvelopeEncodesToTheBytesWorkedOutByHand) {
  const wire::Envelope e = Proto(R"pb(version: 1 kind: KIND_CAST recipient { name: "counter" })pb");
  const std::string want = Raw()
                               .Tag(kVersion, kVarint).Varint(1)
                               .Tag(kKind, kVarint).Varint(2)
                               .Len(kRecipient, Raw().Len(kName, "counter"))
                               .str();
  EXPECT_EQ(want, e.SerializeAsString());  // the oracle agrees with the hand
  EXPECT_TRUE(EncodesLikeProtobuf(e));
}

TEST(EnvelopeEncodeTest, DeadlineEncodesAfterTheDetailsWithATwoByteTag) {
  const wire::Envelope e = Proto(R"pb(timeout_us: 300000
                                      deadline_unix_us: 1700000000000000
                                      status_details { value: "v" })pb");
  const std::string want = Raw()
                               .Tag(kTimeoutUs, kVarint).Varint(300000)
                               .Len(kStatusDetails, Raw().Len(kValue, "v"))
                               .Tag(kDeadlineUnixUs, kVarint).Varint(1700000000000000)
                               .str();
  EXPECT_EQ(want.substr(want.size() - 10, 2), "\x80\x01"sv);  // field 16, varint
  EXPECT_EQ(want, e.SerializeAsString());  // the oracle agrees with the hand
  EXPECT_TRUE(EncodesLikeProtobuf(e));
  EnvelopeView v;
  ASSERT_THAT(DecodeEnvelope(want.data(), want.size(), &v), IsOk());
  EXPECT_EQ(v.deadline_unix_us, 1700000000000000);
  EXPECT_EQ(v.timeout_us, 300000);
  EXPECT_EQ(v.status_details.size(), 1u);
}

TEST(EnvelopeEncodeTest, NegativeInt32AndInt64AreTenByteVarints) {
  wire::Envelope e;
  e.set_status_code(-1);
  EXPECT_EQ(e.SerializeAsString(), "\x68\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01"sv);
  EXPECT_TRUE(EncodesLikeProtobuf(e));
  e.set_status_code(std::numeric_limits<int32_t>::min());
  EXPECT_TRUE(EncodesLikeProtobuf(e));
  e.Clear();
  e.set_timeout_us(-1);
  EXPECT_EQ(e.ByteSizeLong(), 11u);
  EXPECT_TRUE(EncodesLikeProtobuf(e));
  e.set_timeout_us(std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(EncodesLikeProtobuf(e));
  e.Clear();
  e.set_deadline_unix_us(-1);
  EXPECT_EQ(e.ByteSizeLong(), 12u);  // a 2-byte tag
  EXPECT_TRUE(EncodesLikeProtobuf(e));
  e.set_deadline_unix_us(std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(EncodesLikeProtobuf(e));
  e.Clear();
  e.set_kind(static_cast<wire::Kind>(-1));
  EXPECT_EQ(e.ByteSizeLong(), 11u);
  EXPECT_TRUE(EncodesLikeProtobuf(e));
}

TEST(EnvelopeEncodeTest, EveryVarintLengthAndEveryFieldAloneEncodesToLibprotobufsBytes) {
  for (int bits = 0; bits <= 64; ++bits) {
    const uint64_t u = bits == 0 ? 0 : ~uint64_t{0} >> (64 - bits);  // bits ones
    SCOPED_TRACE(bits);
    wire::Envelope e;
    e.set_version(static_cast<uint32_t>(u));
    EXPECT_TRUE(EncodesLikeProtobuf(e));
    e.Clear();
    e.set_kind(static_cast<wire::Kind>(static_cast<int32_t>(u)));
    EXPECT_TRUE(EncodesLikeProtobuf(e));
    e.Clear();
    e.mutable_sender()->set_pid(u);
    EXPECT_TRUE(EncodesLikeProtobuf(e));
    e.Clear();
    e.mutable_recipient()->set_incarnation(u);
    EXPECT_TRUE(EncodesLikeProtobuf(e));
    e.Clear();
    e.set_span_id(u);
    EXPECT_TRUE(EncodesLikeProtobuf(e));
    e.Clear();
    e.set_parent_span_id(u);
    EXPECT_TRUE(EncodesLikeProtobuf(e));
    e.Clear();
    e.set_ref(u);
    EXPECT_TRUE(EncodesLikeProtobuf(e));
    e.Clear();
    e.set_timeout_us(static_cast<int64_t>(u));
    EXPECT_TRUE(EncodesLikeProtobuf(e));
    e.Clear();
    e.set_deadline_unix_us(static_cast<int64_t>(u));
    EXPECT_TRUE(EncodesLikeProtobuf(e));
    e.Clear();
    e.set_status_code(static_cast<int32_t>(u));
    EXPECT_TRUE(EncodesLikeProtobuf(e));
  }
  // Lengths of 1, 2 and 3 bytes, at their boundaries.
  for (size_t n : {0u, 1u, 127u, 128u, 16383u, 16384u, 200000u}) {
    SCOPED_TRACE(n);
    wire::Envelope e;
    e.set_payload(std::string(n, 'p'));
    EXPECT_TRUE(EncodesLikeProtobuf(e));
    e.Clear();
    e.set_type(std::string(n, 't'));
    EXPECT_TRUE(EncodesLikeProtobuf(e));
    e.Clear();
    e.mutable_reply_to()->set_name(std::string(n, 'n'));  // the address's length grows too
    EXPECT_TRUE(EncodesLikeProtobuf(e));
  }
}

TEST(EnvelopeEncodeTest, PresentButEmptyAddressesEncodeToLibprotobufsBytes) {
  wire::Envelope e;
  e.mutable_sender();
  e.mutable_recipient();
  e.mutable_reply_to();
  EXPECT_EQ(e.SerializeAsString(), "\x22\x00\x2A\x00\x5A\x00"sv);
  EXPECT_TRUE(EncodesLikeProtobuf(e));
}

// Every field at its widest (10-byte varints, multi-byte lengths): the
// bound still holds, and is not far over.
TEST(EnvelopeEncodeTest, EncodedSizeBoundHoldsForTheWidestFields) {
  wire::Envelope e;
  e.set_version(~uint32_t{0});
  e.set_kind(static_cast<wire::Kind>(-1));
  e.set_type(std::string(300, 't'));
  for (wire::Address* a : {e.mutable_sender(), e.mutable_recipient(), e.mutable_reply_to()}) {
    a->set_node(std::string(200, 'n'));
    a->set_name(std::string(20000, 'x'));
    a->set_pid(~uint64_t{0});
    a->set_incarnation(~uint64_t{0});
  }
  e.set_payload(std::string(70000, 'p'));
  e.set_trace_id(std::string(16, 'i'));
  e.set_span_id(~uint64_t{0});
  e.set_parent_span_id(~uint64_t{0});
  e.set_ref(~uint64_t{0});
  e.set_timeout_us(-1);
  e.set_status_code(-1);
  e.set_status_message(std::string(129, 'm'));
  google::protobuf::Any* detail = e.add_status_details();
  detail->set_type_url("type.googleapis.com/x");
  detail->set_value(std::string(300, 'v'));
  e.set_deadline_unix_us(-1);
  e.set_trace_flags(~uint32_t{0});
  EXPECT_TRUE(EncodesLikeProtobuf(e));
  const EnvelopeView v(e);
  EXPECT_LE(EncodedSizeBound(v), EncodedSize(v) + 250);
}

// An address whose strings leave its body under 128 bytes has its length
// written after its body (one byte); longer ones are sized first. Both
// sides of that line encode like libprotobuf.
TEST(EnvelopeEncodeTest, AddressesAroundAOneByteBodyLengthEncodeToLibprotobufsBytes) {
  for (size_t strings = 95; strings <= 130; ++strings) {
    for (uint64_t number : {uint64_t{0}, uint64_t{1}, ~uint64_t{0}}) {
      wire::Envelope e;
      wire::Address* a = e.mutable_recipient();
      a->set_node(std::string(strings / 3, 'n'));
      a->set_name(std::string(strings - strings / 3, 'x'));
      a->set_pid(number);
      a->set_incarnation(number);
      EXPECT_TRUE(EncodesLikeProtobuf(e)) << strings << " bytes of strings, " << number;
    }
  }
}

TEST(EnvelopeEncodeTest, RandomEnvelopesEncodeToLibprotobufsBytes) {
  int failed = 0;
  for (const wire::Envelope& e : RandomEnvelopes()) {
    const ::testing::AssertionResult same = EncodesLikeProtobuf(e);
    if (!same && ++failed <= 5) ADD_FAILURE() << same.message();
  }
  EXPECT_EQ(failed, 0) << "of " << RandomEnvelopes().size();
}

TEST(EnvelopeEncodeTest, AHandBuiltViewEncodesLikeItsProto) {
  const std::string bytes("\x01\x02\x03");
  EnvelopeView v;
  v.kind = wire::KIND_CAST;
  v.type = "polis.examples.CounterRequest";
  v.recipient = {.name = "counter", .present = true};
  v.payload = bytes;
  const wire::Envelope e = ToProto(v);
  EXPECT_EQ(e.recipient().name(), "counter");
  EXPECT_EQ(e.payload(), bytes);
  std::string buf(EncodedSize(v), '\0');
  EXPECT_EQ(EncodeEnvelope(v, reinterpret_cast<uint8_t*>(buf.data())),
            reinterpret_cast<uint8_t*>(buf.data()) + buf.size());
  EXPECT_EQ(buf, e.SerializeAsString());
}

TEST(EnvelopeEncodeTest, APayloadMessageEncodesLikeItsSerializedBytes) {
  for (const wire::Envelope& inner : RandomEnvelopes()) {
    // Any message serves as a payload; a random Envelope is a varied one
    // (including empty, which encodes to no payload field at all).
    EnvelopeView by_bytes;
    by_bytes.kind = wire::KIND_CAST;
    by_bytes.recipient = {.name = "sink", .present = true};
    const std::string bytes = inner.SerializeAsString();
    by_bytes.payload = bytes;
    EnvelopeView by_message = by_bytes;
    by_message.payload = "ignored when payload_message is set";
    by_message.payload_message = &inner;
    const size_t size = EncodedSize(by_message);
    ASSERT_EQ(size, EncodedSize(by_bytes));
    std::string buf(size, '\0');
    ASSERT_EQ(EncodeEnvelope(by_message, reinterpret_cast<uint8_t*>(buf.data())),
              reinterpret_cast<uint8_t*>(buf.data()) + size);
    std::string want(size, '\0');
    EncodeEnvelope(by_bytes, reinterpret_cast<uint8_t*>(want.data()));
    ASSERT_EQ(buf, want);
    EXPECT_EQ(ToProto(by_message).payload(), bytes);
  }
}

TEST(EnvelopeEncodeTest, AbsentAddressEncodesToNothingWhateverItsFields) {
  EnvelopeView v;
  v.sender = {.node = "n", .name = "x", .pid = 7, .incarnation = 1, .present = false};
  EXPECT_EQ(EncodedSize(v), 0u);
  EXPECT_FALSE(ToProto(v).has_sender());
}

// ---------------------------------------------------------------------------
// 2. Decoding.

TEST(EnvelopeDecodeTest, RandomEncodingsDecodeBackToTheSameEnvelope) {
  int failed = 0;
  auto fail = [&failed]() -> bool { return ++failed <= 5; };
  for (const wire::Envelope& e : RandomEnvelopes()) {
    const std::string bytes = e.SerializeAsString();
    EnvelopeView v;
    const absl::Status status = DecodeEnvelope(bytes.data(), bytes.size(), &v);
    if (!status.ok()) {
      if (fail()) ADD_FAILURE() << status << " for " << Hex(bytes) << " {" << e.ShortDebugString() << "}";
      continue;
    }
    const wire::Envelope back = ToProto(v);
    if (!Equal(back, e)) {
      if (fail()) {
        ADD_FAILURE() << Hex(bytes) << " decodes to {" << back.ShortDebugString() << "}, want {"
                      << e.ShortDebugString() << "}";
      }
      continue;
    }
    if (!v.payload.empty() && !Inside(v.payload, bytes)) {
      if (fail()) ADD_FAILURE() << "payload not inside the input " << Hex(bytes);
      continue;
    }
    if (const char* field = StringOutside(v, bytes)) {
      if (fail()) ADD_FAILURE() << field << " not inside the input " << Hex(bytes);
    }
  }
  EXPECT_EQ(failed, 0) << "of " << RandomEnvelopes().size();
}

TEST(EnvelopeDecodeTest, FullEnvelopeDecodesWithEveryFieldAndAddress) {
  const wire::Envelope e = FullEnvelope();
  const std::string bytes = e.SerializeAsString();
  EnvelopeView v;
  ASSERT_THAT(DecodeEnvelope(bytes.data(), bytes.size(), &v), IsOk());
  EXPECT_EQ(v.version, 1u);
  EXPECT_EQ(v.kind, wire::KIND_REPLY);
  EXPECT_EQ(v.type, "polis.examples.CounterRequest");
  EXPECT_TRUE(v.sender.present);
  EXPECT_EQ(v.sender.node, "node-a");
  EXPECT_EQ(v.sender.name, "caller");
  EXPECT_EQ(v.sender.pid, 7u);
  EXPECT_EQ(v.sender.incarnation, 0xFEDCBA9876543210u);
  EXPECT_TRUE(v.recipient.present);
  EXPECT_EQ(v.recipient.incarnation, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(v.payload, e.payload());
  EXPECT_EQ(v.trace_id, e.trace_id());
  EXPECT_EQ(v.span_id, 0x1122334455667788u);
  EXPECT_EQ(v.parent_span_id, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(v.ref, std::numeric_limits<uint64_t>::max() - 1);
  EXPECT_TRUE(v.reply_to.present);
  EXPECT_EQ(v.reply_to.name, "日本語");
  EXPECT_EQ(v.timeout_us, -5'000'000);
  EXPECT_EQ(v.status_code, -3);
  EXPECT_EQ(v.status_message, "héllo 🌍");
  EXPECT_EQ(v.deadline_unix_us, 1'700'000'000'123'456);
  EXPECT_EQ(v.status_details.size(), 3u);
  std::vector<std::pair<std::string_view, std::string_view>> details;
  v.status_details.ForEach([&](std::string_view url, std::string_view value) {
    details.emplace_back(url, value);
  });
  ASSERT_EQ(details.size(), 3u);
  EXPECT_EQ(details[0].first, "type.googleapis.com/bank.InsufficientFunds");
  EXPECT_EQ(details[0].second, std::string(200, '\x7F'));
  EXPECT_EQ(details[1].first, "type.googleapis.com/ünïcödé.Empty");
  EXPECT_EQ(details[1].second, "");
  EXPECT_EQ(details[2].first, "");
  EXPECT_EQ(details[2].second, "\x00\xFF"sv);
  EXPECT_TRUE(Equal(ToProto(v), e));
}

TEST(EnvelopeDecodeTest, DecodedStringsAreViewsOfTheInputNotCopies) {
  const std::string bytes = Raw().Len(kPayload, "xyz").Len(kSender, Raw().Len(kNode, "n")).str();
  EnvelopeView v;
  ASSERT_THAT(DecodeEnvelope(bytes.data(), bytes.size(), &v), IsOk());
  EXPECT_EQ(v.payload.data(), bytes.data() + 2);
  EXPECT_EQ(v.payload.size(), 3u);
  EXPECT_EQ(v.sender.node.data(), bytes.data() + 9);
}

TEST(EnvelopeDecodeTest, EmptyInputIsAnEmptyEnvelope) {
  EnvelopeView v;
  ASSERT_THAT(DecodeEnvelope("", 0, &v), IsOk());
  EXPECT_TRUE(Equal(ToProto(v), wire::Envelope()));
  ASSERT_THAT(DecodeEnvelope(nullptr, 0, &v), IsOk());
  EXPECT_TRUE(Equal(ToProto(v), wire::Envelope()));
}

TEST(EnvelopeDecodeTest, DecodingOverwritesEveryFieldOfAReusedView) {
  const std::string full = FullEnvelope().SerializeAsString();
  EnvelopeView v;
  ASSERT_THAT(DecodeEnvelope(full.data(), full.size(), &v), IsOk());
  const std::string small = Raw().Len(kSender, Raw().Tag(kPid, kVarint).Varint(7)).str();
  ASSERT_THAT(DecodeEnvelope(small.data(), small.size(), &v), IsOk());
  EXPECT_TRUE(Equal(ToProto(v), Proto("sender { pid: 7 }"))) << ToProto(v).ShortDebugString();
  ASSERT_THAT(DecodeEnvelope("", 0, &v), IsOk());
  EXPECT_TRUE(Equal(ToProto(v), wire::Envelope())) << ToProto(v).ShortDebugString();
  // After a refusal too.
  ASSERT_THAT(DecodeEnvelope(full.data(), full.size(), &v), IsOk());
  EXPECT_THAT(DecodeEnvelope("\x0F", 1, &v), StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_THAT(DecodeEnvelope(small.data(), small.size(), &v), IsOk());
  EXPECT_TRUE(Equal(ToProto(v), Proto("sender { pid: 7 }"))) << ToProto(v).ShortDebugString();
}

// ---------------------------------------------------------------------------
// 3. Parity with libprotobuf on malformed and adversarial input.

// Valid encodings to cut and flip: a few hundred bytes each.
std::vector<std::string> ValidEncodings() {
  std::vector<std::string> out = {SmallFullEnvelope().SerializeAsString(),
                                  UnusualButValidEncoding()};
  for (const wire::Envelope& e : RandomEnvelopes()) {
    if (out.size() == 6) break;
    const size_t n = e.ByteSizeLong();
    if (n >= 80 && n <= 400 && e.has_sender()) out.push_back(e.SerializeAsString());
  }
  return out;
}

TEST(EnvelopeParityTest, ValidEncodingsForCuttingAndFlippingAreAccepted) {
  const std::vector<std::string> valid = ValidEncodings();
  EXPECT_EQ(valid.size(), 6u);
  for (const std::string& bytes : valid) {
    bool accepted = false;
    EXPECT_TRUE(DecodesLikeProtobuf(bytes, &accepted));
    EXPECT_TRUE(accepted) << Hex(bytes);
  }
  EXPECT_TRUE(DecodesAs(UnusualButValidEncoding(),
                        R"pb(version: 1 sender { node: "a" pid: 7 } span_id: 42 payload: "p")pb"));
}

TEST(EnvelopeParityTest, EveryTruncationDecodesLikeLibprotobuf) {
  ParityRun run;
  for (const std::string& bytes : ValidEncodings()) {
    for (size_t n = 0; n <= bytes.size(); ++n) run.Check(std::string_view(bytes).substr(0, n));
  }
  EXPECT_EQ(run.failed(), 0) << "of " << run.checked();
  EXPECT_GT(run.accepted(), 20);  // cuts between fields are valid envelopes
  EXPECT_GT(run.refused(), 500);
}

TEST(EnvelopeParityTest, EveryBitFlipDecodesLikeLibprotobuf) {
  ParityRun run;
  for (const std::string& bytes : ValidEncodings()) CheckEveryBitFlip(run, bytes);
  EXPECT_EQ(run.failed(), 0) << "of " << run.checked();
  EXPECT_GT(run.accepted(), 1000);
  EXPECT_GT(run.refused(), 1000);
}

TEST(EnvelopeParityTest, RandomBytesDecodeLikeLibprotobuf) {
  Random r(1);
  ParityRun run;
  for (int i = 0; i < 10000; ++i) run.Check(r.Bytes(r.Below(65)));
  EXPECT_EQ(run.failed(), 0) << "of " << run.checked();
}

// A random sequence of fields, mostly well-formed: known and unknown field
// numbers, right and wrong wire types, strings valid UTF-8 or not, groups,
// now and then a cut or a bad length. Up to about 64 bytes.
std::string RandomFieldSoup(Random& r, bool in_address = false, bool in_any = false) {
  Raw raw;
  std::vector<uint32_t> open_groups;
  const int fields = static_cast<int>(r.Below(in_address || in_any ? 4 : 7));
  for (int i = 0; i < fields; ++i) {
    const uint32_t field = r.OneIn(8)   ? static_cast<uint32_t>(r.Below(kMaxFieldNumber + 1))
                           : r.OneIn(4) ? 0
                                        : static_cast<uint32_t>(r.Below(17));
    int wire_type;
    if (r.OneIn(4)) {
      wire_type = static_cast<int>(r.Below(8));
    } else if (in_address) {
      wire_type = field == kNode || field == kName ? kLen : kVarint;
    } else if (in_any) {
      wire_type = field == kTypeUrl || field == kValue ? kLen : kVarint;
    } else {
      switch (field) {
        case kType: case kSender: case kRecipient: case kPayload: case kTraceId: case kReplyTo:
        case kStatusMessage: case kStatusDetails:
          wire_type = kLen;
          break;
        case kSpanId: case kParentSpanId:
          wire_type = kFixed64;
          break;
        default:
          wire_type = kVarint;
      }
    }
    if (wire_type == kEndGroup && !open_groups.empty() && !r.OneIn(4)) {
      raw.Tag(open_groups.back(), kEndGroup);
      open_groups.pop_back();
      continue;
    }
    raw.Tag(field, wire_type);
    switch (wire_type) {
      case kVarint:
        if (r.OneIn(16)) {
          raw.Bytes("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01"sv.substr(0, 9 + r.Below(3)));
        } else {
          raw.Varint(r.AnyWidth());
        }
        break;
      case kFixed64:
        raw.Bytes(r.Bytes(r.OneIn(8) ? r.Below(8) : 8));
        break;
      case kFixed32:
        raw.Bytes(r.Bytes(r.OneIn(8) ? r.Below(4) : 4));
        break;
      case kLen: {
        std::string body;
        if (!in_address && !in_any &&
            (field == kSender || field == kRecipient || field == kReplyTo)) {
          body = RandomFieldSoup(r, /*in_address=*/true);
        } else if (!in_address && !in_any && field == kStatusDetails) {
          body = RandomFieldSoup(r, /*in_address=*/false, /*in_any=*/true);
        } else if (r.OneIn(3)) {
          body = r.Bytes(r.Below(8));  // most likely not UTF-8
        } else {
          body = r.Text(6);
        }
        const int64_t skew = r.OneIn(8) ? static_cast<int64_t>(r.Below(5)) - 2 : 0;
        raw.Varint(static_cast<uint64_t>(std::max<int64_t>(0, static_cast<int64_t>(body.size()) + skew)));
        raw.Bytes(body);
        break;
      }
      case kStartGroup:
        open_groups.push_back(field);
        break;
      default:  // end group with none open, wire types 6 and 7: nothing follows
        break;
    }
  }
  while (!open_groups.empty() && !r.OneIn(8)) {
    raw.Tag(open_groups.back(), kEndGroup);
    open_groups.pop_back();
  }
  std::string out = raw.str();
  if (r.OneIn(10) && !out.empty()) out.resize(r.Below(out.size()));
  return out;
}

TEST(EnvelopeParityTest, RandomFieldSoupDecodesLikeLibprotobuf) {
  Random r(2);
  ParityRun run;
  for (int i = 0; i < 20000; ++i) run.Check(RandomFieldSoup(r));
  EXPECT_EQ(run.failed(), 0) << "of " << run.checked();
  // Both verdicts are common, or the soup tests little.
  EXPECT_GT(run.accepted(), 2000);
  EXPECT_GT(run.refused(), 2000);
}

TEST(EnvelopeParityTest, UnknownFieldsOfEveryWireTypeAreSkipped) {
  EXPECT_TRUE(DecodesAs(Raw().Tag(kUnknown, kVarint).Varint(~uint64_t{0}).Tag(kRef, kVarint).Varint(5),
                        "ref: 5"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kUnknown, kFixed64).Fixed64(1).Tag(kRef, kVarint).Varint(5),
                        "ref: 5"));
  EXPECT_TRUE(DecodesAs(Raw().Len(kUnknown, "\xFF\x00\xC0\x80"sv).Tag(kRef, kVarint).Varint(5),
                        "ref: 5"));
  EXPECT_TRUE(DecodesAs(Raw().Len(kUnknown, "").Tag(kRef, kVarint).Varint(5), "ref: 5"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kUnknown, kFixed32).Fixed32(1).Tag(kRef, kVarint).Varint(5),
                        "ref: 5"));
  EXPECT_TRUE(DecodesAs(Raw()
                            .Tag(kUnknown, kStartGroup)
                            .Tag(1, kVarint).Varint(300)
                            .Tag(2, kFixed64).Fixed64(2)
                            .Len(3, "\xC0\x80"sv)  // not UTF-8, but nobody asks
                            .Tag(4, kFixed32).Fixed32(4)
                            .Tag(kUnknown + 1, kStartGroup)
                            .Tag(kType, kLen).Varint(1).Bytes("x")  // not Envelope.type here
                            .Tag(kUnknown + 1, kEndGroup)
                            .Tag(kUnknown, kEndGroup)
                            .Tag(kRef, kVarint).Varint(5),
                        "ref: 5"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kUnknown, kStartGroup).Tag(kUnknown, kEndGroup), ""));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kMaxFieldNumber, kVarint).Varint(1), ""));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kMaxFieldNumber, kStartGroup).Tag(kMaxFieldNumber, kEndGroup), ""));
  // Inside an address.
  EXPECT_TRUE(DecodesAs(Raw().Len(kSender, Raw()
                                               .Tag(kUnknown, kVarint).Varint(1)
                                               .Len(kNode, "a")
                                               .Tag(kUnknown, kFixed64).Fixed64(1)
                                               .Len(kUnknown, "\xFF"sv)
                                               .Tag(kUnknown, kFixed32).Fixed32(1)
                                               .Tag(kUnknown, kStartGroup)
                                               .Tag(1, kVarint).Varint(1)
                                               .Tag(kUnknown, kEndGroup)
                                               .Tag(kPid, kVarint).Varint(7)),
                        R"pb(sender { node: "a" pid: 7 })pb"));
}

TEST(EnvelopeParityTest, KnownFieldWithAnotherWireTypeIsSkippedAsUnknown) {
  EXPECT_TRUE(DecodesAs(Raw().Tag(kType, kVarint).Varint(5), ""));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kSpanId, kVarint).Varint(5), ""));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kSpanId, kFixed32).Fixed32(5), ""));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kVersion, kFixed32).Fixed32(5), ""));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kVersion, kLen).Varint(1).Bytes("\x05"), ""));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kTimeoutUs, kFixed64).Fixed64(5), ""));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kDeadlineUnixUs, kFixed64).Fixed64(5), ""));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kPayload, kFixed32).Fixed32(5), ""));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kSender, kVarint).Varint(5), ""));  // no sender at all
  EXPECT_TRUE(DecodesAs(Raw()
                            .Tag(kSender, kStartGroup)
                            .Len(kNode, "a")
                            .Tag(kSender, kEndGroup),
                        ""));
  // A string field as a group: its content is not checked as UTF-8.
  EXPECT_TRUE(DecodesAs(Raw().Tag(kType, kStartGroup).Len(1, "\xC0\x80"sv).Tag(kType, kEndGroup),
                        ""));
  // In an address: the address is there, the field is not.
  EXPECT_TRUE(DecodesAs(Raw().Len(kSender, Raw().Tag(kNode, kVarint).Varint(1)), "sender {}"));
  EXPECT_TRUE(DecodesAs(Raw().Len(kSender, Raw().Len(kPid, "7")), "sender {}"));
  // The wrong wire type between two right ones keeps the right ones' last.
  EXPECT_TRUE(DecodesAs(Raw()
                            .Tag(kSpanId, kFixed64).Fixed64(1)
                            .Tag(kSpanId, kVarint).Varint(2)
                            .Tag(kSpanId, kFixed64).Fixed64(3)
                            .Tag(kSpanId, kVarint).Varint(4),
                        "span_id: 3"));
}

TEST(EnvelopeParityTest, ScalarSeenTwiceKeepsTheLastValue) {
  EXPECT_TRUE(DecodesAs(Raw().Tag(kVersion, kVarint).Varint(1).Tag(kVersion, kVarint).Varint(2),
                        "version: 2"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kVersion, kVarint).Varint(1).Tag(kVersion, kVarint).Varint(0),
                        ""));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kKind, kVarint).Varint(1).Tag(kKind, kVarint).Varint(4),
                        "kind: KIND_REPLY"));
  EXPECT_TRUE(DecodesAs(Raw().Len(kType, "a").Len(kType, "b"), R"pb(type: "b")pb"));
  EXPECT_TRUE(DecodesAs(Raw().Len(kType, "a").Len(kType, ""), ""));
  EXPECT_TRUE(DecodesAs(Raw().Len(kPayload, "long payload").Len(kPayload, "p"), R"pb(payload: "p")pb"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kSpanId, kFixed64).Fixed64(1).Tag(kSpanId, kFixed64).Fixed64(2),
                        "span_id: 2"));
  EXPECT_TRUE(DecodesAs(Raw()
                            .Tag(kStatusCode, kVarint).Varint(static_cast<uint64_t>(int64_t{-1}))
                            .Tag(kStatusCode, kVarint).Varint(3),
                        "status_code: 3"));
  EXPECT_TRUE(DecodesAs(Raw()
                            .Tag(kTimeoutUs, kVarint).Varint(5)
                            .Tag(kRef, kVarint).Varint(1)
                            .Tag(kTimeoutUs, kVarint).Varint(static_cast<uint64_t>(int64_t{-7})),
                        "timeout_us: -7 ref: 1"));
  EXPECT_TRUE(DecodesAs(Raw()
                            .Tag(kDeadlineUnixUs, kVarint).Varint(5)
                            .Tag(kDeadlineUnixUs, kVarint).Varint(9),
                        "deadline_unix_us: 9"));
  EXPECT_TRUE(DecodesAs(Raw().Len(kSender, Raw().Len(kNode, "a").Len(kNode, "b")),
                        R"pb(sender { node: "b" })pb"));
}

TEST(EnvelopeParityTest, AddressSeenTwiceIsMerged) {
  EXPECT_TRUE(DecodesAs(Raw()
                            .Len(kSender, Raw().Len(kNode, "a"))
                            .Len(kSender, Raw().Tag(kPid, kVarint).Varint(7)),
                        R"pb(sender { node: "a" pid: 7 })pb"));
  EXPECT_TRUE(DecodesAs(Raw()
                            .Len(kSender, Raw().Len(kNode, "a").Tag(kPid, kVarint).Varint(1))
                            .Tag(kVersion, kVarint).Varint(1)
                            .Len(kSender, Raw().Len(kNode, "b").Tag(kIncarnation, kVarint).Varint(9)),
                        R"pb(version: 1 sender { node: "b" pid: 1 incarnation: 9 })pb"));
  EXPECT_TRUE(DecodesAs(Raw().Len(kRecipient, Raw().Len(kName, "x")).Len(kRecipient, ""),
                        R"pb(recipient { name: "x" })pb"));
  EXPECT_TRUE(DecodesAs(Raw().Len(kReplyTo, "").Len(kReplyTo, Raw().Tag(kPid, kVarint).Varint(3)),
                        "reply_to { pid: 3 }"));
  // Zero on the wire still overwrites.
  EXPECT_TRUE(DecodesAs(Raw()
                            .Len(kReplyTo, Raw().Tag(kPid, kVarint).Varint(3))
                            .Len(kReplyTo, Raw().Tag(kPid, kVarint).Varint(0)),
                        "reply_to {}"));
  // Each address alone, present but empty.
  EXPECT_TRUE(DecodesAs(Raw().Len(kSender, ""), "sender {}"));
  EXPECT_TRUE(DecodesAs(Raw().Len(kRecipient, ""), "recipient {}"));
  EXPECT_TRUE(DecodesAs(Raw().Len(kReplyTo, ""), "reply_to {}"));
}

TEST(EnvelopeParityTest, FieldNumberZeroIsRefused) {
  EXPECT_TRUE(IsRefused(Raw().Tag(0, kVarint).Varint(1)));
  EXPECT_TRUE(IsRefused("\x00"sv));
  EXPECT_TRUE(IsRefused("\x04"sv));  // field 0, end group
  EXPECT_TRUE(IsRefused(Raw().Tag(0, kLen).Varint(0)));
  EXPECT_TRUE(IsRefused(Raw().Tag(0, kFixed32).Fixed32(0)));
  EXPECT_TRUE(IsRefused(Raw().Tag(kVersion, kVarint).Varint(1).Tag(0, kVarint).Varint(1)));
  EXPECT_TRUE(IsRefused(Raw().Len(kSender, Raw().Tag(0, kVarint).Varint(1))));
  EXPECT_TRUE(IsRefused(Raw().Tag(kUnknown, kStartGroup).Tag(0, kVarint).Varint(1).Tag(kUnknown, kEndGroup)));
}

TEST(EnvelopeParityTest, WireTypesSixAndSevenAreRefused) {
  for (int wire_type : {6, 7}) {
    SCOPED_TRACE(wire_type);
    EXPECT_TRUE(IsRefused(Raw().Tag(kVersion, wire_type).Varint(1)));
    EXPECT_TRUE(IsRefused(Raw().Tag(kUnknown, wire_type)));
    EXPECT_TRUE(IsRefused(Raw().Tag(kUnknown, wire_type).Fixed64(0)));
    EXPECT_TRUE(IsRefused(Raw().Len(kSender, Raw().Tag(kUnknown, wire_type).Varint(1))));
    EXPECT_TRUE(IsRefused(Raw().Tag(kUnknown, kStartGroup).Tag(1, wire_type).Tag(kUnknown, kEndGroup)));
  }
}

TEST(EnvelopeParityTest, StrayEndGroupIsRefused) {
  EXPECT_TRUE(IsRefused(Raw().Tag(kUnknown, kEndGroup)));
  EXPECT_TRUE(IsRefused(Raw().Tag(kVersion, kVarint).Varint(1).Tag(kUnknown, kEndGroup)));
  EXPECT_TRUE(IsRefused(Raw().Tag(kSender, kEndGroup)));
  EXPECT_TRUE(IsRefused(Raw().Len(kSender, Raw().Tag(kUnknown, kEndGroup))));
  EXPECT_TRUE(IsRefused(Raw().Len(kSender, Raw().Len(kNode, "a").Tag(kNode, kEndGroup))));
}

TEST(EnvelopeParityTest, UnterminatedOrMismatchedGroupIsRefused) {
  EXPECT_TRUE(IsRefused(Raw().Tag(kUnknown, kStartGroup)));
  EXPECT_TRUE(IsRefused(Raw().Tag(kUnknown, kStartGroup).Tag(1, kVarint).Varint(1)));
  EXPECT_TRUE(IsRefused(Raw()
                            .Tag(kUnknown, kStartGroup)
                            .Tag(kUnknown + 1, kStartGroup)
                            .Tag(kUnknown + 1, kEndGroup)));
  EXPECT_TRUE(IsRefused(Raw().Tag(kUnknown, kStartGroup).Tag(kUnknown + 1, kEndGroup)));
  EXPECT_TRUE(IsRefused(Raw()
                            .Tag(kUnknown, kStartGroup)
                            .Tag(kUnknown + 1, kStartGroup)
                            .Tag(kUnknown, kEndGroup)
                            .Tag(kUnknown + 1, kEndGroup)));
  // A group opened inside an address may not close outside it.
  EXPECT_TRUE(IsRefused(Raw().Len(kSender, Raw().Tag(kUnknown, kStartGroup)).Tag(kUnknown, kEndGroup)));
  EXPECT_TRUE(IsRefused(Raw().Len(kSender, Raw().Tag(kUnknown, kStartGroup))));
}

TEST(EnvelopeParityTest, OverlongVarintsAreRefused) {
  const std::string ten_continued(10, '\xFF');  // 10 bytes, the last still continued
  for (uint32_t field : {kVersion, kKind, kRef, kTimeoutUs, kStatusCode, kUnknown}) {
    SCOPED_TRACE(field);
    EXPECT_TRUE(IsRefused(Raw().Tag(field, kVarint).Bytes(ten_continued)));
    EXPECT_TRUE(IsRefused(Raw().Tag(field, kVarint).Bytes(ten_continued).Bytes("\x01")));  // 11 bytes
    EXPECT_TRUE(IsRefused(Raw().Tag(field, kVarint).Bytes(ten_continued).Bytes("\x00"sv)));
    EXPECT_TRUE(IsRefused(Raw()
                              .Tag(field, kVarint)
                              .Bytes("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"sv)));
  }
  EXPECT_TRUE(IsRefused(Raw().Len(kSender, Raw().Tag(kPid, kVarint).Bytes(ten_continued).Bytes("\x01"))));
  EXPECT_TRUE(IsRefused(Raw()
                            .Tag(kUnknown, kStartGroup)
                            .Tag(1, kVarint).Bytes(ten_continued).Bytes("\x01")
                            .Tag(kUnknown, kEndGroup)));
  // Cut varints.
  EXPECT_TRUE(IsRefused(Raw().Tag(kVersion, kVarint)));
  EXPECT_TRUE(IsRefused(Raw().Tag(kRef, kVarint).Bytes("\x80")));
  EXPECT_TRUE(IsRefused("\x80"sv));  // a cut tag
}

TEST(EnvelopeParityTest, TenByteVarintsAndWideValuesDecodeLikeLibprotobuf) {
  // Padded to 10 bytes: still 1.
  EXPECT_TRUE(DecodesAs(Raw().Tag(kRef, kVarint).Bytes("\x81\x80\x80\x80\x80\x80\x80\x80\x80\x00"sv),
                        "ref: 1"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kVersion, kVarint).Bytes("\x81\x80\x80\x80\x80\x80\x80\x80\x80\x00"sv),
                        "version: 1"));
  // The 10th byte holds bit 63; its other bits are past 64 bits. libprotobuf
  // drops them (parity only, whatever it does).
  for (std::string_view last : {"\x01"sv, "\x02"sv, "\x03"sv, "\x7F"sv}) {
    const std::string nine_ones(9, '\xFF');
    for (uint32_t field : {kVersion, kKind, kRef, kTimeoutUs, kStatusCode, kDeadlineUnixUs, kUnknown}) {
      EXPECT_TRUE(DecodesLikeProtobuf(Raw().Tag(field, kVarint).Bytes(nine_ones).Bytes(last)));
      EXPECT_TRUE(DecodesLikeProtobuf(Raw().Len(kSender, Raw().Tag(kPid, kVarint).Bytes(nine_ones).Bytes(last))));
    }
  }
  EXPECT_TRUE(DecodesAs(Raw().Tag(kRef, kVarint).Bytes(std::string(9, '\xFF')).Bytes("\x01"),
                        "ref: 18446744073709551615"));
  // 32-bit fields keep the low 32 bits of a wider varint.
  EXPECT_TRUE(DecodesAs(Raw().Tag(kVersion, kVarint).Varint((uint64_t{1} << 32) + 5), "version: 5"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kKind, kVarint).Varint((uint64_t{1} << 32) + 2), "kind: KIND_CAST"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kStatusCode, kVarint).Varint(0xFFFFFFFF), "status_code: -1"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kStatusCode, kVarint).Varint(0x80000000), "status_code: -2147483648"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kStatusCode, kVarint).Varint(~uint64_t{0}), "status_code: -1"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kTimeoutUs, kVarint).Varint(~uint64_t{0}), "timeout_us: -1"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kDeadlineUnixUs, kVarint).Varint(~uint64_t{0}),
                        "deadline_unix_us: -1"));
}

// The decoder reads a varint with 8 or more bytes left in one load, and
// byte by byte nearer the end: every encoding of 1 to 11 bytes (shortest,
// padded, over-long, cut), as a value, a tag and a length, in the envelope
// and in an address, with 0 to 12 bytes after it, decodes like libprotobuf.
TEST(EnvelopeParityTest, VarintsOfEveryLengthDecodeLikeLibprotobufWhateverFollows) {
  std::vector<std::string> varints;
  for (int bytes = 1; bytes <= 11; ++bytes) {
    // 0x01 padded to `bytes` (the last byte ends it), all-ones, and the same
    // with the last byte still continued (cut or over-long).
    const std::string padded =
        bytes == 1 ? "\x01" : "\x81" + std::string(bytes - 2, '\x80') + std::string(1, '\0');
    const std::string ones(bytes - 1, '\xFF');
    for (std::string_view last : {"\x01"sv, "\x7F"sv, "\x00"sv, "\x80"sv, "\xFF"sv}) {
      varints.push_back(ones + std::string(last));
    }
    varints.push_back(padded);
  }
  // A field after the varint, cut to 0..12 bytes (a ref: tag, then varint).
  const std::string after = Raw().Tag(kRef, kVarint).Varint(~uint64_t{0} >> 2).str();  // 10 bytes
  ASSERT_GE(after.size(), 10u);
  for (const std::string& varint : varints) {
    for (size_t tail = 0; tail <= 12; ++tail) {
      const std::string rest = after.substr(0, std::min(tail, after.size())) +
                               std::string(tail > after.size() ? tail - after.size() : 0, '\0');
      SCOPED_TRACE(Hex(varint) + " then " + Hex(rest));
      // As a value, of the envelope and of an address.
      for (uint32_t field : {kRef, kTimeoutUs, kDeadlineUnixUs, kUnknown}) {
        EXPECT_TRUE(DecodesLikeProtobuf(Raw().Tag(field, kVarint).Bytes(varint).Bytes(rest)));
      }
      EXPECT_TRUE(DecodesLikeProtobuf(
          Raw().Len(kSender, Raw().Tag(kIncarnation, kVarint).Bytes(varint).Bytes(rest))));
      // As a tag (0x08 padded: field 1, a varint; 0x80.. padded: field 0).
      std::string tag = varint;
      tag[0] = static_cast<char>((tag[0] & 0x80) | 0x08);
      EXPECT_TRUE(DecodesLikeProtobuf(Raw().Bytes(tag).Bytes("\x05"sv).Bytes(rest)));
      // As a length (of the type, then of an address).
      EXPECT_TRUE(DecodesLikeProtobuf(Raw().Tag(kType, kLen).Bytes(varint).Bytes("x").Bytes(rest)));
      EXPECT_TRUE(DecodesLikeProtobuf(Raw().Tag(kSender, kLen).Bytes(varint).Bytes(rest)));
    }
  }
}

TEST(EnvelopeParityTest, TagsAndLengthsInUnusualEncodingsDecodeLikeLibprotobuf) {
  // libprotobuf reads a tag as at most 5 bytes of varint, truncated to 32
  // bits, and a length as at most 5 bytes below 2^31. Padded forms within
  // those bounds are accepted; whatever libprotobuf does, the codec must too.
  EXPECT_TRUE(DecodesAs("\x88\x00\x05"sv, "version: 5"));                  // tag 8 in 2 bytes
  EXPECT_TRUE(DecodesAs("\x88\x80\x80\x80\x00\x05"sv, "version: 5"));      // ... in 5 bytes
  EXPECT_TRUE(DecodesLikeProtobuf("\x88\x80\x80\x80\x80\x00\x05"sv));      // ... in 6 bytes
  EXPECT_TRUE(DecodesLikeProtobuf("\x88\x80\x80\x80\x10\x05"sv));          // tag 8 + 2^32
  EXPECT_TRUE(DecodesLikeProtobuf("\x80\x80\x80\x80\x10\x05"sv));          // tag 2^32
  EXPECT_TRUE(DecodesLikeProtobuf("\xF8\xFF\xFF\xFF\x1F\x05"sv));          // field 2^30 - 1
  EXPECT_TRUE(DecodesLikeProtobuf("\xF8\xFF\xFF\xFF\xFF\x01\x05"sv));      // a 6-byte tag
  EXPECT_TRUE(DecodesAs("\x1A\x81\x00x"sv, R"pb(type: "x")pb"));           // length 1 in 2 bytes
  EXPECT_TRUE(DecodesAs("\x1A\x81\x80\x80\x80\x00x"sv, R"pb(type: "x")pb"));  // ... in 5
  EXPECT_TRUE(DecodesLikeProtobuf("\x1A\x81\x80\x80\x80\x80\x00x"sv));     // ... in 6
  EXPECT_TRUE(DecodesLikeProtobuf("\xA2\x01\x81\x80\x80\x80\x80\x00x"sv)); // unknown, in 6
  EXPECT_TRUE(DecodesLikeProtobuf("\x22\x81\x80\x80\x80\x80\x00\x00"sv));  // an address, in 6
  EXPECT_TRUE(DecodesAs("\x22\x80\x80\x00"sv, "sender {}"));               // length 0 in 3
}

TEST(EnvelopeParityTest, LengthPastTheEndIsRefused) {
  EXPECT_TRUE(IsRefused(Raw().Tag(kType, kLen).Varint(5).Bytes("abc")));
  EXPECT_TRUE(IsRefused(Raw().Tag(kPayload, kLen).Varint(1)));
  EXPECT_TRUE(IsRefused(Raw().Tag(kTraceId, kLen).Varint(17).Bytes(std::string(16, 't'))));
  EXPECT_TRUE(IsRefused(Raw().Tag(kUnknown, kLen).Varint(100).Bytes("abc")));
  EXPECT_TRUE(IsRefused(Raw().Tag(kSender, kLen).Varint(3).Bytes("\x08\x01")));
  EXPECT_TRUE(IsRefused(Raw().Tag(kPayload, kLen).Varint(0x7FFFFFFF).Bytes("abc")));
  EXPECT_TRUE(IsRefused(Raw().Tag(kPayload, kLen).Varint(0xFFFFFFFF).Bytes("abc")));
  EXPECT_TRUE(IsRefused(Raw().Tag(kPayload, kLen).Varint(uint64_t{1} << 62).Bytes("abc")));
  EXPECT_TRUE(IsRefused(Raw().Tag(kPayload, kLen).Varint(~uint64_t{0}).Bytes("abc")));
  // A string inside an address may not run past the address, even when the
  // input goes on.
  EXPECT_TRUE(IsRefused(Raw()
                            .Tag(kSender, kLen).Varint(4)
                            .Tag(kNode, kLen).Varint(10).Bytes("ab")
                            .Len(kPayload, "12345678")));
  EXPECT_TRUE(IsRefused(Raw()
                            .Tag(kSender, kLen).Varint(2)
                            .Tag(kPid, kVarint).Bytes("\x80\x01")));  // varint across the end
  EXPECT_TRUE(IsRefused(Raw()
                            .Tag(kSender, kLen).Varint(3)
                            .Tag(kUnknown, kFixed32).Fixed32(0)));  // fixed32 across the end
}

TEST(EnvelopeParityTest, TruncatedFixedWidthFieldsAreRefused) {
  for (size_t n = 0; n < 8; ++n) {
    EXPECT_TRUE(IsRefused(Raw().Tag(kSpanId, kFixed64).Bytes(std::string(n, '\x01'))));
    EXPECT_TRUE(IsRefused(Raw().Tag(kUnknown, kFixed64).Bytes(std::string(n, '\x01'))));
  }
  for (size_t n = 0; n < 4; ++n) {
    EXPECT_TRUE(IsRefused(Raw().Tag(kUnknown, kFixed32).Bytes(std::string(n, '\x01'))));
  }
}

// Byte strings that are not UTF-8.
const std::vector<std::string_view>& NotUtf8() {
  static const auto* const bad = new std::vector<std::string_view>{
      "\xC0\x80"sv,          // overlong NUL
      "\x80"sv,              // lone continuation byte
      "\xED\xA0\x80"sv,      // surrogate U+D800
      "\xF4\x90\x80\x80"sv,  // above U+10FFFF
      "\xE6\x97"sv,          // cut sequence (of U+65E5)
      "ok\xC3"sv,            // cut at the end
      "\xFF"sv,
  };
  return *bad;
}

TEST(EnvelopeParityTest, InvalidUtf8InAStringFieldIsRefused) {
  for (std::string_view bad : NotUtf8()) {
    SCOPED_TRACE(Hex(bad));
    EXPECT_TRUE(IsRefused(Raw().Len(kType, bad)));
    EXPECT_TRUE(IsRefused(Raw().Len(kStatusMessage, bad)));
    for (uint32_t address : {kSender, kRecipient, kReplyTo}) {
      EXPECT_TRUE(IsRefused(Raw().Len(address, Raw().Len(kNode, bad))));
      EXPECT_TRUE(IsRefused(Raw().Len(address, Raw().Len(kName, bad))));
    }
    // Even when a later valid value replaces it, and when it replaces one.
    EXPECT_TRUE(IsRefused(Raw().Len(kType, bad).Len(kType, "ok")));
    EXPECT_TRUE(IsRefused(Raw().Len(kType, "ok").Len(kType, bad)));
  }
}

TEST(EnvelopeParityTest, InvalidUtf8InABytesFieldIsAccepted) {
  for (std::string_view bad : NotUtf8()) {
    SCOPED_TRACE(Hex(bad));
    EXPECT_TRUE(DecodesLikeProtobuf(Raw().Len(kPayload, bad)));
    EXPECT_TRUE(DecodesLikeProtobuf(Raw().Len(kTraceId, bad)));
    EXPECT_TRUE(DecodesLikeProtobuf(Raw().Len(kUnknown, bad)));
    const std::string in = Raw().Len(kPayload, bad).Len(kTraceId, bad).str();
    EnvelopeView v;
    ASSERT_THAT(DecodeEnvelope(in.data(), in.size(), &v), IsOk());
    EXPECT_EQ(v.payload, bad);
    EXPECT_EQ(v.trace_id, bad);
  }
}

TEST(EnvelopeParityTest, GroupNestingDeeperThanTheRecursionLimitDecodesLikeLibprotobuf) {
  // libprotobuf's recursion limit is 100; an address is one level itself.
  for (int depth : {1, 2, 98, 99, 100, 101, 102, 150, 100000}) {
    SCOPED_TRACE(depth);
    EXPECT_TRUE(DecodesLikeProtobuf(NestedGroups(kUnknown, depth)));
    EXPECT_TRUE(DecodesLikeProtobuf(Raw().Len(kSender, NestedGroups(kUnknown, depth))));
    EXPECT_TRUE(DecodesLikeProtobuf(Raw().Len(kSender, NestedGroups(kUnknown, depth)).Len(kType, "t")));
    // Unterminated: refused at any depth.
    EXPECT_TRUE(IsRefused(Raw().Bytes(NestedGroups(kUnknown, depth)).Tag(kUnknown, kStartGroup)));
  }
  EXPECT_TRUE(DecodesAs(NestedGroups(kUnknown, 1), ""));
  EXPECT_TRUE(DecodesAs(Raw().Len(kSender, NestedGroups(kUnknown, 1)), "sender {}"));
  EXPECT_TRUE(IsRefused(NestedGroups(kUnknown, 150)));
  EXPECT_TRUE(IsRefused(Raw().Len(kSender, NestedGroups(kUnknown, 150))));
  EXPECT_TRUE(IsRefused(NestedGroups(kUnknown, 100000)));
}

TEST(EnvelopeParityTest, UndeclaredKindValueIsKept) {
  EXPECT_TRUE(DecodesAs(Raw().Tag(kKind, kVarint).Varint(99), "kind: 99"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kKind, kVarint).Varint(static_cast<uint64_t>(int64_t{-1})),
                        "kind: -1"));
  EXPECT_TRUE(DecodesAs(Raw().Tag(kKind, kVarint).Varint(0x7FFFFFFF), "kind: 2147483647"));
  EXPECT_TRUE(DecodesLikeProtobuf(Raw().Tag(kKind, kVarint).Varint(0x80000000)));
  const std::string in = Raw().Tag(kKind, kVarint).Varint(99).str();
  EnvelopeView v;
  ASSERT_THAT(DecodeEnvelope(in.data(), in.size(), &v), IsOk());
  EXPECT_EQ(static_cast<int>(v.kind), 99);
}

// ---------------------------------------------------------------------------
// 4. IsValidUtf8.

// Short random strings over bytes that make UTF-8 decisions: lead bytes at
// the edges of their ranges, continuation bytes, a little ASCII.
std::string RandomUtf8ish(Random& r) {
  static constexpr uint8_t kEdges[] = {
      0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1,
      0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFB, 0xFC, 0xFE, 0xFF};
  std::string s(r.Below(9), '\0');
  for (char& c : s) {
    const uint64_t pick = r.Below(20);
    if (pick < 12) {
      c = static_cast<char>(kEdges[r.Below(sizeof(kEdges))]);
    } else if (pick < 17) {
      c = static_cast<char>(0x80 + r.Below(0x40));  // continuation
    } else {
      c = static_cast<char>(r.Next());
    }
  }
  return s;
}

TEST(IsValidUtf8Test, AgreesWithLibprotobufOnRandomBytes) {
  Random r(3);
  int valid = 0;
  int failed = 0;
  ParityRun run;
  for (int i = 0; i < 5000; ++i) {
    const std::string s = RandomUtf8ish(r);
    const bool want = ProtobufAcceptsAsString(s);
    if (want) ++valid;
    if (base::IsValidUtf8(s) != want && ++failed <= 5) {
      ADD_FAILURE() << Hex(s) << ": IsValidUtf8 says " << !want << ", libprotobuf " << want;
    }
    // The decoder agrees in every string field, the encoder writes what
    // libprotobuf writes (it serializes non-UTF-8 too, logging).
    run.Check(Raw().Len(kType, s));
    run.Check(Raw().Len(kStatusMessage, s));
    run.Check(Raw().Len(kRecipient, Raw().Len(kNode, s)));
    run.Check(Raw().Len(kReplyTo, Raw().Len(kName, s)));
    wire::Envelope e;
    e.set_status_message(s);
    e.mutable_sender()->set_name(s);
    google::protobuf::LogSilencer quiet;
    const ::testing::AssertionResult same = EncodesLikeProtobuf(e);
    if (!same && ++failed <= 5) ADD_FAILURE() << same.message();
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(run.failed(), 0) << "of " << run.checked();
  // Both verdicts are common, or the set tests little.
  EXPECT_GT(valid, 500);
  EXPECT_GT(5000 - valid, 500);
}

// ---------------------------------------------------------------------------
// 5. EnvelopeView(e) and ToProto.

TEST(EnvelopeViewTest, ToProtoOfAViewOfAnEnvelopeGivesItBack) {
  int failed = 0;
  std::vector<wire::Envelope> all = RandomEnvelopes();
  all.push_back(FullEnvelope());
  all.push_back(wire::Envelope());
  for (const wire::Envelope& e : all) {
    const wire::Envelope back = ToProto(EnvelopeView(e));
    const bool same = Equal(back, e) && back.has_sender() == e.has_sender() &&
                      back.has_recipient() == e.has_recipient() &&
                      back.has_reply_to() == e.has_reply_to();
    if (!same && ++failed <= 5) {
      ADD_FAILURE() << "{" << e.ShortDebugString() << "} comes back as {" << back.ShortDebugString()
                    << "}";
    }
  }
  EXPECT_EQ(failed, 0) << "of " << all.size();
}

TEST(EnvelopeViewTest, ViewOfAnEnvelopePointsIntoIt) {
  const wire::Envelope e = FullEnvelope();
  const EnvelopeView v(e);
  EXPECT_EQ(v.type.data(), e.type().data());
  EXPECT_EQ(v.payload.data(), e.payload().data());
  EXPECT_EQ(v.payload.size(), e.payload().size());
  EXPECT_EQ(v.trace_id.data(), e.trace_id().data());
  EXPECT_EQ(v.sender.node.data(), e.sender().node().data());
  EXPECT_EQ(v.reply_to.name.data(), e.reply_to().name().data());
  EXPECT_EQ(v.status_message.data(), e.status_message().data());
  EXPECT_TRUE(v.sender.present);
  EXPECT_EQ(v.sender.pid, 7u);
  EXPECT_EQ(v.timeout_us, -5'000'000);
  EXPECT_EQ(v.status_code, -3);
  EXPECT_EQ(v.deadline_unix_us, 1'700'000'000'123'456);

  wire::Envelope sparse;
  sparse.mutable_recipient();
  const EnvelopeView w(sparse);
  EXPECT_FALSE(w.sender.present);
  EXPECT_TRUE(w.recipient.present);
  EXPECT_FALSE(w.reply_to.present);
}

// ---------------------------------------------------------------------------
// 6. Status details (Envelope.status_details, repeated google.protobuf.Any).

// A status detail as the codec yields it.
using Detail = std::pair<std::string, std::string>;

std::vector<Detail> DetailsOf(const StatusDetailsView& d) {
  std::vector<Detail> out;
  d.ForEach([&out](std::string_view url, std::string_view value) {
    out.emplace_back(std::string(url), std::string(value));
  });
  return out;
}

std::vector<Detail> DetailsOf(const wire::Envelope& e) {
  std::vector<Detail> out;
  for (const google::protobuf::Any& a : e.status_details()) out.emplace_back(a.type_url(), a.value());
  return out;
}

std::vector<Detail> PayloadsOf(const absl::Status& s) {
  std::vector<Detail> out;
  s.ForEachPayload([&out](absl::string_view url, const absl::Cord& value) {
    out.emplace_back(std::string(url), std::string(value));
  });
  std::sort(out.begin(), out.end());
  return out;
}

// A Cord of `n` bytes held in many pieces (its bytes are not contiguous).
absl::Cord FragmentedCord(size_t n) {
  absl::Cord c;
  for (size_t i = 0; i < n; i += 1000) c.Append(std::string(std::min<size_t>(1000, n - i), 'c'));
  return c;
}

// `v` encoded by the codec, after checking EncodedSize against what is written.
std::string Encode(const EnvelopeView& v) {
  std::string buf(EncodedSize(v) + 1, '\xA5');
  uint8_t* end = EncodeEnvelope(v, reinterpret_cast<uint8_t*>(buf.data()));
  EXPECT_EQ(end, reinterpret_cast<uint8_t*>(buf.data()) + buf.size() - 1) << "EncodedSize is off";
  EXPECT_EQ(buf.back(), '\xA5') << "wrote past EncodedSize";
  buf.pop_back();
  return buf;
}

TEST(StatusDetailsTest, SeveralDetailsEmptyValuesAndLongValuesEncodeToLibprotobufsBytes) {
  for (size_t n : {0u, 1u, 127u, 128u, 16383u, 16384u, 200000u}) {
    SCOPED_TRACE(n);
    wire::Envelope e;
    e.set_kind(wire::KIND_REPLY);
    e.set_status_code(9);
    google::protobuf::Any* a = e.add_status_details();
    a->set_type_url("type.googleapis.com/bank.InsufficientFunds");
    a->set_value(std::string(n, 'v'));
    a = e.add_status_details();
    a->set_type_url(std::string(n, 'u'));
    e.add_status_details();  // an empty Any: a 2-byte field
    a = e.add_status_details();
    a->set_type_url("type.googleapis.com/bank.InsufficientFunds");  // a duplicate is kept
    a->set_value("second");
    EXPECT_TRUE(EncodesLikeProtobuf(e));
    EXPECT_TRUE(DecodesLikeProtobuf(e.SerializeAsString()));
  }
}

TEST(StatusDetailsTest, KnownDetailEncodesToTheBytesWorkedOutByHand) {
  const wire::Envelope e = Proto(R"pb(status_code: 9
                                      status_details { type_url: "t/x" value: "\x01" }
                                      status_details {})pb");
  const std::string want = Raw()
                               .Tag(kStatusCode, kVarint).Varint(9)
                               .Len(kStatusDetails, Raw().Len(kTypeUrl, "t/x").Len(kValue, "\x01"))
                               .Len(kStatusDetails, "")
                               .str();
  EXPECT_EQ(want, e.SerializeAsString());  // the oracle agrees with the hand
  EXPECT_TRUE(EncodesLikeProtobuf(e));
  EXPECT_TRUE(DecodesAs(want, R"pb(status_code: 9
                                   status_details { type_url: "t/x" value: "\x01" }
                                   status_details {})pb"));
}

TEST(StatusDetailsTest, AStatusesPayloadsEncodeAsItsDetails) {
  absl::Status status = absl::FailedPreconditionError("no funds");
  status.SetPayload("type.googleapis.com/bank.InsufficientFunds", absl::Cord("\x08\x2A"));
  status.SetPayload("type.googleapis.com/google.protobuf.Empty", absl::Cord());
  status.SetPayload("pieces", FragmentedCord(50000));
  status.SetPayload("ünïcödé", absl::Cord("u"));
  const StatusDetailsView d(status);
  EXPECT_EQ(d.size(), 4u);
  EnvelopeView v;
  v.kind = wire::KIND_REPLY;
  v.status_code = static_cast<int32_t>(status.code());
  v.status_message = "no funds";
  v.status_details = d;
  const std::string bytes = Encode(v);
  wire::Envelope e;
  ASSERT_TRUE(e.ParseFromString(bytes));
  std::vector<Detail> got = DetailsOf(e);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, PayloadsOf(status));
  // ForEach gives the same, a fragmented Cord in one piece.
  std::vector<Detail> each = DetailsOf(d);
  std::sort(each.begin(), each.end());
  EXPECT_EQ(each, PayloadsOf(status));
  EXPECT_EQ(ToProto(v).SerializeAsString(), bytes);
  // The codec decodes it back.
  EnvelopeView back;
  ASSERT_THAT(DecodeEnvelope(bytes.data(), bytes.size(), &back), IsOk());
  EXPECT_EQ(DetailsOf(back.status_details), DetailsOf(e));
}

TEST(StatusDetailsTest, APayloadWhoseTypeUrlIsNotUtf8IsLeftOut) {
  absl::Status status = absl::InternalError("x");
  status.SetPayload("type.googleapis.com/ok", absl::Cord("kept"));
  status.SetPayload("bad \xFF url", absl::Cord("dropped"));
  EnvelopeView v;
  v.status_code = 13;
  v.status_details = StatusDetailsView(status);
  EXPECT_EQ(v.status_details.size(), 1u);
  const std::string bytes = Encode(v);
  wire::Envelope e;
  ASSERT_TRUE(e.ParseFromString(bytes));  // the envelope still parses
  EXPECT_EQ(DetailsOf(e), (std::vector<Detail>{{"type.googleapis.com/ok", "kept"}}));
}

TEST(StatusDetailsTest, NoDetailsEncodeToNothing) {
  EnvelopeView v;
  EXPECT_TRUE(v.status_details.empty());
  EXPECT_EQ(EncodedSize(v), 0u);
  const absl::Status ok = absl::OkStatus();
  v.status_details = StatusDetailsView(ok);
  EXPECT_TRUE(v.status_details.empty());
  EXPECT_EQ(EncodedSize(v), 0u);
  const absl::Status plain = absl::NotFoundError("no payloads");
  v.status_details = StatusDetailsView(plain);
  EXPECT_TRUE(v.status_details.empty());
  EXPECT_EQ(EncodedSize(v), 0u);
  EXPECT_EQ(ToProto(v).status_details_size(), 0);
}

TEST(StatusDetailsTest, DecodedDetailsAreViewsOfTheInputInWireOrder) {
  // Interleaved with other fields, and a field 15 of another wire type
  // (skipped as unknown): libprotobuf keeps the two details, in order.
  const std::string bytes = Raw()
                                .Len(kStatusDetails, Raw().Len(kTypeUrl, "t/1").Len(kValue, "one"))
                                .Tag(kStatusCode, kVarint).Varint(9)
                                .Tag(kStatusDetails, kVarint).Varint(5)
                                .Tag(kUnknown, kStartGroup).Tag(kUnknown, kEndGroup)
                                .Len(kStatusDetails, Raw().Len(kValue, "two").Len(kTypeUrl, "t/2"))
                                .Len(kStatusMessage, "m")
                                .str();
  EXPECT_TRUE(DecodesAs(bytes, R"pb(status_code: 9 status_message: "m"
                                    status_details { type_url: "t/1" value: "one" }
                                    status_details { type_url: "t/2" value: "two" })pb"));
  EnvelopeView v;
  ASSERT_THAT(DecodeEnvelope(bytes.data(), bytes.size(), &v), IsOk());
  EXPECT_EQ(v.status_details.size(), 2u);
  EXPECT_EQ(DetailsOf(v.status_details), (std::vector<Detail>{{"t/1", "one"}, {"t/2", "two"}}));
  EXPECT_EQ(StringOutside(v, bytes), nullptr);
  // A decoded view encodes the details again (e.g. to forward them).
  wire::Envelope e;
  ASSERT_TRUE(e.ParseFromString(bytes));
  e.DiscardUnknownFields();
  EXPECT_EQ(Encode(v), e.SerializeAsString());
}

TEST(StatusDetailsTest, WithinADetailAFieldSeenTwiceKeepsTheLastAndUnknownFieldsAreSkipped) {
  EXPECT_TRUE(DecodesAs(Raw().Len(kStatusDetails, Raw()
                                                      .Len(kTypeUrl, "first")
                                                      .Tag(kUnknown, kVarint).Varint(1)
                                                      .Len(kValue, "v1")
                                                      .Tag(kUnknown, kStartGroup)
                                                      .Len(kTypeUrl, "\xFF not UTF-8, in a group"sv)
                                                      .Tag(kUnknown, kEndGroup)
                                                      .Len(kTypeUrl, "second")
                                                      .Tag(kTypeUrl, kVarint).Varint(7)  // wrong type
                                                      .Len(kUnknown, "\xFF"sv)
                                                      .Tag(kUnknown, kFixed32).Fixed32(1)
                                                      .Tag(kUnknown, kFixed64).Fixed64(1)),
                        R"pb(status_details { type_url: "second" value: "v1" })pb"));
}

TEST(StatusDetailsTest, MalformedDetailsAreRefusedLikeAnyUnparsableEnvelope) {
  // Each of these is refused (DATA_LOSS) by the codec and by libprotobuf.
  EXPECT_TRUE(IsRefused(Raw().Len(kStatusDetails, Raw().Len(kTypeUrl, "\xFF"sv))));  // not UTF-8
  EXPECT_TRUE(IsRefused(Raw().Len(kStatusDetails, Raw().Len(kTypeUrl, "\xC0\x80"sv))));
  for (std::string_view bad : NotUtf8()) {
    SCOPED_TRACE(Hex(bad));
    EXPECT_TRUE(IsRefused(Raw().Len(kStatusDetails, Raw().Len(kTypeUrl, bad).Len(kValue, "v"))));
    EXPECT_TRUE(DecodesLikeProtobuf(Raw().Len(kStatusDetails, Raw().Len(kValue, bad))));  // bytes
  }
  // A length inside the detail past the detail's end, even if the input goes on.
  EXPECT_TRUE(IsRefused(Raw()
                            .Tag(kStatusDetails, kLen).Varint(4)
                            .Tag(kTypeUrl, kLen).Varint(10).Bytes("ab")
                            .Len(kPayload, "12345678")));
  EXPECT_TRUE(IsRefused(Raw().Tag(kStatusDetails, kLen).Varint(3).Bytes("\x0A\x01")));  // cut
  EXPECT_TRUE(IsRefused(Raw().Tag(kStatusDetails, kLen).Varint(2).Bytes("\x0A\x05xy")));
  EXPECT_TRUE(IsRefused(Raw().Len(kStatusDetails, "\x00\x01"sv)));    // field 0
  EXPECT_TRUE(IsRefused(Raw().Len(kStatusDetails, "\x0F"sv)));        // wire type 7
  EXPECT_TRUE(IsRefused(Raw().Len(kStatusDetails, "\x0C"sv)));        // stray end group
  EXPECT_TRUE(IsRefused(Raw().Len(kStatusDetails, "\x0B"sv)));        // group left open
  EXPECT_TRUE(IsRefused(Raw().Len(kStatusDetails, "\x10\xFF"sv)));    // varint cut
  EXPECT_TRUE(IsRefused(Raw().Len(kStatusDetails, Raw().Tag(kValue, kLen).Varint(0xFFFFFFFF))));
  // After a good detail too: the whole envelope is refused.
  EXPECT_TRUE(IsRefused(Raw()
                            .Len(kStatusDetails, Raw().Len(kTypeUrl, "t/ok"))
                            .Len(kStatusDetails, Raw().Len(kTypeUrl, "\xFF"sv))));
  // Nesting: a detail is one level, like an address.
  for (int depth : {98, 99, 100, 101}) {
    SCOPED_TRACE(depth);
    EXPECT_TRUE(DecodesLikeProtobuf(Raw().Len(kStatusDetails, NestedGroups(kUnknown, depth))));
  }
}

TEST(StatusDetailsTest, EveryTruncationAndBitFlipOfDetailsDecodesLikeLibprotobuf) {
  const std::string bytes =
      Raw()
          .Tag(kStatusCode, kVarint).Varint(9)
          .Len(kStatusDetails, Raw().Len(kTypeUrl, "type.googleapis.com/é").Len(kValue, "\x08\x2A"))
          .Len(kStatusDetails, Raw().Len(kTypeUrl, "t/2"))
          .Len(kStatusDetails, "")
          .str();
  ParityRun run;
  for (size_t n = 0; n <= bytes.size(); ++n) run.Check(std::string_view(bytes).substr(0, n));
  CheckEveryBitFlip(run, bytes);
  EXPECT_EQ(run.failed(), 0) << "of " << run.checked();
  EXPECT_GT(run.accepted(), 50);
  EXPECT_GT(run.refused(), 50);
}

TEST(StatusDetailsTest, ADecodedViewOfAnEnvelopeWithoutDetailsHasNone) {
  const std::string bytes = SmallFullEnvelope().SerializeAsString();
  EnvelopeView v;
  ASSERT_THAT(DecodeEnvelope(bytes.data(), bytes.size(), &v), IsOk());
  EXPECT_EQ(v.status_details.size(), 3u);
  ASSERT_THAT(DecodeEnvelope("\x68\x09", 2, &v), IsOk());  // reused: cleared
  EXPECT_TRUE(v.status_details.empty());
  EXPECT_TRUE(DetailsOf(v.status_details).empty());
}

// ---------------------------------------------------------------------------
// 7. Every field the .proto declares goes through the codec.
//
// The codec is written by hand, so a field added to envelope.proto that it
// does not handle would be dropped without a sound: decoding skips it as
// unknown. These tests walk the descriptors, not a list of fields, so such a
// field fails them by name — in Envelope or in a message the codec encodes
// inside it (Address, Any).

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Reflection;

// Sets `f` of `m` to a value other than its default (for a repeated field,
// two values); a message field gets every field of its own set too, down to
// `depth` levels.
void SetNonDefault(google::protobuf::Message* m, const FieldDescriptor* f, int depth);

void SetEveryField(google::protobuf::Message* m, int depth) {
  const Descriptor* d = m->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) SetNonDefault(m, d->field(i), depth);
}

void SetNonDefault(google::protobuf::Message* m, const FieldDescriptor* f, int depth) {
  const Reflection* r = m->GetReflection();
  const bool repeated = f->is_repeated();
  for (int i = 0; i < (repeated ? 2 : 1); ++i) {
    // Values that take long encodings: negative int32s are 10-byte varints.
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        repeated ? r->AddInt32(m, f, -2 - i) : r->SetInt32(m, f, -2);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        repeated ? r->AddInt64(m, f, -3 - i) : r->SetInt64(m, f, -3);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        repeated ? r->AddUInt32(m, f, 300 + i) : r->SetUInt32(m, f, 300);
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        repeated ? r->AddUInt64(m, f, (uint64_t{1} << 40) + i) : r->SetUInt64(m, f, uint64_t{1} << 40);
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        repeated ? r->AddDouble(m, f, 1.5 + i) : r->SetDouble(m, f, 1.5);
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        repeated ? r->AddFloat(m, f, 2.5f + i) : r->SetFloat(m, f, 2.5f);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        repeated ? r->AddBool(m, f, true) : r->SetBool(m, f, true);
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        // Open enums: any nonzero number will do; the last declared value
        // is a real one.
        const auto* e = f->enum_type();
        int v = e->value(e->value_count() - 1)->number();
        if (v == 0) v = 1;
        repeated ? r->AddEnumValue(m, f, v + i) : r->SetEnumValue(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string v = f->type() == FieldDescriptor::TYPE_STRING
                            ? "é-" + f->name() + std::to_string(i)
                            : std::string("\x00\xFF", 2) + f->name() + std::to_string(i);
        repeated ? r->AddString(m, f, std::move(v)) : r->SetString(m, f, std::move(v));
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        google::protobuf::Message* sub = repeated ? r->AddMessage(m, f) : r->MutableMessage(m, f);
        if (depth > 0) SetEveryField(sub, depth - 1);
        break;
      }
    }
  }
}

// Decodes libprotobuf's encoding of `e` with the codec and encodes the view
// again: success if that gives libprotobuf's bytes back (so nothing was
// dropped), and EnvelopeView(e) / ToProto keep `e` too. `what` names the
// field set in `e`.
::testing::AssertionResult SurvivesTheCodec(const wire::Envelope& e, const std::string& what) {
  const std::string bytes = e.SerializeAsString();
  if (bytes.empty()) {
    return ::testing::AssertionFailure() << what << ": the test set no value (empty encoding)";
  }
  EnvelopeView v;
  if (absl::Status s = DecodeEnvelope(bytes.data(), bytes.size(), &v); !s.ok()) {
    return ::testing::AssertionFailure() << what << ": the codec refuses {" << e.ShortDebugString()
                                         << "}: " << s;
  }
  std::string again(EncodedSize(v), '\0');
  EncodeEnvelope(v, reinterpret_cast<uint8_t*>(again.data()));
  if (again != bytes) {
    wire::Envelope got;
    (void)got.ParseFromString(again);
    return ::testing::AssertionFailure()
           << what << " does not survive decoding and re-encoding by the codec (does "
           << "bus/envelope.cc handle it?):\n  libprotobuf {" << e.ShortDebugString()
           << "}\n  codec       {" << got.ShortDebugString() << "}";
  }
  const wire::Envelope back = ToProto(EnvelopeView(e));
  if (!Equal(back, e)) {
    return ::testing::AssertionFailure()
           << what << " is lost by EnvelopeView(const wire::Envelope&) or ToProto: {"
           << e.ShortDebugString() << "} comes back as {" << back.ShortDebugString() << "}";
  }
  return ::testing::AssertionSuccess();
}

TEST(EnvelopeFieldsTest, EveryFieldOfTheEnvelopeAndOfItsMessagesSurvivesTheCodec) {
  const Descriptor* d = wire::Envelope::descriptor();
  int checked = 0;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    {
      wire::Envelope e;
      SetNonDefault(&e, f, /*depth=*/3);
      EXPECT_TRUE(SurvivesTheCodec(e, f->full_name()));
      ++checked;
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    // Each field of the nested message alone (e.g. sender.pid), so that a
    // dropped one is named.
    const Descriptor* sub = f->message_type();
    for (int j = 0; j < sub->field_count(); ++j) {
      wire::Envelope e;
      const Reflection* r = e.GetReflection();
      google::protobuf::Message* m = f->is_repeated() ? r->AddMessage(&e, f) : r->MutableMessage(&e, f);
      SetNonDefault(m, sub->field(j), /*depth=*/2);
      EXPECT_TRUE(SurvivesTheCodec(e, f->full_name() + " -> " + sub->field(j)->full_name()));
      ++checked;
    }
  }
  // Everything at once.
  wire::Envelope all;
  SetEveryField(&all, /*depth=*/3);
  EXPECT_TRUE(SurvivesTheCodec(all, "every field"));
  // 16 envelope fields, 4 in each of 3 addresses, 2 in Any.
  EXPECT_GE(checked, 16 + 3 * 4 + 2);
}

}  // namespace
}  // namespace polis::bus
