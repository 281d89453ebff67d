#include "bus/internal/send_buffers.h"

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace polis::bus::internal {
namespace {

// What libzmq holds for a lent message: the bytes, and the account they
// are charged to (if any).
struct Lent {
  std::string bytes;
  std::shared_ptr<Unread> account;
  int64_t charged = 0;
};

// Lent records whose buffers wait for the next batch.
class Pool {
 public:
  // A record with no bytes, with a buffer from an earlier batch if one is
  // free.
  Lent* Take() {
    absl::MutexLock lock(&mu_);
    if (free_.empty()) return new Lent;
    Lent* s = free_.back();
    free_.pop_back();
    return s;
  }

  void Give(Lent* s) {
    if (s->account != nullptr) {
      s->account->Release(s->charged);
      s->account.reset();
      s->charged = 0;
    }
    if (s->bytes.capacity() <= kKeptCapacity) {
      s->bytes.clear();
      absl::MutexLock lock(&mu_);
      if (free_.size() < kMaxFree) {
        free_.push_back(s);
        return;
      }
    }
    delete s;
  }

 private:
  // A batch is at most kMaxBatchBytes, except one oversized envelope alone
  // (up to the message limit): its buffer is not kept.
  static constexpr size_t kKeptCapacity = 2 * kMaxBatchBytes;
  static constexpr size_t kMaxFree = 64;

  absl::Mutex mu_;
  std::vector<Lent*> free_ ABSL_GUARDED_BY(mu_);
};

Pool& ThePool() {
  static Pool* const pool = new Pool;  // never destroyed: see the header
  return *pool;
}

// libzmq's free function for a lent message.
void GiveBack(void* /*data*/, void* hint) { ThePool().Give(static_cast<Lent*>(hint)); }

}  // namespace

zmq::message_t MessageOf(FrameBatch& batch, std::string** lent, std::shared_ptr<Unread> account) {
  if (account == nullptr && batch.bytes() < kLendBytes) {
    *lent = nullptr;
    return zmq::message_t(batch.data(), batch.bytes());
  }
  Lent* s = ThePool().Take();
  batch.SwapBytes(s->bytes);
  if (account != nullptr) {
    s->charged = static_cast<int64_t>(s->bytes.size());
    account->Charge(s->charged);
    s->account = std::move(account);
  }
  *lent = &s->bytes;
  return zmq::message_t(s->bytes.data(), s->bytes.size(), &GiveBack, s);
}

void Restore(std::string& lent, FrameBatch& batch) { batch.SwapBytes(lent); }

}  // namespace polis::bus::internal
