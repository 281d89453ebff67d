// node/internal/letter_test.cc — recycled letters: every field empty again,
// small buffers kept for the next letter, large ones freed; FromView fills a
// recycled letter completely; a call's deadline as sent and as received.
#include "node/internal/letter.h"

#include <string>

#include "absl/time/clock.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "node/internal/outgoing.h"

namespace polis::internal {
namespace {

// A letter with every field set.
LetterPtr FullLetter(size_t payload_bytes) {
  LetterPtr l = NewLetter();
  l->kind = wire::KIND_CALL;
  l->message = Message("polis.test.Thing", std::string(payload_bytes, 'p'));
  l->sender = Pid{"a-node-name-longer-than-sso", 7};
  l->to_name = "a-server-name-longer-than-sso";
  l->to_pid = 9;
  l->from = From{.node = "the-callers-node-name-too", .pid = 3, .ref = 11,
                 .return_path = "a-return-path-longer-than-sso",
                 .deadline = absl::Now() + absl::Seconds(1)};
  l->trace = TraceContext{.trace_id = NewTraceId(), .span_id = RandomId(), .sampled = true};
  return l;
}

void ExpectEmpty(const Letter& l) {
  EXPECT_EQ(l.kind, wire::KIND_UNSPECIFIED);
  EXPECT_EQ(l.message.type(), "");
  EXPECT_EQ(l.message.bytes(), "");
  EXPECT_EQ(l.sender, Pid());
  EXPECT_EQ(l.to_name, "");
  EXPECT_EQ(l.to_pid, 0u);
  EXPECT_EQ(l.from.node, "");
  EXPECT_EQ(l.from.pid, 0u);
  EXPECT_EQ(l.from.ref, 0u);
  EXPECT_EQ(l.from.return_path, "");
  EXPECT_EQ(l.from.deadline, absl::InfiniteFuture());
  EXPECT_TRUE(l.trace.trace_id.empty());
  EXPECT_EQ(l.trace.span_id, 0u);
  EXPECT_EQ(l.trace.parent_span_id, 0u);
}

TEST(LetterTest, ARecycledLetterComesBackEmptyWithItsSmallBuffers) {
  LetterPtr l = FullLetter(100);
  Letter* const raw = l.get();
  const char* const payload = l->message.bytes().data();
  l.reset();  // back to this thread's free list
  LetterPtr again = NewLetter();
  ASSERT_EQ(again.get(), raw);
  ExpectEmpty(*again);
  EXPECT_GE(again->message.bytes().capacity(), 100u);
  EXPECT_GE(again->sender.node.capacity(), 27u);
  EXPECT_GE(again->from.return_path.capacity(), 29u);
  EXPECT_EQ(again->message.bytes().data(), payload);
}

TEST(LetterTest, ALargeBufferIsNotKept) {
  LetterPtr l = FullLetter(1 << 20);
  Letter* const raw = l.get();
  l.reset();
  LetterPtr again = NewLetter();
  ASSERT_EQ(again.get(), raw);
  ExpectEmpty(*again);
  EXPECT_LE(again->message.bytes().capacity(), Letter::kKeptCapacity);
}

TEST(LetterTest, FromViewFillsARecycledLetterWithTheNewEnvelopeOnly) {
  FullLetter(300).reset();  // leaves a used letter on the free list
  bus::EnvelopeView v;
  v.version = bus::kWireVersion;
  v.kind = wire::KIND_CAST;
  v.type = "polis.test.Other";
  v.payload = "new";
  v.sender = {.node = "n2", .pid = 5, .present = true};
  v.recipient = {.node = "n1", .name = "srv", .present = true};
  LetterPtr l = FromView(v, bus::ReturnPath{}, absl::Now());
  EXPECT_EQ(l->kind, wire::KIND_CAST);
  EXPECT_EQ(l->message.type(), "polis.test.Other");
  EXPECT_EQ(l->message.bytes(), "new");
  EXPECT_EQ(l->sender, (Pid{"n2", 5}));
  EXPECT_EQ(l->to_name, "srv");
  EXPECT_EQ(l->to_pid, 0u);
  EXPECT_EQ(l->from.node, "");
  EXPECT_EQ(l->from.ref, 0u);
  EXPECT_EQ(l->from.return_path, "");
  EXPECT_EQ(l->from.deadline, absl::InfiniteFuture());
  EXPECT_TRUE(l->trace.trace_id.empty());
}

// A call read at a fixed instant, with `timeout_us` and `deadline_unix_us`.
bus::EnvelopeView CallView(int64_t timeout_us, int64_t deadline_unix_us) {
  bus::EnvelopeView v;
  v.kind = wire::KIND_CALL;
  v.timeout_us = timeout_us;
  v.deadline_unix_us = deadline_unix_us;
  return v;
}

TEST(LetterTest, AReceivedCallExpiresAtTheEarlierOfItsTimeoutAndItsCallersDeadline) {
  const absl::Time received = absl::FromUnixSeconds(1'700'000'000);
  const int64_t received_us = absl::ToUnixMicros(received);
  const absl::Duration a = bus::kClockSkewAllowance;
  // Neither: never.
  EXPECT_EQ(ReceivedCallDeadline(CallView(0, 0), received), absl::InfiniteFuture());
  // Only a timeout (an older sender): counted from the read.
  EXPECT_EQ(ReceivedCallDeadline(CallView(300'000, 0), received),
            received + absl::Milliseconds(300));
  // Only a wall-clock deadline: it, plus the allowance.
  EXPECT_EQ(ReceivedCallDeadline(CallView(0, received_us + 300'000), received),
            received + absl::Milliseconds(300) + a);
  // Read at once, clocks in step: the timeout is the earlier.
  EXPECT_EQ(ReceivedCallDeadline(CallView(300'000, received_us + 300'000), received),
            received + absl::Milliseconds(300));
  // Read after waiting 500 ms in the socket: its caller gave up 200 ms ago;
  // it may start until the allowance is up, not for 300 ms more.
  EXPECT_EQ(ReceivedCallDeadline(CallView(300'000, received_us - 200'000), received),
            received - absl::Milliseconds(200) + a);
  // Read after the caller's deadline plus the allowance: already expired.
  EXPECT_LE(ReceivedCallDeadline(CallView(300'000, received_us - 1), received),
            received + a);
  EXPECT_LT(ReceivedCallDeadline(CallView(300'000, received_us - absl::ToInt64Microseconds(a) - 1),
                                 received),
            received);
  // A receiver clock far behind the caller's: the timeout alone decides.
  EXPECT_EQ(ReceivedCallDeadline(CallView(300'000, received_us + 3'600'000'000), received),
            received + absl::Milliseconds(300));
}

TEST(LetterTest, FromViewGivesACallItsReceivedDeadline) {
  const absl::Time received = absl::Now();
  const bus::EnvelopeView v =
      CallView(300'000, absl::ToUnixMicros(received) - 1'000'000);  // gave up a second ago
  LetterPtr l = FromView(v, bus::ReturnPath{}, received);
  EXPECT_EQ(l->from.deadline, ReceivedCallDeadline(v, received));
  EXPECT_LT(l->from.deadline, received);
}

TEST(LetterTest, AnOutgoingCallCarriesItsDeadlineAsTimeLeftAndOnTheWallClock) {
  LetterPtr l = NewLetter();
  l->kind = wire::KIND_CALL;
  l->to_name = "srv";
  l->from = From{.node = "a", .pid = 3, .ref = 11,
                 .deadline = base::Now() + absl::Seconds(5)};
  const OutgoingEnvelope out = OutgoingEnvelope::Of(*l, "b");
  EXPECT_EQ(out.view().deadline_unix_us, absl::ToUnixMicros(l->from.deadline));
  EXPECT_GT(out.view().timeout_us, 0);
  EXPECT_LE(out.view().timeout_us, 5'000'000);
  // What a receiver on this clock makes of it: never before the caller's
  // deadline (to the µs the wire keeps), never past it by more than the
  // allowance, however late it is read.
  for (const absl::Duration late : {absl::ZeroDuration(), absl::Seconds(4), absl::Seconds(60)}) {
    const absl::Time d = ReceivedCallDeadline(out.view(), base::Now() + late);
    EXPECT_GE(d, l->from.deadline - absl::Microseconds(1)) << late;
    EXPECT_LE(d, l->from.deadline + bus::kClockSkewAllowance) << late;
  }

  l->from.deadline = absl::InfiniteFuture();  // a call that waits forever
  const OutgoingEnvelope forever = OutgoingEnvelope::Of(*l, "b");
  EXPECT_EQ(forever.view().timeout_us, 0);
  EXPECT_EQ(forever.view().deadline_unix_us, 0);
}

}  // namespace
}  // namespace polis::internal
