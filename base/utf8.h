// base/utf8.h — checking and repairing UTF-8, as proto3 string fields need.
//
// Every name, type and status message polis puts on the wire travels in a
// proto3 `string` field, which a receiver refuses unless it is well-formed
// UTF-8: the envelope codec checks each string it decodes (IsValidUtf8, on
// the hot path, so it is inline), and text built from raw bytes (an error
// message) is repaired before it is sent (ToValidUtf8).
//
// Thread-safety: pure functions.
//
// Example:
//   if (!base::IsValidUtf8(name)) return absl::InvalidArgumentError("name is not UTF-8");
//   std::string safe = base::ToValidUtf8(message);  // bad bytes become U+FFFD
#ifndef POLIS_BASE_UTF8_H_
#define POLIS_BASE_UTF8_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace polis::base {
namespace utf8_internal {

// The length of the well-formed UTF-8 sequence at `p` (< end), or 0 if the
// bytes there are not one. The allowed range of the second byte rules out
// overlong forms, surrogates and code points over U+10FFFF.
inline int SequenceLength(const uint8_t* p, const uint8_t* end) {
  const uint8_t b = *p;
  if (b < 0x80) return 1;
  int len;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (end - p < len || p[1] < lo || p[1] > hi) return 0;
  for (int i = 2; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
  }
  return len;
}

}  // namespace utf8_internal

namespace utf8_internal {

// Whether the bytes [p, end) are well-formed UTF-8, character by character
// (ASCII runs eight bytes at a time).
inline bool ValidFrom(const uint8_t* p, const uint8_t* end) {
  while (p < end) {
    if (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & 0x8080808080808080u) == 0) {
        p += 8;
        continue;
      }
    }
    if (*p < 0x80) {  // short ASCII runs between other characters
      ++p;
      continue;
    }
    const int len = SequenceLength(p, end);
    if (len == 0) return false;
    p += len;
  }
  return true;
}

}  // namespace utf8_internal

// Whether `s` is well-formed UTF-8 (what proto3 requires of a string field):
// no overlong forms, no surrogates, nothing past U+10FFFF.
inline bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint8_t* end = p + s.size();
  // All-ASCII (names, types), the common case: whole words, the last one
  // overlapping the one before, with no branch per byte.
  constexpr uint64_t kHigh8 = 0x8080808080808080u;
  if (s.size() >= 8) {
    uint64_t w;
    for (; end - p > 8; p += 8) {
      std::memcpy(&w, p, 8);
      if ((w & kHigh8) != 0) return utf8_internal::ValidFrom(p, end);
    }
    std::memcpy(&w, end - 8, 8);
    return (w & kHigh8) == 0 || utf8_internal::ValidFrom(p, end);
  }
  if (s.size() >= 4) {
    uint32_t head, tail;
    std::memcpy(&head, p, 4);
    std::memcpy(&tail, end - 4, 4);
    return ((head | tail) & 0x80808080u) == 0 || utf8_internal::ValidFrom(p, end);
  }
  uint8_t any = 0;
  for (const uint8_t* q = p; q < end; ++q) any |= *q;
  return any < 0x80 || utf8_internal::ValidFrom(p, end);
}

// `s` with every byte that does not start a well-formed UTF-8 sequence
// replaced by U+FFFD: text that must cross the wire in a string field
// (e.g. an error message built from raw bytes) without making the whole
// envelope unparsable.
std::string ToValidUtf8(std::string_view s);

}  // namespace polis::base

#endif  // POLIS_BASE_UTF8_H_
