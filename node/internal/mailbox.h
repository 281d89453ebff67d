// node/internal/mailbox.h — a process's mailbox: multi-producer,
// single-consumer, FIFO, lock-free (Vyukov's intrusive MPSC queue).
//
// Thread-safety: Push from any thread; Pop, HasLetters and ReleaseClaim only
// from the consumer (the thread running the owning process). Pop may return
// nullptr while a concurrent Push is half-done; ReleaseClaim then tells the
// consumer to run again, so nothing is lost.
//
// The consumer is chosen by a claim flag (Process::TryClaim): a pusher
// pushes, then sets the flag, and runs or schedules the consumer if the flag
// was clear. The consumer gives up its turn with ReleaseClaim, which says
// whether a letter may have come whose pusher found the flag still set.
//
// ApproximateSize (any thread, no locks) counts letters pushed and not yet
// popped, for introspection (polis ps): two relaxed counters, so it may be
// off by the pushes and pops under way while it reads, never negative.
#ifndef POLIS_NODE_INTERNAL_MAILBOX_H_
#define POLIS_NODE_INTERNAL_MAILBOX_H_

#include <atomic>
#include <cstdint>

#include "node/internal/letter.h"

namespace polis::internal {

class Mailbox {
 public:
  Mailbox() : head_(&stub_), tail_(&stub_) {}
  ~Mailbox() {
    while (Letter* l = Pop()) LetterRecycler()(l);
  }
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Any thread. Takes ownership.
  void Push(LetterPtr letter) {
    pushed_.fetch_add(1, std::memory_order_relaxed);
    PushRaw(letter.release());
  }

  // Consumer only. Oldest letter, or nullptr.
  Letter* Pop() {
    Letter* l = static_cast<Letter*>(PopLink());
    // One writer: a plain store, no read-modify-write.
    if (l != nullptr) {
      popped_.store(popped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    return l;
  }

  // Any thread: letters waiting (approximate, see the header).
  int64_t ApproximateSize() const {
    const uint64_t popped = popped_.load(std::memory_order_relaxed);
    const uint64_t pushed = pushed_.load(std::memory_order_relaxed);
    return pushed > popped ? static_cast<int64_t>(pushed - popped) : 0;
  }

  // Consumer only: true if a letter is queued or a Push has begun.
  bool HasLetters() const { return Linked() || head_.load() != &stub_; }

  // Consumer only: ends the consumer's turn by clearing `claim`, the flag a
  // pusher sets after its Push. Returns true if a letter may be queued whose
  // pusher found `claim` still set, so no one else will run the consumer:
  // the caller must then try to claim again. False means every letter
  // pushed before `claim` was cleared has been popped.
  bool ReleaseClaim(std::atomic<bool>& claim) const {
    const bool linked = Linked();  // Read while this thread is the consumer.
    // seq_cst, paired with TakeHead's exchange: a pusher that found the flag
    // set took the head before this store, so the load below sees its
    // letter or a later one -- unless Pop re-pushed the stub after it, and
    // then `linked` saw the letter.
    claim.store(false);
    return linked || head_.load() != &stub_;
  }

 private:
  friend class MailboxTestPeer;

  MailboxLink* PopLink() {
    MailboxLink* tail = tail_;
    MailboxLink* next = tail->next.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) return nullptr;
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    if (tail != head_.load(std::memory_order_acquire)) return nullptr;  // Push in progress.
    PushRaw(&stub_);
    next = tail->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    return nullptr;
  }

  // A push is two steps: taking the head (from then on the letter counts
  // as queued), then linking it behind the previous one.
  void PushRaw(MailboxLink* l) { LinkBehind(TakeHead(l), l); }
  MailboxLink* TakeHead(MailboxLink* l) {
    l->next.store(nullptr, std::memory_order_relaxed);
    return head_.exchange(l);  // seq_cst: pairs with ReleaseClaim.
  }
  static void LinkBehind(MailboxLink* prev, MailboxLink* l) {
    prev->next.store(l, std::memory_order_release);
  }

  // Consumer only: a letter is linked at the consumer's end. head_ alone
  // cannot tell: when Pop re-pushes the stub behind its last letter while a
  // Push is half done, the stub lands behind the new letter, and head_ is
  // the stub while both letters are still queued.
  bool Linked() const {
    return tail_ != &stub_ || stub_.next.load(std::memory_order_acquire) != nullptr;
  }

  std::atomic<MailboxLink*> head_;
  std::atomic<uint64_t> pushed_{0};  // Beside head_: pushers touch that line anyway.
  MailboxLink* tail_;
  std::atomic<uint64_t> popped_{0};  // Written by the consumer only.
  MailboxLink stub_;
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_MAILBOX_H_
