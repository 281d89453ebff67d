// examples/counter_test.cc — the counter server on a local node.
#include "examples/counter.h"

#include <memory>

#include "absl/synchronization/notification.h"
#include "google/protobuf/any.pb.h"
#include "genserver/server_kinds.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis::examples {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::IsOkAndHolds;
using ::polis::testing::LocalNodeTest;
using ::polis::testing::StatusIs;
using ::polis::testing::WaitFor;
using ::testing::AllOf;
using ::testing::HasSubstr;


class CounterTest : public LocalNodeTest {
 protected:
  int64_t Value(const std::string& name) {
    absl::StatusOr<CounterReply> r = node_->Call<CounterReply>(name, CounterGet());
    EXPECT_THAT(r, IsOk());
    return r.ok() ? r->value() : -1;
  }
};

TEST_F(CounterTest, AddReturnsTheNewValueAndGetReadsIt) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Counter>(), {.name = "c"}), IsOk());
  absl::StatusOr<CounterReply> r = node_->Call<CounterReply>("c", CounterAdd(5));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 5);
  EXPECT_EQ(node_->Call<CounterReply>("c", CounterAdd(-2))->value(), 3);
  EXPECT_EQ(Value("c"), 3);
}

TEST_F(CounterTest, CastAddsWithoutReply) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Counter>(), {.name = "c"}), IsOk());
  for (int i = 0; i < 10; ++i) ASSERT_THAT(node_->Cast("c", CounterAdd(1)), IsOk());
  // Messages from one sender keep their order: the call sees every cast.
  EXPECT_EQ(Value("c"), 10);
}

TEST_F(CounterTest, KindTakesAnInitialValue) {
  google::protobuf::Struct args;
  (*args.mutable_fields())["initial"].set_number_value(41);
  auto server = ServerKinds::Create("counter", args);
  ASSERT_THAT(server, IsOk());
  ASSERT_THAT(node_->Spawn(std::move(*server), {.name = "c", .kind = "counter"}), IsOk());
  EXPECT_EQ(node_->Call<CounterReply>("c", CounterAdd(1))->value(), 42);
}

TEST_F(CounterTest, KindRefusesBadArgs) {
  google::protobuf::Struct args;
  (*args.mutable_fields())["initial"].set_string_value("x");
  EXPECT_THAT(ServerKinds::Create("counter", args),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("initial")));
  google::protobuf::Struct unknown;
  (*unknown.mutable_fields())["bogus"].set_number_value(1);
  EXPECT_THAT(ServerKinds::Create("counter", unknown),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bogus")));
}

TEST_F(CounterTest, KindTakesTypedArgsExactly) {
  EXPECT_THAT(ServerKinds::ArgsType("counter"), IsOkAndHolds("polis.examples.CounterArgs"));
  CounterArgs typed;
  typed.set_initial(9007199254740993);  // 2^53 + 1: no double holds it.
  google::protobuf::Any any;
  any.PackFrom(typed);
  auto server = ServerKinds::Create("counter", {}, any);
  ASSERT_THAT(server, IsOk());
  ASSERT_THAT(node_->Spawn(std::move(*server), {.name = "c", .kind = "counter"}), IsOk());
  EXPECT_EQ(node_->Call<CounterReply>("c", CounterGet())->value(), 9007199254740993);
}

TEST_F(CounterTest, KindRefusesAnotherTypeAndAnInexactStructNumber) {
  google::protobuf::Any other;
  other.PackFrom(CounterReply());
  EXPECT_THAT(ServerKinds::Create("counter", {}, other),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("kind counter takes polis.examples.CounterArgs, got "
                                 "polis.examples.CounterReply")));
  google::protobuf::Struct big;
  (*big.mutable_fields())["initial"].set_number_value(9007199254740993.0);
  EXPECT_THAT(ServerKinds::Create("counter", big),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("kind counter: args.initial"), HasSubstr("typed_args"))));
}

TEST_F(CounterTest, CrashFailsTheCallAndReleasesTheName) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Counter>(), {.name = "c"}), IsOk());
  CounterRequest crash;
  crash.mutable_crash();
  absl::StatusOr<CounterReply> r = node_->Call<CounterReply>("c", crash);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("counter crashed on request"));
  EXPECT_THAT(node_->Call<CounterReply>("c", CounterGet()), StatusIs(absl::StatusCode::kNotFound));
  // The name is free again.
  EXPECT_THAT(node_->Spawn(std::make_unique<Counter>(), {.name = "c"}), IsOk());
}

TEST_F(CounterTest, EmptyRequestIsInvalidAndTheServerKeepsRunning) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Counter>(7), {.name = "c"}), IsOk());
  EXPECT_THAT(node_->Call<CounterReply>("c", CounterRequest()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Value("c"), 7);
}

// Watches a counter from outside: a GenServer that forwards the info it
// gets to a notification, so the test waits without sleeping.
class AddWatcher : public GenServer {
 public:
  explicit AddWatcher(absl::Notification* done) : done_(done) { OnInfo(&AddWatcher::Added); }

 private:
  Task<absl::Status> Added(const CounterRequest& request) {
    if (request.add() == 5) done_->Notify();
    co_return absl::OkStatus();
  }

  absl::Notification* done_;
};

TEST_F(CounterTest, AddLaterDeliversAnAddToAnotherServerByName) {
  absl::Notification done;
  ASSERT_THAT(node_->Spawn(std::make_unique<Counter>(), {.name = "c"}), IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<AddWatcher>(&done), {.name = "w"}), IsOk());
  CounterRequest later;
  later.mutable_add_later()->set_n(5);
  later.mutable_add_later()->set_delay_ms(20);
  later.mutable_add_later()->set_target("w");
  EXPECT_EQ(node_->Call<CounterReply>("c", later)->value(), 0);
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST_F(CounterTest, AddLaterWithoutTargetAddsToItself) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Counter>(), {.name = "c"}), IsOk());
  CounterRequest later;
  later.mutable_add_later()->set_n(3);
  ASSERT_THAT(node_->Call<CounterReply>("c", later), IsOk());
  // A delay of 0 queues the info at once; poll until it has been handled.
  WaitFor([&] { return Value("c") == 3; });
  EXPECT_EQ(Value("c"), 3);
}

TEST_F(CounterTest, SlowAddSleepsThenAddsAndRefusesABadSleep) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Counter>(), {.name = "c"}), IsOk());
  CounterRequest slow;
  slow.mutable_slow_add()->set_n(2);
  slow.mutable_slow_add()->set_sleep_us(30'000);
  const absl::Time start = absl::Now();
  absl::StatusOr<CounterReply> r = node_->Call<CounterReply>("c", slow);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 2);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(30));
  slow.mutable_slow_add()->set_sleep_us(-1);
  EXPECT_THAT(node_->Call<CounterReply>("c", slow),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sleep_us")));
  slow.mutable_slow_add()->set_sleep_us(10'000'001);
  EXPECT_THAT(node_->Call<CounterReply>("c", slow),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sleep_us")));
  EXPECT_EQ(Value("c"), 2);
}

}  // namespace
}  // namespace polis::examples
