// tests/test_values.h — one-line protobuf values for tests.
//
// Example:
//   EXPECT_THAT(node->Call<Int64Value>("acc", Int(5)), IsOk());
#ifndef POLIS_TESTS_TEST_VALUES_H_
#define POLIS_TESTS_TEST_VALUES_H_

#include <cstdint>
#include <string>

#include "google/protobuf/wrappers.pb.h"

namespace polis::testing {

inline google::protobuf::Int64Value Int(int64_t v) {
  google::protobuf::Int64Value m;
  m.set_value(v);
  return m;
}

inline google::protobuf::StringValue Str(std::string s) {
  google::protobuf::StringValue m;
  m.set_value(std::move(s));
  return m;
}

}  // namespace polis::testing

#endif  // POLIS_TESTS_TEST_VALUES_H_
