// examples/doc_examples_test.cc — the code the documentation shows, compiled
// and run, so that what a user copies works: README.md ("A server"), and the
// examples atop genserver/genserver.h, genserver/typed_call.h and
// genserver/supervisor.h. Change them together.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "examples/counter.h"
#include "examples/examples.pb.h"
#include "genserver/genserver.h"
#include "genserver/supervisor.h"
#include "genserver/supervisor_builder.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/status_matchers.h"

// --- README.md, "A server" (verbatim) ---
namespace readme_example {

using polis::examples::CounterReply;
using polis::examples::CounterRequest;

class Counter : public polis::GenServer {
 public:
  Counter() {
    OnCall(&Counter::Answer);  // CounterRequest -> CounterReply
    OnCast(&Counter::Update);  // CounterRequest, no reply
  }

 private:
  polis::Task<absl::StatusOr<CounterReply>> Answer(const CounterRequest& request) {
    if (request.has_crash()) throw std::runtime_error("counter crashed");    // fails the server
    if (!request.has_add()) co_return absl::InvalidArgumentError("no add");  // the caller's answer
    value_ += request.add();  // state is kept in members
    CounterReply reply;
    reply.set_value(value_);
    co_return reply;
  }
  polis::Task<absl::Status> Update(const CounterRequest& request) {
    value_ += request.add();
    co_return absl::OkStatus();  // an error would be logged; the server keeps running
  }

  int64_t value_ = 0;
};

}  // namespace readme_example

// --- genserver/genserver.h (verbatim, plus a server that makes the call) ---
namespace header_example {

using polis::examples::CounterReply;
using polis::examples::CounterRequest;

class Counter : public polis::GenServer {
 public:
  Counter() {
    OnCall(&Counter::Add);   // CounterRequest -> CounterReply
    OnCast(&Counter::Bump);  // CounterRequest, no reply
  }

 private:
  polis::Task<absl::StatusOr<CounterReply>> Add(const CounterRequest& request) {
    if (!request.has_add()) co_return absl::InvalidArgumentError("no add");
    value_ += request.add();
    CounterReply reply;
    reply.set_value(value_);
    co_return reply;
  }
  polis::Task<absl::Status> Bump(const CounterRequest& request) {
    value_ += request.add();
    co_return absl::OkStatus();
  }
  int64_t value_ = 0;
};

// Forwards a call to "counter" from inside its handler.
class Relay : public polis::GenServer {
 public:
  Relay() { OnCall(&Relay::Forward); }

 private:
  polis::Task<absl::StatusOr<CounterReply>> Forward(const CounterRequest& request) {
    // In another server's handler: the call does not block a thread.
    absl::StatusOr<CounterReply> r = co_await Call<CounterReply>("counter", request);
    co_return r;
  }
};

}  // namespace header_example

// --- genserver/typed_call.h (Gate::Await verbatim, the rest around it) ---
namespace typed_call_example {

using polis::examples::CounterReply;
using polis::examples::CounterRequest;

// Calls wait until the value reaches their `add`; casts raise the value.
class Gate : public polis::GenServer {
 public:
  Gate() {
    OnCall(&Gate::Await);
    OnCast(&Gate::Raise);
  }

 private:
  polis::Task<polis::Deferrable<CounterReply>> Await(const CounterRequest& request,
                                                     const polis::Caller<CounterReply>& caller);
  polis::Task<absl::Status> Raise(const CounterRequest& request) {
    value_ += request.add();
    std::vector<Waiter> still;
    for (Waiter& w : waiting_) {
      if (value_ >= w.threshold) {
        ReplyTo(w.caller, Value());
      } else {
        still.push_back(std::move(w));
      }
    }
    waiting_ = std::move(still);
    co_return absl::OkStatus();
  }
  CounterReply Value() const {
    CounterReply r;
    r.set_value(value_);
    return r;
  }

  struct Waiter {
    int64_t threshold;
    polis::Caller<CounterReply> caller;
  };
  int64_t value_ = 0;
  std::vector<Waiter> waiting_;
};

polis::Task<polis::Deferrable<CounterReply>> Gate::Await(
    const CounterRequest& request, const polis::Caller<CounterReply>& caller) {
  if (request.add() < 0) co_return absl::InvalidArgumentError("negative");  // error now
  if (value_ >= request.add()) co_return Value();  // answer now (a CounterReply)
  waiting_.push_back({request.add(), caller});     // keep a copy of the caller
  co_return polis::Deferred();                     // and answer later
}

}  // namespace typed_call_example

// --- genserver/supervisor.h (verbatim inside a function) ---
namespace supervisor_example {

using polis::examples::Counter;

absl::StatusOr<polis::supervision::SupervisorReply> StartTree(polis::Node* node) {
  polis::SupervisorBuilder tree;  // see supervisor_builder.h
  tree.strategy(polis::supervision::ONE_FOR_ONE)
      .intensity(3, absl::Seconds(5))
      .backoff(polis::ConstantBackoff(absl::Milliseconds(200)))
      .Add("counter", [] { return std::make_unique<Counter>(); }, {.name = "counter"});
  absl::StatusOr<std::unique_ptr<polis::Supervisor>> sup = tree.Build();
  if (!sup.ok()) return sup.status();
  if (auto pid = node->Spawn(std::move(*sup), {.name = "sup"}); !pid.ok()) return pid.status();
  absl::StatusOr<polis::supervision::SupervisorReply> children =
      node->Call<polis::supervision::SupervisorReply>("sup", polis::WhichChildrenRequest());
  return children;
}

}  // namespace supervisor_example

namespace polis::examples {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::StatusIs;

CounterRequest Add(int64_t n) {
  CounterRequest r;
  r.set_add(n);
  return r;
}

class DocExamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto node = Node::Create({.name = "docs", .scheduler_threads = 2});
    ASSERT_THAT(node, IsOk());
    node_ = std::move(*node);
  }
  std::unique_ptr<Node> node_;
};

TEST_F(DocExamplesTest, ReadmeCounterAnswersKeepsRunningOnErrorsAndFailsOnCrash) {
  ASSERT_THAT(node_->Spawn(std::make_unique<readme_example::Counter>(), {.name = "counter"}),
              IsOk());
  // The README's client snippet, on a local node.
  CounterRequest request;
  request.set_add(5);
  absl::StatusOr<CounterReply> reply = node_->Call<CounterReply>("counter", request);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->value(), 5);
  ASSERT_THAT(node_->Cast("counter", Add(2)), IsOk());
  EXPECT_THAT(node_->Call<CounterReply>("counter", CounterGet()),
              StatusIs(absl::StatusCode::kInvalidArgument, "no add"));
  EXPECT_EQ(node_->Call<CounterReply>("counter", Add(0))->value(), 7);
  CounterRequest crash;
  crash.mutable_crash();
  EXPECT_THAT(node_->Call<CounterReply>("counter", crash),
              StatusIs(absl::StatusCode::kInternal, ::testing::HasSubstr("counter crashed")));
}

TEST_F(DocExamplesTest, HeaderCounterIsCalledFromAnotherServer) {
  ASSERT_THAT(node_->Spawn(std::make_unique<header_example::Counter>(), {.name = "counter"}),
              IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<header_example::Relay>(), {.name = "relay"}), IsOk());
  ASSERT_THAT(node_->Cast("counter", Add(1)), IsOk());
  EXPECT_EQ(node_->Call<CounterReply>("relay", Add(2))->value(), 3);
}

TEST_F(DocExamplesTest, DeferringGateAnswersWhenTheValueArrives) {
  ASSERT_THAT(node_->Spawn(std::make_unique<typed_call_example::Gate>(), {.name = "gate"}), IsOk());
  EXPECT_THAT(node_->Call<CounterReply>("gate", Add(-1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(node_->Call<CounterReply>("gate", Add(0))->value(), 0);
  absl::StatusOr<CounterReply> later;
  absl::Notification answered;
  std::thread waiter([&] {
    later = node_->Call<CounterReply>("gate", Add(3), absl::Seconds(30));
    answered.Notify();
  });
  // Casts until the waiting call is answered (the call may not be queued
  // yet when the first casts arrive: it then sees the value at once).
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!answered.WaitForNotificationWithTimeout(absl::Milliseconds(10)) &&
         absl::Now() < deadline) {
    ASSERT_THAT(node_->Cast("gate", Add(1)), IsOk());
  }
  waiter.join();
  ASSERT_THAT(later, IsOk());
  EXPECT_GE(later->value(), 3);
}

TEST_F(DocExamplesTest, SupervisorExampleStartsItsTree) {
  absl::StatusOr<supervision::SupervisorReply> children =
      supervisor_example::StartTree(node_.get());
  ASSERT_THAT(children, IsOk());
  EXPECT_EQ(children->children().children_size(), 1);
  EXPECT_THAT(node_->Call<CounterReply>("counter", Add(1)), IsOk());
  EXPECT_THAT(Supervisor::ShutdownTree(*node_, "sup"), IsOk());
}

}  // namespace
}  // namespace polis::examples
