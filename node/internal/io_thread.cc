#include "node/internal/io_thread.h"

#include "node/internal/scheduler.h"

namespace polis::internal {

bool IoThread::OnIoThread() const { return scheduler_->CurrentWorker() == 0; }

void IoThread::Post(std::function<void()> fn) {
  if (OnIoThread()) {
    fn();
    return;
  }
  bool first;
  {
    absl::MutexLock lock(&mu_);
    first = tasks_.empty();
    tasks_.push_back(std::move(fn));
    pending_.store(true);
  }
  // One wake-up per batch: the I/O thread drains every task it finds.
  if (first) Wake();
}

void IoThread::RunPosted() {
  if (!pending_.load()) return;
  {
    absl::MutexLock lock(&mu_);
    running_.swap(tasks_);
    pending_.store(false);
  }
  for (auto& fn : running_) fn();
  running_.clear();
}

}  // namespace polis::internal
