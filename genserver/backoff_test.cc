// genserver/backoff_test.cc — backoff delays and the restart-intensity window.
#include "genserver/backoff.h"

#include <random>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace polis {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::StatusIs;

TEST(BackoffTest, UnsetAndNoneRestartAtOnce) {
  std::mt19937_64 rng(1);
  EXPECT_EQ(BackoffDelay(supervision::Backoff(), 1, rng), absl::ZeroDuration());
  EXPECT_EQ(BackoffDelay(NoBackoff(), 7, rng), absl::ZeroDuration());
}

TEST(BackoffTest, ConstantIsTheSameForEveryAttempt) {
  std::mt19937_64 rng(1);
  const supervision::Backoff b = ConstantBackoff(absl::Milliseconds(200));
  for (int attempt = 1; attempt < 10; ++attempt) {
    EXPECT_EQ(BackoffDelay(b, attempt, rng), absl::Milliseconds(200));
  }
}

TEST(BackoffTest, ExponentialDoublesUntilTheCap) {
  std::mt19937_64 rng(1);
  const supervision::Backoff b =
      ExponentialBackoff(absl::Milliseconds(100), absl::Milliseconds(1000));
  EXPECT_EQ(BackoffDelay(b, 1, rng), absl::Milliseconds(100));
  EXPECT_EQ(BackoffDelay(b, 2, rng), absl::Milliseconds(200));
  EXPECT_EQ(BackoffDelay(b, 3, rng), absl::Milliseconds(400));
  EXPECT_EQ(BackoffDelay(b, 4, rng), absl::Milliseconds(800));
  EXPECT_EQ(BackoffDelay(b, 5, rng), absl::Milliseconds(1000));
  EXPECT_EQ(BackoffDelay(b, 60, rng), absl::Milliseconds(1000));
}

TEST(BackoffTest, DefaultMultiplierIsTwo) {
  std::mt19937_64 rng(1);
  supervision::Backoff b;
  b.mutable_exponential()->set_initial_ms(10);
  EXPECT_EQ(BackoffDelay(b, 4, rng), absl::Milliseconds(80));
}

TEST(BackoffTest, HugeAttemptsWithoutCapDoNotOverflow) {
  std::mt19937_64 rng(1);
  supervision::Backoff b;
  b.mutable_exponential()->set_initial_ms(1000);
  b.mutable_exponential()->set_multiplier(10);
  const absl::Duration d = BackoffDelay(b, 100000, rng);
  EXPECT_GT(d, absl::Hours(24));
  EXPECT_LT(d, absl::InfiniteDuration());
}

TEST(BackoffTest, JitterShortensWithinItsFractionAndNeverPassesTheCap) {
  std::mt19937_64 rng(42);
  const supervision::Backoff b =
      ExponentialBackoff(absl::Milliseconds(100), absl::Milliseconds(400), 2.0, 0.5);
  bool varied = false;
  absl::Duration first = BackoffDelay(b, 5, rng);
  for (int i = 0; i < 200; ++i) {
    const absl::Duration d = BackoffDelay(b, 5, rng);  // Capped at 400 ms.
    EXPECT_GE(d, absl::Milliseconds(200));
    EXPECT_LE(d, absl::Milliseconds(400));
    varied = varied || d != first;
  }
  EXPECT_TRUE(varied);
}

TEST(BackoffTest, SameSeedGivesSameDelays) {
  const supervision::Backoff b =
      ExponentialBackoff(absl::Milliseconds(100), absl::Seconds(10), 3.0, 0.3);
  std::mt19937_64 a(7), c(7);
  for (int attempt = 1; attempt < 8; ++attempt) {
    EXPECT_EQ(BackoffDelay(b, attempt, a), BackoffDelay(b, attempt, c));
  }
}

TEST(BackoffTest, ValidateRejectsNonsense) {
  EXPECT_THAT(ValidateBackoff(supervision::Backoff()), IsOk());
  EXPECT_THAT(ValidateBackoff(ConstantBackoff(absl::Milliseconds(-1))),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateBackoff(ExponentialBackoff(absl::Milliseconds(1), absl::Seconds(1), 0.5)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      ValidateBackoff(ExponentialBackoff(absl::Milliseconds(1), absl::Seconds(1), 2.0, 1.5)),
      StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      ValidateBackoff(ExponentialBackoff(absl::Milliseconds(1), absl::Seconds(1), 2.0, 1.0)),
      IsOk());
}

TEST(RestartIntensityTest, AllowsMaxRestartsInTheWindowThenRefuses) {
  RestartIntensity intensity(3, absl::Seconds(5));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_TRUE(intensity.Allow(t0));
  EXPECT_TRUE(intensity.Allow(t0 + absl::Seconds(1)));
  EXPECT_TRUE(intensity.Allow(t0 + absl::Seconds(2)));
  EXPECT_FALSE(intensity.Allow(t0 + absl::Seconds(3)));
  EXPECT_EQ(intensity.Count(t0 + absl::Seconds(3)), 3);
}

TEST(RestartIntensityTest, OldRestartsSlideOutOfTheWindow) {
  RestartIntensity intensity(2, absl::Seconds(5));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_TRUE(intensity.Allow(t0));
  EXPECT_TRUE(intensity.Allow(t0 + absl::Seconds(4)));
  EXPECT_FALSE(intensity.Allow(t0 + absl::Milliseconds(4999)));
  // At t0 + 5 s the first restart has left the window.
  EXPECT_TRUE(intensity.Allow(t0 + absl::Seconds(5)));
  EXPECT_FALSE(intensity.Allow(t0 + absl::Seconds(6)));
  EXPECT_TRUE(intensity.Allow(t0 + absl::Seconds(20)));
}

TEST(RestartIntensityTest, ZeroMeansTheFirstRestartIsRefused) {
  RestartIntensity intensity(0, absl::Seconds(5));
  EXPECT_FALSE(intensity.Allow(absl::FromUnixSeconds(1)));
}

}  // namespace
}  // namespace polis
