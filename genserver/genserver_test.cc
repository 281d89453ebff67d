// GenServer on one node: hooks, ordering, errors, deferred replies, timers,
// the registry, calls from handlers (no blocked scheduler threads).
#include "genserver/genserver.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/journal.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"
#include "tests/test_values.h"

namespace polis {
namespace {

using ::google::protobuf::Empty;
using ::google::protobuf::Int64Value;
using ::google::protobuf::StringValue;
using ::polis::testing::IsOk;
using ::polis::testing::IsOkAndHolds;
using ::polis::testing::Journal;
using ::polis::testing::LocalNodeTest;
using ::polis::testing::StatusIs;
using ::testing::HasSubstr;

using ::polis::testing::Int;
using ::polis::testing::Str;

// Call Int64Value n: adds n, replies with the total. Call StringValue:
// "throw" throws, "fail" returns an error (server fails), "refuse" replies
// an error (server lives), "defer" replies on the next cast, "sleep:<ms>"
// replies after a timer. Cast Int64Value adds. Info StringValue is logged.
class Acc : public GenServer {
 public:
  explicit Acc(Journal* j = nullptr) : j_(j) {
    AcceptCall<Int64Value, Int64Value>();
    AcceptCall<StringValue, Int64Value>();
    AcceptCast<Int64Value>();
    AcceptCast<Empty>();
    AcceptInfo<StringValue>();
  }
  Task<absl::Status> Init() override {
    if (j_) j_->Add("init");
    co_return absl::OkStatus();
  }
  Task<absl::StatusOr<Reply>> HandleCall(const Message& m, const From& from) override {
    if (m.Is<Int64Value>()) {
      total_ += m.As<Int64Value>()->value();
      co_return Int(total_);
    }
    std::string cmd = m.As<StringValue>()->value();
    if (cmd == "throw") throw std::runtime_error("boom in handler");
    if (cmd == "fail") co_return absl::DataLossError("state corrupted");
    if (cmd == "refuse") co_return Reply::Error(absl::PermissionDeniedError("no"));
    if (cmd == "defer") {
      deferred_.push_back(from);
      if (j_) j_->Add("deferred");
      co_return Reply::Deferred();
    }
    if (cmd.rfind("sleep:", 0) == 0) {
      deferred_.push_back(from);
      (void)SendAfter(absl::Milliseconds(std::stoi(cmd.substr(6))), Str("wake"));
      co_return Reply::Deferred();
    }
    co_return Reply::Error(absl::InvalidArgumentError("unknown command " + cmd));
  }
  Task<absl::Status> HandleCast(const Message& m) override {
    if (m.Is<Int64Value>()) total_ += m.As<Int64Value>()->value();
    for (const From& f : deferred_) ReplyTo(f, Int(total_));
    deferred_.clear();
    co_return absl::OkStatus();
  }
  Task<absl::Status> HandleInfo(const Message& m) override {
    std::string v = m.As<StringValue>()->value();
    if (j_) j_->Add("info:" + v);
    if (v == "wake") {
      for (const From& f : deferred_) ReplyTo(f, Int(total_));
      deferred_.clear();
    }
    co_return absl::OkStatus();
  }
  void Terminate(const absl::Status& reason) override {
    if (j_) j_->Add("terminate:" + std::string(absl::StatusCodeToString(reason.code())));
  }

 private:
  Journal* j_;
  int64_t total_ = 0;
  std::vector<From> deferred_;
};

// A node `node_` (shut down in TearDown, before `j` goes) and a journal
// its servers write to.
class GenServerTest : public LocalNodeTest {
 protected:
  Journal j;
};

TEST_F(GenServerTest, CallReturnsReplyAndStateIsKept) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "acc"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("acc", Int(5)), IsOk());
  auto r = node_->Call<Int64Value>("acc", Int(7));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 12);
}

TEST_F(GenServerTest, CastsFromOneSenderAreHandledInOrder) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "acc"}), IsOk());
  for (int i = 1; i <= 1000; ++i) ASSERT_THAT(node_->Cast("acc", Int(i)), IsOk());
  // The call comes after every cast from this thread, so it sees them all.
  auto r = node_->Call<Int64Value>("acc", Int(0));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 1000 * 1001 / 2);
}

TEST_F(GenServerTest, UnknownNameIsNotFoundAtOnce) {
  absl::Time start = absl::Now();
  EXPECT_THAT(node_->Call<Int64Value>("nobody", Int(1), absl::Seconds(30)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nobody")));
  EXPECT_THAT(node_->Cast("nobody", Int(1)), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));  // Not the call timeout.
}

TEST_F(GenServerTest, WrongPayloadTypeIsInvalidArgument) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "acc"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("acc", Empty()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("google.protobuf.Empty")));
  // Reply of another type than the caller expects.
  EXPECT_THAT(node_->Call<StringValue>("acc", Int(1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(node_->Call<Int64Value>("acc", Int(1)), IsOk());  // Still alive.
}

TEST_F(GenServerTest, TimeoutIsDeadlineExceededAndLateReplyIsDropped) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "acc"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("acc", Str("defer"), absl::Milliseconds(50)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  // The deferred reply to the timed-out call is sent now (by the cast); the
  // next call must get its own reply, not that one.
  ASSERT_THAT(node_->Cast("acc", Int(100)), IsOk());
  auto r = node_->Call<Int64Value>("acc", Int(1));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 101);
}

// Call StringValue "hold": blocks its worker until `release`. Call
// Int64Value: replies with how many Int64Value calls it has handled. Cast
// Int64Value: adds one to `*casts`. Cast Empty: records `*casts` in
// `*seen`, then "looked" in the journal.
class Gate : public GenServer {
 public:
  Gate(Journal* j, absl::Notification* release, std::atomic<int64_t>* casts = nullptr,
       int64_t* seen = nullptr)
      : j_(j), release_(release), casts_(casts), seen_(seen) {
    AcceptCall<StringValue, Int64Value>();
    AcceptCall<Int64Value, Int64Value>();
    AcceptCast<Int64Value>();
    AcceptCast<Empty>();
  }
  Task<absl::StatusOr<Reply>> HandleCall(const Message& m, const From&) override {
    if (m.Is<StringValue>()) {
      j_->Add("holding");
      release_->WaitForNotification();
      co_return Int(0);
    }
    co_return Int(++counted_);
  }
  Task<absl::Status> HandleCast(const Message& m) override {
    if (m.Is<Int64Value>()) {
      ++*casts_;
    } else {
      *seen_ = casts_->load();
      j_->Add("looked");
    }
    co_return absl::OkStatus();
  }

 private:
  Journal* j_;
  absl::Notification* release_;
  std::atomic<int64_t>* casts_;
  int64_t* seen_;
  int64_t counted_ = 0;
};

TEST_F(GenServerTest, CallWhoseCallerGaveUpIsDroppedUnrun) {
  absl::Notification release;
  ASSERT_THAT(node_->Spawn(std::make_unique<Gate>(&j, &release), {.name = "gate"}), IsOk());
  std::thread holder([&] { EXPECT_THAT(node_->Call<Int64Value>("gate", Str("hold")), IsOk()); });
  ASSERT_TRUE(j.WaitFor("holding"));
  // Queued behind "hold": its caller gives up before the server is free.
  EXPECT_THAT(node_->Call<Int64Value>("gate", Int(1), absl::Milliseconds(20)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  release.Notify();
  holder.join();
  // The server never ran the abandoned call: this is the first it counts.
  auto r = node_->Call<Int64Value>("gate", Int(1));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 1);
}

TEST(SchedulingTest, BusyServerDoesNotStarveOthersOnItsWorker) {
  Journal j;
  absl::Notification release;
  std::atomic<int64_t> casts{0};
  int64_t seen = -1;
  auto node = Node::Create({.name = "one", .scheduler_threads = 1});
  ASSERT_THAT(node, IsOk());
  ASSERT_THAT((*node)->Spawn(std::make_unique<Gate>(&j, &release, &casts), {.name = "busy"}),
              IsOk());
  ASSERT_THAT((*node)->Spawn(std::make_unique<Gate>(&j, nullptr, &casts, &seen),
                             {.name = "other"}),
              IsOk());
  std::thread holder([&] { EXPECT_THAT((*node)->Call<Int64Value>("busy", Str("hold")), IsOk()); });
  ASSERT_TRUE(j.WaitFor("holding"));  // The one worker is held by "busy".
  constexpr int kCasts = 10000;
  for (int i = 0; i < kCasts; ++i) ASSERT_THAT((*node)->Cast("busy", Int(1)), IsOk());
  ASSERT_THAT((*node)->Cast("other", Empty()), IsOk());  // Queued behind "busy".
  release.Notify();
  holder.join();
  ASSERT_TRUE(j.WaitFor("looked"));
  // "other" ran after "busy" used a budget or two, not after all its mail.
  EXPECT_LT(seen, kCasts / 2);
}

TEST_F(GenServerTest, DeferredReplyFromLaterHandler) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "acc"}), IsOk());
  auto r = node_->Call<Int64Value>("acc", Str("sleep:20"));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), 0);
}

TEST_F(GenServerTest, ReplyErrorKeepsServerRunning) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "acc"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("acc", Str("refuse")),
              StatusIs(absl::StatusCode::kPermissionDenied, "no"));
  EXPECT_THAT(node_->Call<Int64Value>("acc", Int(1)), IsOk());
}

TEST_F(GenServerTest, ThrowingHandlerFailsOnlyThatServer) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(&j), {.name = "acc"}), IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "other"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("acc", Str("throw")),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("boom in handler")));
  EXPECT_TRUE(j.WaitFor("terminate:INTERNAL"));
  // The name is released: NOT_FOUND, and it can be taken again.
  EXPECT_THAT(node_->Call<Int64Value>("acc", Int(1)), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "acc"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("other", Int(1)), IsOk());
}

// HandleCast and HandleInfo written as plain functions (not coroutines) that
// throw before making a Task: the server fails as if a coroutine had thrown.
class ThrowsBeforeItsFrame : public GenServer {
 public:
  explicit ThrowsBeforeItsFrame(Journal* j) : j_(j) {
    AcceptCast<Empty>();
    AcceptInfo<StringValue>();
  }
  Task<absl::Status> HandleCast(const Message&) override {
    throw std::runtime_error("cast thrown early");
  }
  Task<absl::Status> HandleInfo(const Message&) override {
    throw std::runtime_error("info thrown early");
  }
  void Terminate(const absl::Status& reason) override {
    j_->Add(absl::StrCat("terminate:", absl::StatusCodeToString(reason.code()), ":",
                         reason.message()));
  }

 private:
  Journal* j_;
};

TEST_F(GenServerTest, HandlersThatThrowBeforeMakingATaskFailOnlyTheirServer) {
  ASSERT_THAT(node_->Spawn(std::make_unique<ThrowsBeforeItsFrame>(&j), {.name = "early-cast"}),
              IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<ThrowsBeforeItsFrame>(&j), {.name = "early-info"}),
              IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "other"}), IsOk());
  ASSERT_THAT(node_->Cast("early-cast", Empty()), IsOk());
  ASSERT_THAT(node_->Send("early-info", Str("x")), IsOk());
  EXPECT_TRUE(j.WaitFor("terminate:INTERNAL:early-cast handler threw: cast thrown early"));
  EXPECT_TRUE(j.WaitFor("terminate:INTERNAL:early-info handler threw: info thrown early"));
  EXPECT_THAT(node_->Call<Int64Value>("other", Int(1)), IsOk());
}

TEST_F(GenServerTest, ErrorStatusFailsServerWithItsMessage) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(&j), {.name = "acc"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("acc", Str("fail")),
              StatusIs(absl::StatusCode::kDataLoss, "state corrupted"));
  EXPECT_TRUE(j.WaitFor("terminate:DATA_LOSS"));
  EXPECT_THAT(node_->WhereIs("acc"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(GenServerTest, OpenCallsGetAnErrorAtOnceWhenTheServerCrashes) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(&j), {.name = "acc"}), IsOk());
  absl::Status deferred_status;
  std::thread t([&] {
    deferred_status = node_->Call<Int64Value>("acc", Str("defer"), absl::Seconds(30)).status();
  });
  ASSERT_TRUE(j.WaitFor("deferred"));
  absl::Time start = absl::Now();
  EXPECT_THAT(node_->Call<Int64Value>("acc", Str("throw")), StatusIs(absl::StatusCode::kInternal));
  t.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));  // Not its 30 s timeout.
  EXPECT_THAT(deferred_status, StatusIs(absl::StatusCode::kAborted, HasSubstr("acc")));
}

TEST_F(GenServerTest, StopRunsTerminateAndFailsPendingCalls) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(&j), {.name = "acc"}), IsOk());
  absl::Status deferred_status;
  std::thread t([&] {
    deferred_status = node_->Call<Int64Value>("acc", Str("defer"), absl::Seconds(30)).status();
  });
  ASSERT_TRUE(j.WaitFor("deferred"));
  ASSERT_THAT(node_->Stop("acc"), IsOk());
  EXPECT_TRUE(j.Has("terminate:OK"));
  t.join();
  EXPECT_THAT(deferred_status, StatusIs(absl::StatusCode::kAborted));
}

TEST_F(GenServerTest, RegistryNamesAreUniqueAndReleased) {
  auto pid = node_->Spawn(std::make_unique<Acc>(), {.name = "a"});
  ASSERT_THAT(pid, IsOk());
  EXPECT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "a"}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(node_->WhereIs("a"), IsOkAndHolds(*pid));
  auto anon = node_->Spawn(std::make_unique<Acc>());
  ASSERT_THAT(anon, IsOk());
  EXPECT_THAT(node_->Register("a", *anon), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(node_->Register("b", *anon), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("b", Int(3)), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>(*anon, Int(3)), IsOk());  // By pid.
  EXPECT_THAT(node_->Unregister("b"), IsOk());
  EXPECT_THAT(node_->Unregister("b"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(node_->Stop("a"), IsOk());
  EXPECT_THAT(node_->WhereIs("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "a"}), IsOk());
}

TEST_F(GenServerTest, NamesThatAreNotUtf8AreRefused) {
  // Names cross the wire in proto3 string fields.
  EXPECT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "bad\xFF"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("UTF-8")));
  auto anon = node_->Spawn(std::make_unique<Acc>());
  ASSERT_THAT(anon, IsOk());
  EXPECT_THAT(node_->Register("bad\xC0\x80", *anon),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("UTF-8")));
  EXPECT_THAT(node_->Register("caf\xC3\xA9", *anon), IsOk());  // UTF-8 is fine
  EXPECT_THAT(Node::Create({.name = "node\xFF"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("UTF-8")));
}

TEST_F(GenServerTest, SendAfterDeliversAndCancelTimerCancels) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(&j), {.name = "acc"}), IsOk());
  auto keep = node_->SendAfter(absl::Milliseconds(10), "acc", Str("later"));
  auto cancel = node_->SendAfter(absl::Milliseconds(10), "acc", Str("cancelled"));
  ASSERT_THAT(keep, IsOk());
  ASSERT_THAT(cancel, IsOk());
  EXPECT_TRUE(node_->CancelTimer(*cancel));
  EXPECT_FALSE(node_->CancelTimer(*cancel));
  EXPECT_TRUE(j.WaitFor("info:later"));
  // A message sent after the cancelled timer's deadline arrives after it
  // would have: it did not fire.
  auto marker = node_->SendAfter(absl::Milliseconds(30), "acc", Str("marker"));
  EXPECT_TRUE(j.WaitFor("info:marker"));
  EXPECT_FALSE(j.Has("info:cancelled"));
}

// Server that, on a cast, schedules a far timer to itself and then stops.
class TimerOwner : public GenServer {
 public:
  explicit TimerOwner(Journal* j) : j_(j) {
    AcceptCast<Empty>();
    AcceptInfo<StringValue>();
  }
  Task<absl::Status> HandleCast(const Message&) override {
    (void)SendAfter(absl::Milliseconds(20), "witness", Str("from-dead-owner"));
    Stop();
    co_return absl::OkStatus();
  }

 private:
  Journal* j_;
};

TEST_F(GenServerTest, TimersDieWithTheirServer) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(&j), {.name = "witness"}), IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<TimerOwner>(&j), {.name = "owner"}), IsOk());
  ASSERT_THAT(node_->Cast("owner", Empty()), IsOk());
  // A later timer from the test itself proves time has passed beyond 20 ms.
  ASSERT_THAT(node_->SendAfter(absl::Milliseconds(60), "witness", Str("after")), IsOk());
  EXPECT_TRUE(j.WaitFor("info:after"));
  EXPECT_FALSE(j.Has("info:from-dead-owner"));
}

// Calls `target` (from inside its handler) when cast, records the outcome.
class Caller : public GenServer {
 public:
  Caller(std::string target, std::atomic<int>* ok, std::atomic<int>* failed,
         absl::Duration timeout = absl::Seconds(30))
      : target_(std::move(target)), ok_(ok), failed_(failed), timeout_(timeout) {
    AcceptCast<Empty>();
    AcceptCall<Int64Value, Int64Value>();
  }
  Task<absl::Status> HandleCast(const Message&) override {
    absl::StatusOr<Int64Value> r = co_await Call<Int64Value>(target_, Int(1), timeout_);
    if (r.ok()) {
      ++*ok_;
    } else {
      last_error_ = r.status();
      ++*failed_;
    }
    co_return absl::OkStatus();
  }
  // A call to a Caller makes it call its target in turn (for cycles).
  Task<absl::StatusOr<Reply>> HandleCall(const Message& m, const From&) override {
    absl::StatusOr<Int64Value> r = co_await Call<Int64Value>(target_, Int(1), timeout_);
    if (!r.ok()) co_return Reply::Error(r.status());
    co_return *r;
  }

 private:
  std::string target_;
  std::atomic<int>* ok_;
  std::atomic<int>* failed_;
  absl::Duration timeout_;
  absl::Status last_error_;
};

TEST_F(GenServerTest, TenThousandServersCallingAtOnceAllCompleteOnTwoThreads) {
  constexpr int kN = 10000;
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < kN; ++i) {
    ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "callee" + std::to_string(i)}),
                IsOk());
    ASSERT_THAT(node_->Spawn(std::make_unique<Caller>("callee" + std::to_string(i), &ok, &failed),
                             {.name = "caller" + std::to_string(i)}),
                IsOk());
  }
  for (int i = 0; i < kN; ++i) ASSERT_THAT(node_->Cast("caller" + std::to_string(i), Empty()), IsOk());
  // Every caller's own mailbox is behind its call; a call to each caller
  // completes only after its cast (and so its call) finished.
  absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (ok + failed < kN && absl::Now() < deadline) {
    ASSERT_THAT(node_->Call<Int64Value>("callee0", Int(0)), IsOk());
  }
  EXPECT_EQ(ok.load(), kN);
  EXPECT_EQ(failed.load(), 0);
}

TEST_F(GenServerTest, CallCycleEndsInDeadlineExceeded) {
  std::atomic<int> ok{0}, failed{0};
  ASSERT_THAT(node_->Spawn(std::make_unique<Caller>("b", &ok, &failed, absl::Milliseconds(200)),
                           {.name = "a"}),
              IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<Caller>("a", &ok, &failed, absl::Milliseconds(200)),
                           {.name = "b"}),
              IsOk());
  // a's call to b times out (b is blocked calling a); the message names
  // what timed out.
  EXPECT_THAT(node_->Call<Int64Value>("a", Int(1), absl::Seconds(5)),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("call to \"b\" timed out after 200ms")));
  // The node is not hung: both servers answer afterwards.
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "c"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("c", Int(1)), IsOk());
}

// Blocking Node::Call from inside a handler is refused, not a deadlock.
class BlockingCaller : public GenServer {
 public:
  BlockingCaller() { AcceptCall<Empty, StringValue>(); }
  Task<absl::StatusOr<Reply>> HandleCall(const Message&, const From&) override {
    absl::StatusOr<Int64Value> r = node().Call<Int64Value>("acc", Int(1));
    co_return Str(std::string(absl::StatusCodeToString(r.status().code())));
  }
};

TEST_F(GenServerTest, BlockingCallFromHandlerIsRefused) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "acc"}), IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<BlockingCaller>(), {.name = "bc"}), IsOk());
  auto r = node_->Call<StringValue>("bc", Empty());
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), "FAILED_PRECONDITION");
}

class FailingInit : public GenServer {
 public:
  explicit FailingInit(Journal* j) : j_(j) {}
  Task<absl::Status> Init() override { co_return absl::UnavailableError("no database"); }
  void Terminate(const absl::Status& r) override { j_->Add("terminate"); }

 private:
  Journal* j_;
};

TEST_F(GenServerTest, FailedInitIsReturnedBySpawnAndReleasesName) {
  EXPECT_THAT(node_->Spawn(std::make_unique<FailingInit>(&j), {.name = "x"}),
              StatusIs(absl::StatusCode::kUnavailable, "no database"));
  EXPECT_TRUE(j.Has("terminate"));
  EXPECT_THAT(node_->WhereIs("x"), StatusIs(absl::StatusCode::kNotFound));
}

// Ends right after Init, with a reason of its own.
class QuickExit : public GenServer {
 public:
  Task<absl::Status> Init() override {
    Stop(absl::DataLossError("gone at once"));
    co_return absl::OkStatus();
  }
};

// On a cast, spawns QuickExit with SpawnOptions::monitor and records the
// ProcessDown it gets.
class Spawner : public GenServer {
 public:
  explicit Spawner(Journal* j) : j_(j) { AcceptCast<Empty>(); }
  Task<absl::Status> HandleCast(const Message&) override {
    SpawnOptions options{.monitor = true};
    SpawnAwaiter spawn = context().Spawn(std::make_unique<QuickExit>(), options);
    absl::StatusOr<Pid> pid = co_await spawn;
    ref_ = spawn.monitor_ref();
    j_->Add(pid.ok() && ref_ != 0 ? "spawned" : "spawn failed");
    co_return absl::OkStatus();
  }
  Task<absl::Status> HandleInfo(const Message& m) override {
    auto down = m.As<wire::ProcessDown>();
    if (down.ok() && down->monitor_ref() == ref_) {
      j_->Add("down:" + std::string(absl::StatusCodeToString(
                            static_cast<absl::StatusCode>(down->status_code()))) +
              ":" + down->status_message());
    }
    co_return absl::OkStatus();
  }

 private:
  Journal* j_;
  uint64_t ref_ = 0;
};

TEST_F(GenServerTest, SpawnWithMonitorReportsTheRealReasonOfAnInstantExit) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Spawner>(&j), {.name = "spawner"}), IsOk());
  ASSERT_THAT(node_->Cast("spawner", Empty()), IsOk());
  EXPECT_TRUE(j.WaitFor("spawned"));
  EXPECT_TRUE(j.WaitFor("down:DATA_LOSS:gone at once"));
}

TEST_F(GenServerTest, DescribeListsDeclaredTypesWithTheirFiles) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Acc>(), {.name = "acc", .kind = "acc"}), IsOk());
  auto d = node_->Describe("acc");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->kind(), "acc");
  EXPECT_THAT(d->call_types(), ::testing::Contains("google.protobuf.Int64Value"));
  EXPECT_THAT(d->cast_types(), ::testing::Contains("google.protobuf.Empty"));
  EXPECT_FALSE(d->file_descriptor_set().empty());
}

// Declares Int64Value -> Int64Value or StringValue, and StringValue -> Empty.
class TwoReplies : public GenServer {
 public:
  TwoReplies() {
    AcceptCall<Int64Value, Int64Value>();
    AcceptCall<StringValue, Empty>();
    AcceptCall<Int64Value, StringValue>();
    AcceptCall<Int64Value, Int64Value>();  // Again: listed once.
  }
};

TEST_F(GenServerTest, DescribeGivesEachRequestTypeWithEveryReplyTypeDeclaredForIt) {
  ASSERT_THAT(node_->Spawn(std::make_unique<TwoReplies>(), {.name = "two"}), IsOk());
  auto d = node_->Describe("two");
  ASSERT_THAT(d, IsOk());
  EXPECT_THAT(d->call_types(), ::testing::ElementsAre("google.protobuf.Int64Value",
                                                      "google.protobuf.StringValue"));
  ASSERT_EQ(d->calls_size(), 2) << d->DebugString();
  EXPECT_EQ(d->calls(0).request_type(), "google.protobuf.Int64Value");
  EXPECT_THAT(d->calls(0).reply_types(), ::testing::ElementsAre("google.protobuf.Int64Value",
                                                                "google.protobuf.StringValue"));
  EXPECT_EQ(d->calls(1).request_type(), "google.protobuf.StringValue");
  EXPECT_THAT(d->calls(1).reply_types(), ::testing::ElementsAre("google.protobuf.Empty"));
  // The reply types' files come too.
  google::protobuf::FileDescriptorSet files;
  ASSERT_TRUE(files.ParseFromString(d->file_descriptor_set()));
  std::vector<std::string> names;
  for (const auto& f : files.file()) names.push_back(f.name());
  EXPECT_THAT(names, ::testing::IsSupersetOf({"google/protobuf/wrappers.proto",
                                              "google/protobuf/empty.proto"}));
}

}  // namespace
}  // namespace polis
