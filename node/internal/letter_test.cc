// node/internal/letter_test.cc — recycled letters: every field empty again,
// small buffers kept for the next letter, large ones freed; FromView fills a
// recycled letter completely.
#include "node/internal/letter.h"

#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

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
  l->trace = ChildTrace(nullptr);
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

}  // namespace
}  // namespace polis::internal
