// node/internal/mailbox_test.cc — the mailbox keeps letters in order, and a
// consumer giving up its turn (ReleaseClaim) is told about every letter it
// has not popped, including letters hidden behind a half-done push, where
// the head alone shows an empty queue.
#include "node/internal/mailbox.h"

#include <atomic>
#include <string>

#include "gtest/gtest.h"

namespace polis::internal {

// Steps a concurrent pusher and the consumer take, one at a time.
class MailboxTestPeer {
 public:
  explicit MailboxTestPeer(Mailbox& box) : box_(box) {}
  // A pusher's first step: `l` takes the head but is not linked yet.
  MailboxLink* TakeHead(Letter* l) { return box_.TakeHead(l); }
  static void LinkBehind(MailboxLink* prev, Letter* l) { Mailbox::LinkBehind(prev, l); }
  // Pop re-pushing the stub behind what it believes is the last letter.
  void PushStub() { box_.PushRaw(&box_.stub_); }
  bool HeadIsStub() const { return box_.head_.load() == &box_.stub_; }

 private:
  Mailbox& box_;
};

namespace {

LetterPtr Numbered(int n) {
  LetterPtr l = NewLetter();
  l->to_pid = n;
  return l;
}

// Pops one letter and returns its number, or -1 if Pop gave none.
int PopNumber(Mailbox& box) {
  LetterPtr l(box.Pop());
  return l ? static_cast<int>(l->to_pid) : -1;
}

TEST(MailboxTest, LettersComeOutInTheOrderTheyWentIn) {
  Mailbox box;
  EXPECT_FALSE(box.HasLetters());
  for (int i = 1; i <= 3; ++i) box.Push(Numbered(i));
  EXPECT_TRUE(box.HasLetters());
  EXPECT_EQ(PopNumber(box), 1);
  EXPECT_EQ(PopNumber(box), 2);
  EXPECT_EQ(PopNumber(box), 3);
  EXPECT_EQ(PopNumber(box), -1);
  EXPECT_FALSE(box.HasLetters());
  box.Push(Numbered(4));
  EXPECT_EQ(PopNumber(box), 4);
  EXPECT_EQ(PopNumber(box), -1);
}

TEST(MailboxTest, ReleaseClaimReportsLettersLeftAfterABudgetedRun) {
  Mailbox box;
  std::atomic<bool> claim{true};
  box.Push(Numbered(1));
  box.Push(Numbered(2));
  EXPECT_EQ(PopNumber(box), 1);  // The run's budget ends here.
  EXPECT_TRUE(box.ReleaseClaim(claim));
  EXPECT_FALSE(claim.load());
  claim.store(true);
  EXPECT_EQ(PopNumber(box), 2);
  EXPECT_FALSE(box.ReleaseClaim(claim));
  EXPECT_FALSE(claim.load());
}

TEST(MailboxTest, ReleaseClaimReportsAPushStillInProgress) {
  Mailbox box;
  std::atomic<bool> claim{true};
  MailboxTestPeer peer(box);
  LetterPtr one = Numbered(1);
  MailboxLink* prev = peer.TakeHead(one.get());
  EXPECT_EQ(PopNumber(box), -1);  // Not linked yet.
  EXPECT_TRUE(box.ReleaseClaim(claim));
  MailboxTestPeer::LinkBehind(prev, one.release());
  EXPECT_EQ(PopNumber(box), 1);
  EXPECT_FALSE(box.ReleaseClaim(claim));
}

// The race that lost a call (its caller waited out its timeout): Pop takes the last letter (1), sees it is
// the head, and re-pushes the stub -- but a push of letter 2 took the head
// in between. The stub lands behind 2, so the head is the stub while 1 and
// 2 are both queued. A consumer that looked only at the head would give up
// its turn with both letters in the box and no one to run it (2's pusher
// found the claim set).
TEST(MailboxTest, ReleaseClaimSeesLettersQueuedAheadOfARePushedStub) {
  Mailbox box;
  std::atomic<bool> claim{true};
  MailboxTestPeer peer(box);
  box.Push(Numbered(0));
  box.Push(Numbered(1));
  EXPECT_EQ(PopNumber(box), 0);  // The consumer's end is now letter 1.
  LetterPtr two = Numbered(2);
  MailboxLink* prev = peer.TakeHead(two.get());  // Between Pop's check and
  peer.PushStub();                               // its stub re-push.
  ASSERT_TRUE(peer.HeadIsStub());

  EXPECT_TRUE(box.HasLetters());
  EXPECT_EQ(PopNumber(box), -1);  // 1 is not linked to 2 yet.
  EXPECT_TRUE(box.ReleaseClaim(claim));

  claim.store(true);
  MailboxTestPeer::LinkBehind(prev, two.release());
  EXPECT_EQ(PopNumber(box), 1);   // The run's budget ends here:
  EXPECT_TRUE(peer.HeadIsStub());  // 2 is still queued, ahead of the stub.
  EXPECT_TRUE(box.ReleaseClaim(claim));

  claim.store(true);
  EXPECT_EQ(PopNumber(box), 2);
  EXPECT_EQ(PopNumber(box), -1);
  EXPECT_FALSE(box.HasLetters());
  EXPECT_FALSE(box.ReleaseClaim(claim));
}

TEST(MailboxTest, ApproximateSizeCountsLettersPushedAndNotPopped) {
  Mailbox box;
  EXPECT_EQ(box.ApproximateSize(), 0);
  box.Push(Numbered(0));
  box.Push(Numbered(1));
  EXPECT_EQ(box.ApproximateSize(), 2);
  EXPECT_EQ(PopNumber(box), 0);
  EXPECT_EQ(box.ApproximateSize(), 1);
  EXPECT_EQ(PopNumber(box), 1);
  EXPECT_EQ(PopNumber(box), -1);  // An empty pop counts nothing.
  EXPECT_EQ(box.ApproximateSize(), 0);
}

}  // namespace
}  // namespace polis::internal
