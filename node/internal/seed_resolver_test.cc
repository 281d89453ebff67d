#include "node/internal/seed_resolver.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis::internal {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::kWaitTimeout;
using ::polis::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using Endpoints = std::vector<std::string>;

// Far longer than any test: only RefreshNow starts a second round.
constexpr absl::Duration kNever = absl::Hours(1);

// A DNS the test controls: the answer for each spec, and how many lookups
// were made.
class FakeDns {
 public:
  void Set(const std::string& spec, absl::StatusOr<Endpoints> answer) {
    absl::MutexLock lock(&mu_);
    answers_.insert_or_assign(spec, std::move(answer));
  }

  // True once `n` lookups have been made (each read its answer).
  bool WaitForLookups(int n) {
    absl::MutexLock lock(&mu_);
    auto reached = [&] {
      mu_.AssertHeld();
      return lookups_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), kWaitTimeout);
  }

  int lookups() {
    absl::MutexLock lock(&mu_);
    return lookups_;
  }

  SeedResolver::Resolve Resolve() {
    return [this](absl::string_view spec) -> absl::StatusOr<Endpoints> {
      absl::MutexLock lock(&mu_);
      ++lookups_;
      auto it = answers_.find(std::string(spec));
      if (it == answers_.end()) return absl::NotFoundError("no answer set");
      return it->second;
    };
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, absl::StatusOr<Endpoints>> answers_ ABSL_GUARDED_BY(mu_);
  int lookups_ ABSL_GUARDED_BY(mu_) = 0;
};

// Every list on_change was called with.
class Reports {
 public:
  SeedResolver::OnChange OnChange() {
    return [this](Endpoints endpoints) {
      absl::MutexLock lock(&mu_);
      all_.push_back(std::move(endpoints));
    };
  }

  // The n-th report (from 1), once it came; a failure and {} if it does not.
  Endpoints Await(size_t n) {
    absl::MutexLock lock(&mu_);
    auto reached = [&] {
      mu_.AssertHeld();
      return all_.size() >= n;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&reached), kWaitTimeout)) {
      ADD_FAILURE() << "report " << n << " never came; " << all_.size() << " did";
      return {};
    }
    return all_[n - 1];
  }

  size_t count() {
    absl::MutexLock lock(&mu_);
    return all_.size();
  }

 private:
  absl::Mutex mu_;
  std::vector<Endpoints> all_ ABSL_GUARDED_BY(mu_);
};

// The fake DNS and the reports are the fixture's, so they outlive the
// resolver a test makes.
class SeedResolverTest : public ::testing::Test {
 protected:
  std::unique_ptr<SeedResolver> Start(std::vector<std::string> specs,
                                      absl::Duration refresh = kNever) {
    absl::StatusOr<std::unique_ptr<SeedResolver>> r =
        SeedResolver::Create(std::move(specs), refresh, reports_.OnChange(), dns_.Resolve());
    EXPECT_THAT(r, IsOk());
    return r.ok() ? *std::move(r) : nullptr;
  }

  FakeDns dns_;
  Reports reports_;
};

TEST_F(SeedResolverTest, WithoutADnsSeedReportsOnceInsideCreateAndLooksNothingUp) {
  std::unique_ptr<SeedResolver> r = Start({"tcp://b:1", "ipc:///tmp/a", "tcp://a:1"});
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(reports_.count(), 1u);
  EXPECT_THAT(reports_.Await(1), ElementsAre("ipc:///tmp/a", "tcp://a:1", "tcp://b:1"));
  r->RefreshNow();  // Nothing to refresh.
  r.reset();
  EXPECT_EQ(reports_.count(), 1u);
  EXPECT_EQ(dns_.lookups(), 0);
}

TEST_F(SeedResolverTest, FirstReportHasThePlainSeedsAndEveryResolvedAddress) {
  dns_.Set("dns:svc:7000", Endpoints{"tcp://10.0.0.2:7000", "tcp://10.0.0.1:7000"});
  std::unique_ptr<SeedResolver> r = Start({"tcp://seed:7000", "dns:svc:7000"});
  EXPECT_THAT(reports_.Await(1),
              ElementsAre("tcp://10.0.0.1:7000", "tcp://10.0.0.2:7000", "tcp://seed:7000"));
}

TEST_F(SeedResolverTest, FirstReportComesEvenIfNothingResolves) {
  dns_.Set("dns:svc:7000", absl::NotFoundError("no such name"));
  std::unique_ptr<SeedResolver> r = Start({"dns:svc:7000"});
  EXPECT_THAT(reports_.Await(1), IsEmpty());
}

TEST_F(SeedResolverTest, AddressesFoundByTwoSeedsAreReportedOnce) {
  dns_.Set("dns:x:1", Endpoints{"tcp://10.0.0.1:1", "tcp://10.0.0.2:1"});
  dns_.Set("dns:y:1", Endpoints{"tcp://10.0.0.2:1", "tcp://10.0.0.3:1"});
  std::unique_ptr<SeedResolver> r = Start({"dns:x:1", "dns:y:1", "tcp://10.0.0.3:1"});
  EXPECT_THAT(reports_.Await(1),
              ElementsAre("tcp://10.0.0.1:1", "tcp://10.0.0.2:1", "tcp://10.0.0.3:1"));
}

TEST_F(SeedResolverTest, ANewAddressIsReported) {
  dns_.Set("dns:svc:1", Endpoints{"tcp://10.0.0.1:1"});
  std::unique_ptr<SeedResolver> r = Start({"dns:svc:1"});
  EXPECT_THAT(reports_.Await(1), ElementsAre("tcp://10.0.0.1:1"));
  dns_.Set("dns:svc:1", Endpoints{"tcp://10.0.0.1:1", "tcp://10.0.0.2:1"});
  r->RefreshNow();
  EXPECT_THAT(reports_.Await(2), ElementsAre("tcp://10.0.0.1:1", "tcp://10.0.0.2:1"));
}

TEST_F(SeedResolverTest, AnUnchangedListIsNotReportedAgain) {
  dns_.Set("dns:svc:1", Endpoints{"tcp://10.0.0.1:1"});
  std::unique_ptr<SeedResolver> r = Start({"dns:svc:1"});
  reports_.Await(1);
  r->RefreshNow();
  ASSERT_TRUE(dns_.WaitForLookups(2));  // Round 2 read the same answer.
  dns_.Set("dns:svc:1", Endpoints{"tcp://10.0.0.9:1"});
  r->RefreshNow();  // Round 3, after round 2 (which had nothing to report).
  EXPECT_THAT(reports_.Await(2), ElementsAre("tcp://10.0.0.9:1"));
  r.reset();
  EXPECT_EQ(reports_.count(), 2u);
}

TEST_F(SeedResolverTest, ANameThatStopsResolvingKeepsItsLastAddresses) {
  dns_.Set("dns:x:1", Endpoints{"tcp://10.0.0.1:1"});
  dns_.Set("dns:y:1", Endpoints{"tcp://10.0.0.2:1", "tcp://10.0.0.3:1"});
  std::unique_ptr<SeedResolver> r = Start({"dns:x:1", "dns:y:1"});
  EXPECT_THAT(reports_.Await(1),
              ElementsAre("tcp://10.0.0.1:1", "tcp://10.0.0.2:1", "tcp://10.0.0.3:1"));
  // A DNS blip: y fails (both ways), and that alone reports nothing.
  dns_.Set("dns:y:1", absl::UnavailableError("EAI_AGAIN"));
  r->RefreshNow();
  ASSERT_TRUE(dns_.WaitForLookups(4));  // Round 2 looked both up.
  dns_.Set("dns:y:1", absl::NotFoundError("NXDOMAIN"));
  r->RefreshNow();
  ASSERT_TRUE(dns_.WaitForLookups(6));  // Round 3 too.
  // x changes while y still fails: y's old addresses stay in the list.
  dns_.Set("dns:x:1", Endpoints{"tcp://10.0.0.4:1"});
  r->RefreshNow();
  EXPECT_THAT(reports_.Await(2),
              ElementsAre("tcp://10.0.0.2:1", "tcp://10.0.0.3:1", "tcp://10.0.0.4:1"));
  // y resolves again, to fewer addresses: now they are dropped.
  dns_.Set("dns:y:1", Endpoints{"tcp://10.0.0.3:1"});
  r->RefreshNow();
  EXPECT_THAT(reports_.Await(3), ElementsAre("tcp://10.0.0.3:1", "tcp://10.0.0.4:1"));
  r.reset();
  EXPECT_EQ(reports_.count(), 3u);
}

TEST_F(SeedResolverTest, RefreshNowStartsARound) {
  dns_.Set("dns:svc:1", Endpoints{"tcp://10.0.0.1:1"});
  std::unique_ptr<SeedResolver> r = Start({"dns:svc:1"});
  ASSERT_TRUE(dns_.WaitForLookups(1));
  r->RefreshNow();
  EXPECT_TRUE(dns_.WaitForLookups(2));
}

TEST_F(SeedResolverTest, ResolvesAgainEveryRefreshByItself) {
  dns_.Set("dns:svc:1", Endpoints{"tcp://10.0.0.1:1"});
  std::unique_ptr<SeedResolver> r = Start({"dns:svc:1"}, absl::Milliseconds(1));
  EXPECT_TRUE(dns_.WaitForLookups(3));
  dns_.Set("dns:svc:1", Endpoints{"tcp://10.0.0.2:1"});
  EXPECT_THAT(reports_.Await(2), ElementsAre("tcp://10.0.0.2:1"));
}

TEST_F(SeedResolverTest, DestructionDoesNotWaitForTheNextRefresh) {
  dns_.Set("dns:svc:1", Endpoints{"tcp://10.0.0.1:1"});
  std::unique_ptr<SeedResolver> r = Start({"dns:svc:1"});
  reports_.Await(1);
  // The thread is waiting for a refresh an hour away; a loop that slept
  // would keep the destructor for that hour.
  const absl::Time start = absl::Now();
  r.reset();
  EXPECT_LT(absl::Now() - start, kWaitTimeout);
  EXPECT_EQ(dns_.lookups(), 1);
}

TEST_F(SeedResolverTest, ResolvesOnlyOnRequestWithAnInfiniteRefresh) {
  dns_.Set("dns:svc:1", Endpoints{"tcp://10.0.0.1:1"});
  std::unique_ptr<SeedResolver> r = Start({"dns:svc:1"}, absl::InfiniteDuration());
  reports_.Await(1);
  r->RefreshNow();
  EXPECT_TRUE(dns_.WaitForLookups(2));
  r.reset();  // Prompt as well.
}

TEST_F(SeedResolverTest, CreateRefusesABadSpecOrRefreshAndReportsNothing) {
  EXPECT_THAT(
      SeedResolver::Create({"tcp://a:1", "dns:svc"}, kNever, reports_.OnChange(), dns_.Resolve()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"dns:svc\"")));
  EXPECT_THAT(SeedResolver::Create({"dns:svc:1"}, absl::ZeroDuration(), reports_.OnChange(),
                                   dns_.Resolve()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("refresh must be positive")));
  EXPECT_EQ(reports_.count(), 0u);
  EXPECT_EQ(dns_.lookups(), 0);
}

// The hook a node pins a dns: seed's key with: every successful lookup,
// each round (an unchanged answer too), before the list that holds the
// addresses is reported; a failed lookup calls nothing.
TEST_F(SeedResolverTest, OnResolvedHearsEveryLookupBeforeItsAddressesAreReported) {
  struct Heard {
    std::string spec;
    Endpoints addresses;
    size_t reports_before;  // on_change calls made when it was heard
  };
  absl::Mutex mu;
  std::vector<Heard> heard;
  auto on_resolved = [&](const std::string& spec, const Endpoints& addresses) {
    absl::MutexLock lock(&mu);
    heard.push_back({spec, addresses, reports_.count()});
  };
  auto heard_count = [&] {
    absl::MutexLock lock(&mu);
    return heard.size();
  };
  dns_.Set("dns:svc:1", Endpoints{"tcp://10.0.0.1:1", "tcp://10.0.0.2:1"});
  dns_.Set("dns:gone:1", absl::NotFoundError("NXDOMAIN"));
  absl::StatusOr<std::unique_ptr<SeedResolver>> r =
      SeedResolver::Create({"dns:svc:1", "dns:gone:1", "tcp://10.0.0.9:1"}, kNever,
                           reports_.OnChange(), dns_.Resolve(), on_resolved);
  ASSERT_THAT(r, IsOk());
  reports_.Await(1);
  (*r)->RefreshNow();  // the same answer again: heard again, not reported
  ASSERT_TRUE(dns_.WaitForLookups(4));
  ASSERT_TRUE(::polis::testing::WaitFor([&] { return heard_count() == 2; }));
  dns_.Set("dns:svc:1", Endpoints{"tcp://10.0.0.3:1"});
  (*r)->RefreshNow();
  EXPECT_THAT(reports_.Await(2), ElementsAre("tcp://10.0.0.3:1", "tcp://10.0.0.9:1"));
  r->reset();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(heard.size(), 3u);
  EXPECT_EQ(heard[0].spec, "dns:svc:1");
  EXPECT_THAT(heard[0].addresses, ElementsAre("tcp://10.0.0.1:1", "tcp://10.0.0.2:1"));
  EXPECT_EQ(heard[0].reports_before, 0u);
  EXPECT_EQ(heard[1].reports_before, 1u);
  EXPECT_THAT(heard[2].addresses, ElementsAre("tcp://10.0.0.3:1"));
  EXPECT_EQ(heard[2].reports_before, 1u);
}

TEST(SeedResolverRealDnsTest, ResolvesLocalhostByDefault) {
  Reports reports;
  absl::StatusOr<std::unique_ptr<SeedResolver>> r =
      SeedResolver::Create({"dns:localhost:7000"}, kNever, reports.OnChange());
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(reports.Await(1), Contains("tcp://127.0.0.1:7000"));
}

}  // namespace
}  // namespace polis::internal
