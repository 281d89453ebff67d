// bus/internal/little_endian.h — fixed-width integers in the wire's byte
// order (little-endian): the frame header's length and the envelope's
// fixed64/fixed32 fields. One load or store on a little-endian host.
//
// Thread-safety: pure functions.
//
// Example:
//   PutLittleEndian<uint32_t>(p + 4, body_bytes);
//   const uint64_t span_id = LoadLittleEndian<uint64_t>(p);
#ifndef POLIS_BUS_INTERNAL_LITTLE_ENDIAN_H_
#define POLIS_BUS_INTERNAL_LITTLE_ENDIAN_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace polis::bus::internal {

template <typename T>
T ToOrFromLittleEndian(T v) {
  static_assert(std::is_same_v<T, uint32_t> || std::is_same_v<T, uint64_t>);
  if constexpr (std::endian::native == std::endian::little) {
    return v;
  } else if constexpr (sizeof(T) == 8) {
    return __builtin_bswap64(v);
  } else {
    return __builtin_bswap32(v);
  }
}

// The T whose sizeof(T) little-endian bytes are at `p` (any alignment).
template <typename T>
T LoadLittleEndian(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return ToOrFromLittleEndian(v);
}

// Writes `v` at `p` as sizeof(T) little-endian bytes; returns past them.
template <typename T>
uint8_t* PutLittleEndian(uint8_t* p, T v) {
  v = ToOrFromLittleEndian(v);
  std::memcpy(p, &v, sizeof(T));
  return p + sizeof(T);
}

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_LITTLE_ENDIAN_H_
