// base/log_limiter_test.cc — LogLimiter admits N lines per key per interval
// and reports what it held back.
#include "base/log_limiter.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace polis::base {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'000'000);

TEST(LogLimiterTest, AdmitsNPerIntervalThenCountsSuppressed) {
  LogLimiter limiter(3, absl::Seconds(10));
  uint64_t suppressed = 99;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Admit("k", kT0 + absl::Seconds(i), &suppressed));
    EXPECT_EQ(suppressed, 0u);
  }
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.Admit("k", kT0 + absl::Seconds(5)));
  EXPECT_EQ(limiter.total_suppressed(), 1000u);
  // The next interval admits again and reports what was held back, once.
  EXPECT_TRUE(limiter.Admit("k", kT0 + absl::Seconds(10), &suppressed));
  EXPECT_EQ(suppressed, 1000u);
  EXPECT_TRUE(limiter.Admit("k", kT0 + absl::Seconds(11), &suppressed));
  EXPECT_EQ(suppressed, 0u);
}

TEST(LogLimiterTest, KeysAreIndependent) {
  LogLimiter limiter(1, absl::Seconds(10));
  EXPECT_TRUE(limiter.Admit("a", kT0));
  EXPECT_FALSE(limiter.Admit("a", kT0));
  EXPECT_TRUE(limiter.Admit("b", kT0));
  EXPECT_FALSE(limiter.Admit("b", kT0));
}

TEST(LogLimiterTest, KeysPastTheBoundShareOneOverflowKey) {
  LogLimiter limiter(1, absl::Seconds(10), /*max_keys=*/4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.Admit(absl::StrCat("k", i), kT0));
  // Every new key now lands on the overflow key: one line, then silence.
  EXPECT_TRUE(limiter.Admit("fresh-1", kT0));
  for (int i = 2; i < 10'000; ++i) EXPECT_FALSE(limiter.Admit(absl::StrCat("fresh-", i), kT0));
  EXPECT_EQ(limiter.total_suppressed(), 9'998u);
}

TEST(LogLimiterTest, SuppressedFormatsTheCount) {
  EXPECT_EQ(Suppressed(0), "");
  EXPECT_EQ(Suppressed(7), " (... 7 more suppressed)");
}

}  // namespace
}  // namespace polis::base
