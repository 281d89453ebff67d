// node/internal/mailbox.h — a process's mailbox: multi-producer,
// single-consumer, FIFO, lock-free (Vyukov's intrusive MPSC queue).
//
// Thread-safety: Push from any thread; Pop/Empty only from the thread
// running the owning process. Pop may return nullptr while a concurrent Push
// is half-done; the pusher then schedules the process, so nothing is lost.
#ifndef POLIS_NODE_INTERNAL_MAILBOX_H_
#define POLIS_NODE_INTERNAL_MAILBOX_H_

#include <atomic>

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
  void Push(LetterPtr letter) { PushRaw(letter.release()); }

  // Consumer only. Oldest letter, or nullptr.
  Letter* Pop() { return static_cast<Letter*>(PopLink()); }

 private:
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

  void PushRaw(MailboxLink* l) {
    l->next.store(nullptr, std::memory_order_relaxed);
    MailboxLink* prev = head_.exchange(l);  // seq_cst: pairs with Process::Release.
    prev->next.store(l, std::memory_order_release);
  }

 public:
  // Any thread: false only if the mailbox was empty at some moment during
  // the call (a Push in progress counts as a letter). Reads only head_, so
  // it is safe while another thread consumes.
  bool MaybeNonEmpty() const { return head_.load() != &stub_; }

 private:
  std::atomic<MailboxLink*> head_;
  MailboxLink* tail_;
  MailboxLink stub_;
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_MAILBOX_H_
