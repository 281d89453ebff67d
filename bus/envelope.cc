// bus/envelope.cc — see envelope.h. The protobuf wire format, for the one
// message the hot path carries: tags are (field << 3 | wire type) varints;
// wire types 0 varint, 1 fixed64, 2 length-delimited, 3/4 group start/end
// (skipped when unknown), 5 fixed32.
#include "bus/envelope.h"

#include <bit>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>

#include "absl/base/attributes.h"
#include "absl/strings/cord.h"
#include "base/utf8.h"
#include "bus/internal/little_endian.h"

namespace polis::bus {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4,
                           kFixed32 = 5 };

// Nesting allowed below the envelope (addresses, unknown groups): what
// libprotobuf allows by default.
constexpr int kMaxDepth = 100;

constexpr uint8_t Tag(uint32_t field, WireType type) {
  return static_cast<uint8_t>(field << 3 | type);  // fields 1..15: one byte
}

// The tag of a field numbered 16..2047, a two-byte varint (as the decoder
// reads it: the whole tag value).
constexpr uint32_t Tag2(uint32_t field, WireType type) { return field << 3 | type; }

// --- Encoding ---

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

uint8_t* PutVarint(uint64_t v, uint8_t* p) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

// Field sizes, zero when the field is omitted (proto3: zero values are).
size_t VarintField(uint64_t v) { return v == 0 ? 0 : 1 + VarintSize(v); }
// A varint field numbered 16..2047 (two-byte tag).
size_t VarintField2(uint64_t v) { return v == 0 ? 0 : 2 + VarintSize(v); }
size_t LenField(size_t n) { return 1 + VarintSize(n) + n; }
size_t StringField(std::string_view s) { return s.empty() ? 0 : LenField(s.size()); }
size_t Fixed64Field(uint64_t v) { return v == 0 ? 0 : 9; }
// int32 and enum values are sign-extended to 64 bits on the wire.
uint64_t Int32Wire(int32_t v) { return static_cast<uint64_t>(static_cast<int64_t>(v)); }

size_t PayloadField(const EnvelopeView& v) {
  if (v.payload_message == nullptr) return StringField(v.payload);
  const size_t n = v.payload_message->ByteSizeLong();  // caches the size
  return n == 0 ? 0 : LenField(n);
}

size_t AddressBody(const AddressView& a) {
  return StringField(a.node) + StringField(a.name) + VarintField(a.pid) +
         VarintField(a.incarnation);
}

size_t AddressField(const AddressView& a) { return a.present ? LenField(AddressBody(a)) : 0; }

uint8_t* PutVarintField(uint32_t field, uint64_t v, uint8_t* p) {
  if (v == 0) return p;
  *p++ = Tag(field, kVarint);
  return PutVarint(v, p);
}

uint8_t* PutVarintField2(uint32_t field, uint64_t v, uint8_t* p) {
  if (v == 0) return p;
  p = PutVarint(Tag2(field, kVarint), p);
  return PutVarint(v, p);
}

uint8_t* PutStringField(uint32_t field, std::string_view s, uint8_t* p) {
  if (s.empty()) return p;
  *p++ = Tag(field, kLen);
  p = PutVarint(s.size(), p);
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

uint8_t* PutFixed64Field(uint32_t field, uint64_t v, uint8_t* p) {
  if (v == 0) return p;
  *p++ = Tag(field, kFixed64);
  return internal::PutLittleEndian(p, v);
}

uint8_t* PutAddressBody(const AddressView& a, uint8_t* p) {
  p = PutStringField(1, a.node, p);
  p = PutStringField(2, a.name, p);
  p = PutVarintField(3, a.pid, p);
  return PutVarintField(4, a.incarnation, p);
}

// An address body is at most this much more than its strings' bytes (two
// 1-byte tags and 1-byte lengths, two 11-byte varint fields) while each
// string is under 128 bytes.
constexpr size_t kAddressOverhead = 2 + 2 + 11 + 11;

uint8_t* PutAddressField(uint32_t field, const AddressView& a, uint8_t* p) {
  if (!a.present) return p;
  *p++ = Tag(field, kLen);
  if (a.node.size() + a.name.size() <= 127 - kAddressOverhead) {
    // The body's length fits in one byte: written after the body, which
    // is not sized first.
    uint8_t* end = PutAddressBody(a, p + 1);
    *p = static_cast<uint8_t>(end - (p + 1));
    return end;
  }
  return PutAddressBody(a, PutVarint(AddressBody(a), p));
}

// --- Decoding ---

// Reads from [p, end); every method returns false on malformed input and
// leaves the reader unusable.
class Reader {
 public:
  Reader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}
  bool done() const { return p_ == end_; }
  const uint8_t* pos() const { return p_; }

  // A varint of at most `max_bytes` bytes; bits past 64 are dropped.
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool Varint(uint64_t* v, int max_bytes = 10) {
    if (p_ != end_ && *p_ < 0x80) {  // one byte: most tags, lengths, kinds
      *v = *p_++;
      return true;
    }
    return LongVarint(v, max_bytes);
  }

  // Varint's result for a varint longer than one byte (or none at all).
  ABSL_ATTRIBUTE_NOINLINE bool LongVarint(uint64_t* v, int max_bytes) {
    if (end_ - p_ >= 8) return WideVarint(v, max_bytes);
    return SlowVarint(v, max_bytes);
  }

  // Varint's result, with at least 8 bytes left: the first eight bytes in
  // one load, their 7-bit groups gathered without a branch per byte (a
  // random 64-bit id, e.g. an incarnation, takes 9 or 10 bytes).
  bool WideVarint(uint64_t* v, int max_bytes) {
    const uint64_t w = internal::LoadLittleEndian<uint64_t>(p_);
    // The high bit of each byte that ends the varint (none: 9 bytes or more).
    const uint64_t ends = ~w & 0x8080808080808080u;
    if (ends != 0) {
      const int bytes = std::countr_zero(ends) / 8 + 1;
      if (bytes > max_bytes) return false;
      // The varint's own bytes (through the end byte), 7 bits each.
      *v = Gather7(w & (ends ^ (ends - 1)));
      p_ += bytes;
      return true;
    }
    if (max_bytes < 9 || end_ - p_ < 9) return false;
    uint64_t result = Gather7(w) | uint64_t{p_[8] & 0x7Fu} << 56;
    if (p_[8] < 0x80) {
      *v = result;
      p_ += 9;
      return true;
    }
    if (max_bytes < 10 || end_ - p_ < 10 || p_[9] >= 0x80) return false;
    *v = result | uint64_t{p_[9]} << 63;  // bits past 64 are dropped
    p_ += 10;
    return true;
  }

  // The low 7 bits of each of the eight bytes of `w` (little-endian),
  // packed into 56 bits: byte i's go to bits 7i..7i+6.
  static uint64_t Gather7(uint64_t w) {
    w &= 0x7F7F7F7F7F7F7F7Fu;
    w = (w & 0x007F007F007F007Fu) | (w & 0x7F007F007F007F00u) >> 1;
    w = (w & 0x00003FFF00003FFFu) | (w & 0x3FFF00003FFF0000u) >> 2;
    return (w & 0x000000000FFFFFFFu) | (w & 0x0FFFFFFF00000000u) >> 4;
  }

  // Varint's result with under 8 bytes left, a byte at a time.
  bool SlowVarint(uint64_t* v, int max_bytes) {
    uint64_t result = 0;
    for (int i = 0; i < max_bytes; ++i) {
      if (p_ == end_) return false;
      const uint8_t b = *p_++;
      if (i < 10) result |= uint64_t{b & 0x7Fu} << (7 * i);
      if (b < 0x80) {
        *v = result;
        return true;
      }
    }
    return false;
  }

  // A tag: at most 5 bytes, kept to 32 bits (as libprotobuf reads it).
  bool Tag(uint32_t* tag) {
    uint64_t v;
    if (!Varint(&v, 5)) return false;
    *tag = static_cast<uint32_t>(v);
    return true;
  }

  // A length-delimited field's bytes: the length is at most 5 bytes and
  // under 2^31, and must fit in what is left.
  bool Len(std::string_view* s) {
    uint64_t n;
    if (!Varint(&n, 5) || n > 0x7FFFFFF0u || n > static_cast<uint64_t>(end_ - p_)) return false;
    *s = std::string_view(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }

  bool Fixed(int bytes, uint64_t* v) {
    if (end_ - p_ < bytes) return false;
    *v = bytes == 8 ? internal::LoadLittleEndian<uint64_t>(p_)
                    : internal::LoadLittleEndian<uint32_t>(p_);
    p_ += bytes;
    return true;
  }

  // Skips the value of an unknown field whose tag was just read.
  bool Skip(uint32_t tag, int depth) {
    uint64_t v;
    std::string_view s;
    switch (tag & 7) {
      case kVarint:
        return Varint(&v);
      case kFixed64:
        return Fixed(8, &v);
      case kLen:
        return Len(&s);
      case kFixed32:
        return Fixed(4, &v);
      case kStartGroup:
        return SkipGroup(tag >> 3, depth);
      default:  // an end-group tag where none is open; wire types 6, 7
        return false;
    }
  }

 private:
  bool SkipGroup(uint32_t field, int depth) {
    if (depth >= kMaxDepth) return false;
    while (true) {
      uint32_t tag;
      if (!Tag(&tag) || tag >> 3 == 0) return false;
      if ((tag & 7) == kEndGroup) return tag >> 3 == field;
      if (!Skip(tag, depth + 1)) return false;
    }
  }

  const uint8_t* p_;
  const uint8_t* end_;
};

bool StringValue(Reader& r, std::string_view* out) {
  return r.Len(out) && base::IsValidUtf8(*out);
}

bool DecodeAddress(std::string_view body, AddressView* a) {
  a->present = true;  // a second occurrence merges into the first
  Reader r(reinterpret_cast<const uint8_t*>(body.data()),
           reinterpret_cast<const uint8_t*>(body.data()) + body.size());
  while (!r.done()) {
    uint32_t tag;
    if (!r.Tag(&tag) || tag >> 3 == 0) return false;
    bool ok;
    switch (tag) {
      case Tag(1, kLen): ok = StringValue(r, &a->node); break;
      case Tag(2, kLen): ok = StringValue(r, &a->name); break;
      case Tag(3, kVarint): ok = r.Varint(&a->pid); break;
      case Tag(4, kVarint): ok = r.Varint(&a->incarnation); break;
      default: ok = r.Skip(tag, 1);  // inside the address: one level down
    }
    if (!ok) return false;
  }
  return true;
}

// A google.protobuf.Any (a status detail): type_url = 1 (string), value = 2
// (bytes); one level below the envelope, like an address.
bool DecodeAny(std::string_view body, std::string_view* type_url, std::string_view* value) {
  *type_url = {};
  *value = {};
  Reader r(reinterpret_cast<const uint8_t*>(body.data()),
           reinterpret_cast<const uint8_t*>(body.data()) + body.size());
  while (!r.done()) {
    uint32_t tag;
    if (!r.Tag(&tag) || tag >> 3 == 0) return false;
    bool ok;
    switch (tag) {
      case Tag(1, kLen): ok = StringValue(r, type_url); break;
      case Tag(2, kLen): ok = r.Len(value); break;
      default: ok = r.Skip(tag, 1);
    }
    if (!ok) return false;
  }
  return true;
}

// `*v = EnvelopeView()` without the struct copy, which compiles to `rep
// movs` (its start-up cost was a quarter of decoding): the view is trivially
// destructible, so a fresh one is built in place, field by field.
void Reset(EnvelopeView* v) {
  static_assert(std::is_trivially_destructible_v<EnvelopeView>);
  new (v) EnvelopeView();
}

}  // namespace

// --- Status details ---

namespace envelope_internal {

// A detail's value: contiguous bytes, or an absl::Cord (a status payload).
struct DetailValue {
  std::string_view flat;
  const absl::Cord* cord = nullptr;

  size_t size() const { return cord != nullptr ? cord->size() : flat.size(); }
  uint8_t* CopyTo(uint8_t* p) const {
    if (cord == nullptr) {
      std::memcpy(p, flat.data(), flat.size());
      return p + flat.size();
    }
    for (absl::string_view chunk : cord->Chunks()) {
      std::memcpy(p, chunk.data(), chunk.size());
      p += chunk.size();
    }
    return p;
  }
};

// What the codec needs of a StatusDetailsView, over every source.
struct DetailsAccess {
  // Calls f(type_url, DetailValue) for each detail, in order.
  template <typename F>
  static void Visit(const StatusDetailsView& d, F&& f) {
    switch (d.source_) {
      case StatusDetailsView::kNone:
        return;
      case StatusDetailsView::kStatus:
        static_cast<const absl::Status*>(d.data_)->ForEachPayload(
            [&f](absl::string_view url, const absl::Cord& value) {
              const std::string_view u(url.data(), url.size());
              if (base::IsValidUtf8(u)) f(u, DetailValue{.cord = &value});
            });
        return;
      case StatusDetailsView::kProto:
        for (const google::protobuf::Any& a :
             *static_cast<const google::protobuf::RepeatedPtrField<google::protobuf::Any>*>(
                 d.data_)) {
          f(std::string_view(a.type_url()), DetailValue{.flat = a.value()});
        }
        return;
      case StatusDetailsView::kWire: {
        // Checked by DecodeEnvelope: none of the reads below can fail (the
        // checks only stop a walk of bytes that changed since).
        const auto* begin = static_cast<const uint8_t*>(d.data_);
        Reader r(begin, begin + d.bytes_);
        while (!r.done()) {
          uint32_t tag = 0;
          if (!r.Tag(&tag)) return;
          if (tag != Tag(wire::Envelope::kStatusDetailsFieldNumber, kLen)) {
            if (!r.Skip(tag, 0)) return;
            continue;
          }
          std::string_view body, url, value;
          if (!r.Len(&body) || !DecodeAny(body, &url, &value)) return;
          f(url, DetailValue{.flat = value});
        }
        return;
      }
    }
  }

  static void SetDecoded(StatusDetailsView* d, const uint8_t* first, const uint8_t* end) {
    if (d->count_ == 0) {
      d->source_ = StatusDetailsView::kWire;
      d->data_ = first;
    }
    ++d->count_;
    d->bytes_ = static_cast<size_t>(end - static_cast<const uint8_t*>(d->data_));
  }
};

}  // namespace envelope_internal

namespace {

using envelope_internal::DetailsAccess;
using envelope_internal::DetailValue;

constexpr uint32_t kStatusDetailsField = wire::Envelope::kStatusDetailsFieldNumber;
constexpr uint32_t kDeadlineField = wire::Envelope::kDeadlineUnixUsFieldNumber;
static_assert(kDeadlineField >= 16 && kDeadlineField < 2048, "a two-byte tag");
constexpr uint32_t kTraceFlagsField = wire::Envelope::kTraceFlagsFieldNumber;
static_assert(kTraceFlagsField >= 16 && kTraceFlagsField < 2048, "a two-byte tag");

size_t AnyBody(std::string_view type_url, const DetailValue& value) {
  const size_t n = value.size();
  return StringField(type_url) + (n == 0 ? 0 : LenField(n));
}

size_t DetailsField(const StatusDetailsView& d) {
  if (d.empty()) return 0;
  size_t total = 0;
  DetailsAccess::Visit(d, [&total](std::string_view url, const DetailValue& value) {
    total += LenField(AnyBody(url, value));
  });
  return total;
}

uint8_t* PutDetailsField(const StatusDetailsView& d, uint8_t* p) {
  if (d.empty()) return p;
  DetailsAccess::Visit(d, [&p](std::string_view url, const DetailValue& value) {
    *p++ = Tag(kStatusDetailsField, kLen);
    p = PutVarint(AnyBody(url, value), p);
    p = PutStringField(1, url, p);
    if (const size_t n = value.size(); n != 0) {
      *p++ = Tag(2, kLen);
      p = PutVarint(n, p);
      p = value.CopyTo(p);
    }
  });
  return p;
}

}  // namespace

StatusDetailsView::StatusDetailsView(const absl::Status& status) : StatusDetailsView() {
  source_ = kStatus;
  data_ = &status;
  uint32_t n = 0;
  DetailsAccess::Visit(*this, [&n](std::string_view, const DetailValue&) { ++n; });
  count_ = n;
}

StatusDetailsView::StatusDetailsView(
    const google::protobuf::RepeatedPtrField<google::protobuf::Any>& details)
    : source_(kProto),
      count_(static_cast<uint32_t>(details.size())),
      data_(&details),
      bytes_(0) {}

void StatusDetailsView::ForEach(
    absl::FunctionRef<void(std::string_view type_url, std::string_view value)> f) const {
  DetailsAccess::Visit(*this, [&f](std::string_view url, const DetailValue& value) {
    if (value.cord == nullptr) {
      f(url, value.flat);
    } else if (auto flat = value.cord->TryFlat()) {
      f(url, std::string_view(flat->data(), flat->size()));
    } else {
      f(url, std::string(*value.cord));
    }
  });
}

EnvelopeView::EnvelopeView(const wire::Envelope& e)
    : version(e.version()),
      kind(e.kind()),
      type(e.type()),
      payload(e.payload()),
      trace_id(e.trace_id()),
      span_id(e.span_id()),
      parent_span_id(e.parent_span_id()),
      ref(e.ref()),
      timeout_us(e.timeout_us()),
      status_code(e.status_code()),
      status_message(e.status_message()),
      status_details(e.status_details()),
      deadline_unix_us(e.deadline_unix_us()),
      trace_flags(e.trace_flags()) {
  auto view = [](bool has, const wire::Address& a) {
    return has ? AddressView{a.node(), a.name(), a.pid(), a.incarnation(), true} : AddressView{};
  };
  sender = view(e.has_sender(), e.sender());
  recipient = view(e.has_recipient(), e.recipient());
  reply_to = view(e.has_reply_to(), e.reply_to());
}

wire::Envelope ToProto(const EnvelopeView& v) {
  wire::Envelope e;
  e.set_version(v.version);
  e.set_kind(v.kind);
  e.set_type(std::string(v.type));
  auto address = [](const AddressView& a, wire::Address* out) {
    out->set_node(std::string(a.node));
    out->set_name(std::string(a.name));
    out->set_pid(a.pid);
    out->set_incarnation(a.incarnation);
  };
  if (v.sender.present) address(v.sender, e.mutable_sender());
  if (v.recipient.present) address(v.recipient, e.mutable_recipient());
  if (v.payload_message != nullptr) {
    e.set_payload(v.payload_message->SerializeAsString());
  } else {
    e.set_payload(std::string(v.payload));
  }
  e.set_trace_id(std::string(v.trace_id));
  e.set_span_id(v.span_id);
  e.set_parent_span_id(v.parent_span_id);
  e.set_ref(v.ref);
  if (v.reply_to.present) address(v.reply_to, e.mutable_reply_to());
  e.set_timeout_us(v.timeout_us);
  e.set_status_code(v.status_code);
  e.set_status_message(std::string(v.status_message));
  v.status_details.ForEach([&e](std::string_view url, std::string_view value) {
    google::protobuf::Any* a = e.add_status_details();
    a->set_type_url(std::string(url));
    a->set_value(std::string(value));
  });
  e.set_deadline_unix_us(v.deadline_unix_us);
  e.set_trace_flags(v.trace_flags);
  return e;
}

size_t EncodedSize(const EnvelopeView& v) {
  return VarintField(v.version) + VarintField(Int32Wire(v.kind)) + StringField(v.type) +
         AddressField(v.sender) + AddressField(v.recipient) + PayloadField(v) +
         StringField(v.trace_id) + Fixed64Field(v.span_id) + Fixed64Field(v.parent_span_id) +
         VarintField(v.ref) + AddressField(v.reply_to) +
         VarintField(static_cast<uint64_t>(v.timeout_us)) + VarintField(Int32Wire(v.status_code)) +
         StringField(v.status_message) + DetailsField(v.status_details) +
         VarintField2(static_cast<uint64_t>(v.deadline_unix_us)) + VarintField2(v.trace_flags);
}

size_t EncodedSizeBound(const EnvelopeView& v) {
  // Each field at its widest: a 1-byte tag (2 for fields 16..2047) with a
  // 10-byte varint, a 9-byte fixed64, or a 5-byte length (strings are under
  // 2^31 bytes) before the field's bytes; an address as 6 plus its body.
  constexpr size_t kVarintMost = 11, kVarint2Most = 12, kLenMost = 6, kFixed64Most = 9;
  constexpr size_t kAddress = kLenMost + 2 * kLenMost + 2 * kVarintMost;
  constexpr size_t kFields = 2 * kVarintMost +      // version, kind
                             kLenMost +              // type
                             3 * kAddress +          // sender, recipient, reply_to
                             2 * kLenMost +          // payload, trace_id
                             2 * kFixed64Most +      // span_id, parent_span_id
                             3 * kVarintMost +       // ref, timeout_us, status_code
                             kLenMost +              // status_message
                             2 * kVarint2Most;       // deadline_unix_us, trace_flags
  const size_t payload =
      v.payload_message != nullptr ? v.payload_message->ByteSizeLong() : v.payload.size();
  auto strings = [](const AddressView& a) { return a.node.size() + a.name.size(); };
  return kFields + v.type.size() + strings(v.sender) + strings(v.recipient) + payload +
         v.trace_id.size() + strings(v.reply_to) + v.status_message.size() +
         DetailsField(v.status_details);
}

uint8_t* EncodeEnvelope(const EnvelopeView& v, uint8_t* p) {
  p = PutVarintField(1, v.version, p);
  p = PutVarintField(2, Int32Wire(v.kind), p);
  p = PutStringField(3, v.type, p);
  p = PutAddressField(4, v.sender, p);
  p = PutAddressField(5, v.recipient, p);
  if (v.payload_message == nullptr) {
    p = PutStringField(6, v.payload, p);
  } else if (const size_t n = v.payload_message->GetCachedSize(); n != 0) {
    *p++ = Tag(6, kLen);
    p = PutVarint(n, p);
    p = v.payload_message->SerializeWithCachedSizesToArray(p);
  }
  p = PutStringField(7, v.trace_id, p);
  p = PutFixed64Field(8, v.span_id, p);
  p = PutFixed64Field(9, v.parent_span_id, p);
  p = PutVarintField(10, v.ref, p);
  p = PutAddressField(11, v.reply_to, p);
  p = PutVarintField(12, static_cast<uint64_t>(v.timeout_us), p);
  p = PutVarintField(13, Int32Wire(v.status_code), p);
  p = PutStringField(14, v.status_message, p);
  p = PutDetailsField(v.status_details, p);
  p = PutVarintField2(kDeadlineField, static_cast<uint64_t>(v.deadline_unix_us), p);
  return PutVarintField2(kTraceFlagsField, v.trace_flags, p);
}

absl::Status DecodeEnvelope(const void* data, size_t size, EnvelopeView* v) {
  Reset(v);
  const auto* begin = static_cast<const uint8_t*>(data);
  Reader r(begin, begin + size);
  while (!r.done()) {
    const uint8_t* field = r.pos();
    uint32_t tag;
    if (!r.Tag(&tag) || tag >> 3 == 0) return absl::DataLossError("envelope: bad tag");
    uint64_t n = 0;
    std::string_view s;
    bool ok;
    switch (tag) {
      case Tag(1, kVarint): ok = r.Varint(&n); v->version = static_cast<uint32_t>(n); break;
      case Tag(2, kVarint): ok = r.Varint(&n); v->kind = static_cast<wire::Kind>(static_cast<int32_t>(n)); break;
      case Tag(3, kLen): ok = StringValue(r, &v->type); break;
      case Tag(4, kLen): ok = r.Len(&s) && DecodeAddress(s, &v->sender); break;
      case Tag(5, kLen): ok = r.Len(&s) && DecodeAddress(s, &v->recipient); break;
      case Tag(6, kLen): ok = r.Len(&v->payload); break;
      case Tag(7, kLen): ok = r.Len(&v->trace_id); break;
      case Tag(8, kFixed64): ok = r.Fixed(8, &v->span_id); break;
      case Tag(9, kFixed64): ok = r.Fixed(8, &v->parent_span_id); break;
      case Tag(10, kVarint): ok = r.Varint(&v->ref); break;
      case Tag(11, kLen): ok = r.Len(&s) && DecodeAddress(s, &v->reply_to); break;
      case Tag(12, kVarint): ok = r.Varint(&n); v->timeout_us = static_cast<int64_t>(n); break;
      case Tag(13, kVarint): ok = r.Varint(&n); v->status_code = static_cast<int32_t>(n); break;
      case Tag(14, kLen): ok = StringValue(r, &v->status_message); break;
      case Tag2(kDeadlineField, kVarint):
        ok = r.Varint(&n);
        v->deadline_unix_us = static_cast<int64_t>(n);
        break;
      case Tag2(kTraceFlagsField, kVarint):
        ok = r.Varint(&n);
        v->trace_flags = static_cast<uint32_t>(n);
        break;
      case Tag(kStatusDetailsField, kLen): {
        std::string_view url, value;
        ok = r.Len(&s) && DecodeAny(s, &url, &value);
        if (ok) DetailsAccess::SetDecoded(&v->status_details, field, r.pos());
        break;
      }
      default: ok = r.Skip(tag, 0);
    }
    if (!ok) return absl::DataLossError("envelope: not a parsable polis.wire.Envelope");
  }
  return absl::OkStatus();
}

}  // namespace polis::bus
