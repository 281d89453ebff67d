// tests/status_matchers.h — GoogleTest matchers for absl::Status(Or).
//
// Debian 12's Abseil has no status matchers; these use the names Abseil
// later adopted (absl_testing::IsOk, StatusIs, IsOkAndHolds) so an upgrade
// is a rename.
//
// Example:
//   EXPECT_THAT(node.Call<Reply>("x", req), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(Parse("5"), IsOkAndHolds(5));
//   ASSERT_THAT(status, IsOk());
#ifndef POLIS_TESTS_STATUS_MATCHERS_H_
#define POLIS_TESTS_STATUS_MATCHERS_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace polis::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::polis::testing::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code,
          "has status code " + absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  const absl::Status& s = ::polis::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  const absl::Status& s = ::polis::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()),
                                       result_listener);
}

MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace polis::testing

#endif  // POLIS_TESTS_STATUS_MATCHERS_H_
