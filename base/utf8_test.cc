// base/utf8_test.cc — IsValidUtf8 accepts exactly what libprotobuf accepts
// in a proto3 string field (libprotobuf is the oracle), and ToValidUtf8
// makes any bytes acceptable, changing nothing that already was.
#include "base/utf8.h"

#include <algorithm>
#include <random>
#include <string>
#include <string_view>

#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"

namespace polis::base {
namespace {

using namespace std::string_view_literals;

// `bytes` as a C string literal with every byte escaped (for failures).
std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : bytes) {
    const auto b = static_cast<uint8_t>(c);
    out += "\\x";
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out + "\"";
}

// Whether libprotobuf parses `s` back from a proto3 string field.
bool ProtobufAcceptsAsString(std::string_view s) {
  google::protobuf::LogSilencer quiet;  // it logs non-UTF-8 strings both ways
  google::protobuf::StringValue v;
  v.set_value(std::string(s));
  google::protobuf::StringValue back;
  return back.ParseFromString(v.SerializeAsString());
}

TEST(IsValidUtf8Test, AcceptsWellFormedSequences) {
  for (std::string_view s : {
           ""sv,
           "a"sv,
           "hello, world"sv,
           "\x00"sv,                  // NUL is a character
           "\x7F"sv,                  // the last 1-byte character
           "\xC2\x80"sv,              // U+0080, the first 2-byte
           "\xDF\xBF"sv,              // U+07FF, the last 2-byte
           "\xE0\xA0\x80"sv,          // U+0800, the first 3-byte
           "\xED\x9F\xBF"sv,          // U+D7FF, just below the surrogates
           "\xEE\x80\x80"sv,          // U+E000, just above them
           "\xEF\xBB\xBF"sv,          // U+FEFF (BOM)
           "\xEF\xBF\xBF"sv,          // U+FFFF, the last 3-byte
           "\xF0\x90\x80\x80"sv,      // U+10000, the first 4-byte
           "\xF4\x8F\xBF\xBF"sv,      // U+10FFFF, the last there is
           "é日本🌍"sv,
           "a\xC3\xA9z\xF0\x9F\x8C\x8Dq"sv,
       }) {
    EXPECT_TRUE(IsValidUtf8(s)) << Hex(s);
    EXPECT_TRUE(ProtobufAcceptsAsString(s)) << Hex(s);  // the oracle agrees
  }
}

// ASCII is checked a word at a time (the last word overlapping, short
// strings in two halves): every length up to 40, with a stray, a cut or a
// whole 2- or 4-byte character at every position, agrees with libprotobuf.
TEST(IsValidUtf8Test, AgreesWithLibprotobufWhereverTheNonAsciiBytesAre) {
  for (size_t size = 0; size <= 40; ++size) {
    for (size_t at = 0; at <= size; ++at) {
      for (std::string_view insert : {"\x80"sv, "\xFF"sv, "\xC3"sv, "\xC3\xA9"sv,
                                      "\xF0\x9F\x8C\x8D"sv, "\xED\xA0\x80"sv}) {
        std::string s(size, 'a');
        s.insert(at, insert);
        s.resize(std::max(size, insert.size()));  // also cut short at the end
        EXPECT_EQ(IsValidUtf8(s), ProtobufAcceptsAsString(s)) << Hex(s);
      }
    }
    EXPECT_TRUE(IsValidUtf8(std::string(size, '\x7F')));
  }
}

TEST(ToValidUtf8Test, KeepsWellFormedTextAndReplacesEachBadByte) {
  EXPECT_EQ(ToValidUtf8(""), "");
  EXPECT_EQ(ToValidUtf8("plain \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80"),
            "plain \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(ToValidUtf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(ToValidUtf8("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong NUL
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(ToValidUtf8("cut \xE2\x82"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 24, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    const std::string fixed = ToValidUtf8(junk);
    EXPECT_TRUE(IsValidUtf8(fixed));
    if (IsValidUtf8(junk)) {
      EXPECT_EQ(fixed, junk);
    }
  }
}

TEST(IsValidUtf8Test, RefusesMalformedSequences) {
  for (std::string_view s : {
           "\x80"sv,                  // stray continuation bytes
           "\xBF"sv,
           "a\x80z"sv,
           "\xC2\x80\x80"sv,          // one continuation too many
           "\xC0\x80"sv,              // overlong 2-byte (NUL)
           "\xC1\xBF"sv,              // overlong 2-byte (U+007F)
           "\xE0\x80\x80"sv,          // overlong 3-byte
           "\xE0\x9F\xBF"sv,          // overlong 3-byte (U+07FF)
           "\xF0\x80\x80\x80"sv,      // overlong 4-byte
           "\xF0\x8F\xBF\xBF"sv,      // overlong 4-byte (U+FFFF)
           "\xED\xA0\x80"sv,          // U+D800, a surrogate
           "\xED\xAF\xBF"sv,          // U+DBFF
           "\xED\xB0\x80"sv,          // U+DC00
           "\xED\xBF\xBF"sv,          // U+DFFF
           "\xED\xA0\xBD\xED\xB8\x80"sv,  // a surrogate pair (CESU-8)
           "\xF4\x90\x80\x80"sv,      // U+110000
           "\xF5\x80\x80\x80"sv,      // lead bytes past U+10FFFF
           "\xF7\xBF\xBF\xBF"sv,
           "\xF8\x88\x80\x80\x80"sv,  // 5-byte form
           "\xFC\x84\x80\x80\x80\x80"sv,  // 6-byte form
           "\xFE"sv,
           "\xFF"sv,
           "\xFE\xFF"sv,
           "\xC2"sv,                  // cut sequences
           "\xE0\xA0"sv,
           "\xF0\x90\x80"sv,
           "abc\xF0\x90\x80"sv,
           "\xC2\x41"sv,              // a lead byte, then no continuation
           "\xE0\xA0\xC0"sv,
           "\xF0\x90\x80\x41"sv,
       }) {
    EXPECT_FALSE(IsValidUtf8(s)) << Hex(s);
    EXPECT_FALSE(ProtobufAcceptsAsString(s)) << Hex(s);  // the oracle agrees
  }
}

}  // namespace
}  // namespace polis::base
