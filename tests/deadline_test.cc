// A call's deadline on its caller's clock, as a node receives it: envelopes
// built by hand and sent on a raw channel (no polis caller in between) to a
// node serving a counter, over inproc, tcp and ipc. A call whose caller's
// deadline (deadline_unix_us) passed more than kClockSkewAllowance ago is
// dropped unprocessed however much timeout_us it carries; the same call
// with a future deadline, or with none (an older sender), is answered.
// bus/WIRE.md, "Deadlines".
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bus/envelope.h"
#include "bus/inproc_transport.h"
#include "bus/transport.h"
#include "bus/zmq_transport.h"
#include "examples/counter.h"
#include "examples/examples.pb.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis {
namespace {

using ::polis::examples::CounterAdd;
using ::polis::examples::CounterReply;
using ::polis::examples::CounterRequest;
using ::polis::testing::IsOk;
using ::polis::testing::kWaitTimeout;
using ::polis::testing::StartNode;
using ::polis::testing::TestEndpoint;

class ReceivedDeadlineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto node = StartNode({.name = "srv", .listen = TestEndpoint(GetParam(), "srv")});
    ASSERT_THAT(node, IsOk());
    node_ = std::move(*node);
    ASSERT_THAT(node_->Spawn(std::make_unique<examples::Counter>(), {.name = "counter"}), IsOk());
    absl::StatusOr<std::unique_ptr<bus::Transport>> t;
    if (GetParam() == "inproc") {
      t = bus::InProcTransport::Create({});
    } else {
      t = bus::ZmqTransport::Create({});
    }
    ASSERT_THAT(t, IsOk());
    raw_ = std::move(*t);
    auto ch = raw_->OpenChannel(node_->endpoint());
    ASSERT_THAT(ch, IsOk());
    channel_ = std::move(*ch);
  }

  void TearDown() override {
    channel_.reset();
    raw_.reset();
    if (node_) node_->Shutdown();
  }

  // A call adding `n` to "counter", as a polis caller on node "raw" would
  // send it: `ref`, `timeout_us` left, the caller's deadline at
  // `deadline_unix_us` (0: none).
  static wire::Envelope AddCall(uint64_t ref, int64_t n, int64_t timeout_us,
                                int64_t deadline_unix_us) {
    wire::Envelope e;
    e.set_version(bus::kWireVersion);
    e.set_kind(wire::KIND_CALL);
    e.set_type(CounterRequest::descriptor()->full_name());
    e.mutable_sender()->set_node("raw");
    e.mutable_recipient()->set_node("srv");
    e.mutable_recipient()->set_name("counter");
    e.set_payload(CounterAdd(n).SerializeAsString());
    e.set_ref(ref);
    e.mutable_reply_to()->set_node("raw");
    e.mutable_reply_to()->set_pid(1);
    e.set_timeout_us(timeout_us);
    e.set_deadline_unix_us(deadline_unix_us);
    return e;
  }

  // The replies received on the channel up to and including the one with
  // `ref` (ref -> value, in arrival order); a test failure if it does not
  // come within kWaitTimeout.
  std::vector<std::pair<uint64_t, int64_t>> RepliesUntil(uint64_t ref) {
    std::vector<std::pair<uint64_t, int64_t>> got;
    const absl::Time deadline = absl::Now() + kWaitTimeout;
    while (absl::Now() < deadline) {
      absl::StatusOr<std::optional<bus::EnvelopeView>> in = channel_->Recv(deadline);
      if (!in.ok()) {
        ADD_FAILURE() << in.status();
        return got;
      }
      if (!in->has_value()) continue;
      const bus::EnvelopeView& v = **in;
      if (v.kind != wire::KIND_REPLY) continue;
      CounterReply reply;
      EXPECT_EQ(v.status_code, 0) << v.status_message;
      EXPECT_TRUE(reply.ParseFromArray(v.payload.data(), static_cast<int>(v.payload.size())));
      got.emplace_back(v.ref, reply.value());
      if (v.ref == ref) return got;
    }
    ADD_FAILURE() << "no reply to call " << ref << " within " << kWaitTimeout;
    return got;
  }

  std::unique_ptr<Node> node_;
  std::unique_ptr<bus::Transport> raw_;
  std::unique_ptr<bus::Channel> channel_;
};

TEST_P(ReceivedDeadlineTest, ACallWhoseCallerGaveUpBeforeItArrivedIsDroppedUnprocessed) {
  const absl::Time now = absl::Now();
  const int64_t ten_seconds_us = absl::ToInt64Microseconds(absl::Seconds(10));
  // Its caller's deadline passed a second before the allowance ran out (as
  // after a pause of the receiver): dropped, though timeout_us alone would
  // give it 10 s from its arrival.
  const int64_t gave_up =
      absl::ToUnixMicros(now - bus::kClockSkewAllowance - absl::Seconds(1));
  ASSERT_THAT(channel_->Send(AddCall(1, 100, ten_seconds_us, gave_up)), IsOk());
  // The same call, whose caller waits 10 s more: answered. On one
  // connection, in order: the first was dequeued (and dropped) before it.
  ASSERT_THAT(channel_->Send(AddCall(2, 100, ten_seconds_us,
                                     absl::ToUnixMicros(now + absl::Seconds(10)))),
              IsOk());
  // And from a sender that gives no deadline of its own (an older node).
  ASSERT_THAT(channel_->Send(AddCall(3, 1, ten_seconds_us, 0)), IsOk());

  // The handler never ran for call 1 (the counter went 0 -> 100 -> 101) and
  // call 1 got no reply.
  const std::vector<std::pair<uint64_t, int64_t>> want = {{2, 100}, {3, 101}};
  EXPECT_EQ(RepliesUntil(3), want);
}

INSTANTIATE_TEST_SUITE_P(Transports, ReceivedDeadlineTest,
                         ::testing::Values("inproc", "tcp", "ipc"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace polis
