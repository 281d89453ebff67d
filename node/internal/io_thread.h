// node/internal/io_thread.h — the I/O thread's transport and the work other
// threads hand to it.
//
// Worker 0 of the scheduler is the node's I/O thread: it alone calls the
// transport's Send, Reply, Flush, Disconnect and Poll. A thread that is not
// the I/O thread posts what it needs done there (a send from a process on
// another worker, a NamesChanged broadcast, the Goodbye); the I/O thread
// runs posted tasks in order, before its next process run and in every
// I/O round. One wake-up per batch of posts.
//
// Thread-safety: Post, OnIoThread and Wake from any thread; transport() and
// RunPosted on the I/O thread only.
//
// Example:
//   io.Post([&io, ep, env] { (void)io.transport().Send(ep, env); });
#ifndef POLIS_NODE_INTERNAL_IO_THREAD_H_
#define POLIS_NODE_INTERNAL_IO_THREAD_H_

#include <atomic>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "bus/transport.h"

namespace polis::internal {

class Scheduler;

class IoThread {
 public:
  // `transport` and `scheduler` must outlive this.
  IoThread(bus::Transport* transport, const Scheduler* scheduler)
      : transport_(transport), scheduler_(scheduler) {}

  // True on the I/O thread (worker 0).
  bool OnIoThread() const;
  // Runs `fn` on the I/O thread: soon and in order, or at once if called
  // there.
  void Post(std::function<void()> fn);
  // Whether tasks are waiting (cheap; any thread).
  bool pending() const { return pending_.load(); }
  // Runs the posted tasks. I/O thread.
  void RunPosted();
  // Makes the I/O thread's blocking poll return.
  void Wake() { transport_->Wake(); }

  // I/O thread only.
  bus::Transport& transport() { return *transport_; }

 private:
  bus::Transport* const transport_;
  const Scheduler* const scheduler_;
  absl::Mutex mu_;
  std::vector<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> pending_{false};
  std::vector<std::function<void()>> running_;  // I/O thread only.
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_IO_THREAD_H_
