#include "node/internal/seed_spec.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace polis::internal {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::IsOkAndHolds;
using ::polis::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(SeedSpecTest, AcceptsTheThreeForms) {
  for (const char* spec : {
           "tcp://127.0.0.1:7000",
           "tcp://node-a.example.com:1",
           "tcp://[::1]:65535",
           "tcp://[fe80::1%eth0]:7000",
           "ipc:///tmp/polis/a.sock",
           "dns:polis-seeds:7000",
           "dns:polis.default.svc.cluster.local.:7000",
           "dns:_polis._tcp.example.com:7000",
           "dns:localhost:1",
           "dns:10.0.0.1:7000",
           "dns:[::1]:7000",
           "dns:[fd00::2]:7000",
       }) {
    EXPECT_THAT(ValidateSeedSpec(spec), IsOk()) << spec;
  }
}

TEST(SeedSpecTest, RefusesBadSpecsSayingWhatIsWrong) {
  struct Case {
    std::string spec;
    std::string why;
  };
  for (const Case& c : std::vector<Case>{
           {"", "empty"},
           {"localhost:7000", "no scheme"},
           {"udp://host:7000", "unknown scheme \"udp\""},
           {"DNS:host:7000", "no scheme"},
           {"tcp://host", "no port"},
           {"tcp://host:", "no port"},
           {"tcp://:7000", "empty host"},
           {"tcp://host:0", "port must be 1-65535, not \"0\""},
           {"tcp://host:65536", "port must be 1-65535"},
           {"tcp://host:99999999999999999999", "port must be 1-65535"},
           {"tcp://host:-1", "port must be 1-65535"},
           {"tcp://host:*", "port must be 1-65535"},
           {"tcp://*:7000", "wildcard host"},
           {"tcp://a b:7000", "invalid character in host"},
           {"tcp://[::1:7000", "no ']'"},
           {"tcp://[::1]7000", "expected \":PORT\" after ']'"},
           {"tcp://[not-v6]:7000", "\"not-v6\" is not an IPv6 address"},
           {"ipc://", "empty ipc path"},
           {"ipc://*", "wildcard ipc path"},
           {"ipc://" + std::string(108, 'x'), "longer than 107 bytes"},
           {"dns:", "no port"},
           {"dns:host", "no port"},
           {"dns:host:", "no port"},
           {"dns::7000", "empty host"},
           {"dns:host:70000", "port must be 1-65535, not \"70000\""},
           {"dns:host:http", "port must be 1-65535"},
           {"dns://host:7000", "without \"//\""},
           {"dns:host:7000/path", "a dns: seed has no path"},
           {"dns:::1:7000", "an IPv6 address needs brackets"},
           {"dns:[]:7000", "empty host"},
           {"dns:[::1]", "no port"},
           {"dns:a..b:7000", "empty label"},
           {"dns:.a:7000", "empty label"},
           {"dns:" + std::string(64, 'a') + ":7000", "label longer than 63"},
           {"dns:" + std::string(300, 'a') + ":7000", "longer than 253"},
           {"dns:a b:7000", "invalid character ' ' in host name"},
           {"dns:host*:7000", "invalid character '*' in host name"},
       }) {
    EXPECT_THAT(ValidateSeedSpec(c.spec),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(StartsWith("bad seed \"" + c.spec + "\": "), HasSubstr(c.why),
                               HasSubstr("expected tcp://HOST:PORT, ipc://PATH or dns:HOST:PORT"))))
        << c.spec;
  }
}

TEST(SeedSpecTest, IsDnsSeedLooksAtTheSchemeOnly) {
  EXPECT_TRUE(IsDnsSeed("dns:host:1"));
  EXPECT_TRUE(IsDnsSeed("dns:"));
  EXPECT_FALSE(IsDnsSeed("tcp://dns:1"));
  EXPECT_FALSE(IsDnsSeed(""));
}

TEST(ResolveDnsSeedTest, LocalhostResolvesToTheLoopbackAddress) {
  absl::StatusOr<std::vector<std::string>> r = ResolveDnsSeed("dns:localhost:7000");
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(*r, Contains("tcp://127.0.0.1:7000"));
  EXPECT_TRUE(std::is_sorted(r->begin(), r->end()));
  EXPECT_EQ(std::adjacent_find(r->begin(), r->end()), r->end()) << "duplicates";
}

TEST(ResolveDnsSeedTest, ANumericHostResolvesToItself) {
  EXPECT_THAT(ResolveDnsSeed("dns:127.0.0.1:7"), IsOkAndHolds(ElementsAre("tcp://127.0.0.1:7")));
  EXPECT_THAT(ResolveDnsSeed("dns:[::1]:7"), IsOkAndHolds(ElementsAre("tcp://[::1]:7")));
  EXPECT_THAT(ResolveDnsSeed("dns:[0:0::ffff:a00:1]:7"),
              IsOkAndHolds(ElementsAre("tcp://[::ffff:10.0.0.1]:7")));
}

TEST(ResolveDnsSeedTest, AnUnknownNameIsNotFoundAndNamed) {
  // RFC 6761: ".invalid" never resolves.
  absl::StatusOr<std::vector<std::string>> r = ResolveDnsSeed("dns:no-such-host.invalid:1");
  if (absl::IsUnavailable(r.status())) {
    // EAI_AGAIN: no DNS server answered, so "no such name" cannot be told.
    GTEST_SKIP() << "no DNS server answers here: " << r.status();
  }
  EXPECT_THAT(
      r, StatusIs(absl::StatusCode::kNotFound, AllOf(HasSubstr("\"no-such-host.invalid\""),
                                                     HasSubstr("dns:no-such-host.invalid:1"))));
}

TEST(ResolveDnsSeedTest, RefusesWhatIsNotAValidDnsSeed) {
  EXPECT_THAT(ResolveDnsSeed("tcp://127.0.0.1:7"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a dns: seed")));
  EXPECT_THAT(ResolveDnsSeed("dns:localhost"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no port")));
}

}  // namespace
}  // namespace polis::internal
