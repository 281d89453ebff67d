#include "bus/internal/send_buffers.h"

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace polis::bus::internal {
namespace {

// Strings whose buffers wait for the next batch.
class Pool {
 public:
  // A string with no bytes, with a buffer from an earlier batch if one is
  // free.
  std::string* Take() {
    absl::MutexLock lock(&mu_);
    if (free_.empty()) return new std::string;
    std::string* s = free_.back();
    free_.pop_back();
    return s;
  }

  void Give(std::string* s) {
    if (s->capacity() <= kKeptCapacity) {
      s->clear();
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
  std::vector<std::string*> free_ ABSL_GUARDED_BY(mu_);
};

Pool& ThePool() {
  static Pool* const pool = new Pool;  // never destroyed: see the header
  return *pool;
}

// libzmq's free function for a lent message.
void GiveBack(void* /*data*/, void* hint) { ThePool().Give(static_cast<std::string*>(hint)); }

}  // namespace

zmq::message_t MessageOf(FrameBatch& batch, std::string** lent) {
  if (batch.bytes() < kLendBytes) {
    *lent = nullptr;
    return zmq::message_t(batch.data(), batch.bytes());
  }
  std::string* s = ThePool().Take();
  batch.SwapBytes(*s);
  *lent = s;
  return zmq::message_t(s->data(), s->size(), &GiveBack, s);
}

void Restore(std::string& lent, FrameBatch& batch) { batch.SwapBytes(lent); }

}  // namespace polis::bus::internal
