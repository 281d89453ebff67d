// node/task.h — the coroutine type every process handler returns.
//
// polis runs many processes on a few scheduler threads. A handler that calls
// another server must not block its thread, so handlers are C++20
// coroutines: `co_await` on a call suspends the handler (and with it the
// process: it handles nothing else meanwhile, as an Erlang process in
// gen_server:call does), frees the thread, and resumes — possibly on another
// scheduler thread — when the reply, an error or the deadline arrives.
//
// Task<T> is lazy (starts when awaited or when the scheduler starts it) and
// uses symmetric transfer, so chains of nested tasks use no stack growth.
// Coroutine frames come from a per-thread free list, so a handler that runs
// to completion without suspending costs no malloc in the steady state.
//
// Thread-safety: a Task is owned by one process and touched by one thread at
// a time (the scheduler hands a process between threads with a full barrier).
//
// Example:
//   polis::Task<absl::StatusOr<int>> Twice(int x) { co_return 2 * x; }
//   polis::Task<absl::Status> Handler() {
//     absl::StatusOr<int> v = co_await Twice(21);
//     co_return v.status();
//   }
#ifndef POLIS_NODE_TASK_H_
#define POLIS_NODE_TASK_H_

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <utility>

namespace polis {

namespace internal {

// Per-thread free list for coroutine frames of common sizes.
void* AllocateFrame(std::size_t size);
void FreeFrame(void* p, std::size_t size) noexcept;

class TaskPromiseBase {
 public:
  static void* operator new(std::size_t size) { return AllocateFrame(size); }
  static void operator delete(void* p, std::size_t size) noexcept { FreeFrame(p, size); }

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <typename P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      std::coroutine_handle<> next = h.promise().continuation_;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  void set_continuation(std::coroutine_handle<> c) { continuation_ = c; }
  std::exception_ptr exception() const { return exception_; }

 private:
  std::coroutine_handle<> continuation_;
  std::exception_ptr exception_;
};

// Owns one coroutine frame: what Task<T> and Task<void> share.
template <typename Promise>
class TaskOwner {
 public:
  TaskOwner() = default;
  TaskOwner(TaskOwner&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  TaskOwner& operator=(TaskOwner&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  ~TaskOwner() {
    if (h_) h_.destroy();
  }

  // Awaiting a task runs it; its result (or exception) comes back here.
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().set_continuation(caller);
    return h_;
  }
  decltype(auto) await_resume() { return TakeResult(); }

  // For the scheduler: the root coroutine of a handler.
  std::coroutine_handle<> handle() const { return h_; }
  bool valid() const { return static_cast<bool>(h_); }
  bool done() const { return h_.done(); }
  // Result of a finished task; rethrows what the coroutine threw.
  decltype(auto) TakeResult() { return h_.promise().TakeResult(); }

 protected:
  explicit TaskOwner(std::coroutine_handle<Promise> h) : h_(h) {}

 private:
  std::coroutine_handle<Promise> h_;
};

template <typename T>
struct TaskPromise;

}  // namespace internal

template <typename T = void>
class [[nodiscard]] Task : public internal::TaskOwner<internal::TaskPromise<T>> {
 public:
  using promise_type = internal::TaskPromise<T>;
  Task() = default;

 private:
  friend promise_type;
  explicit Task(std::coroutine_handle<promise_type> h)
      : internal::TaskOwner<promise_type>(h) {}
};

namespace internal {

template <typename T>
struct TaskPromise : TaskPromiseBase {
  Task<T> get_return_object() {
    return Task<T>(std::coroutine_handle<TaskPromise>::from_promise(*this));
  }
  template <typename U>
  void return_value(U&& v) {
    value_.emplace(std::forward<U>(v));
  }
  T TakeResult() {
    if (auto e = exception()) std::rethrow_exception(e);
    return std::move(*value_);
  }
  std::optional<T> value_;
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  Task<void> get_return_object() {
    return Task<void>(std::coroutine_handle<TaskPromise>::from_promise(*this));
  }
  void return_void() {}
  void TakeResult() {
    if (auto e = exception()) std::rethrow_exception(e);
  }
};

}  // namespace internal
}  // namespace polis

#endif  // POLIS_NODE_TASK_H_
