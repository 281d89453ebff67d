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

}  // namespace internal

template <typename T = void>
class [[nodiscard]] Task {
 public:
  struct promise_type : internal::TaskPromiseBase {
    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    template <typename U>
    void return_value(U&& v) {
      value_.emplace(std::forward<U>(v));
    }
    std::optional<T> value_;
  };

  Task() = default;
  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  ~Task() {
    if (h_) h_.destroy();
  }

  // Awaiting a task runs it; its result (or exception) comes back here.
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().set_continuation(caller);
    return h_;
  }
  T await_resume() { return TakeResult(); }

  // For the scheduler: the root coroutine of a handler.
  std::coroutine_handle<> handle() const { return h_; }
  bool valid() const { return static_cast<bool>(h_); }
  bool done() const { return h_.done(); }
  // Result of a finished task; rethrows what the coroutine threw.
  T TakeResult() {
    if (auto e = h_.promise().exception()) std::rethrow_exception(e);
    return std::move(*h_.promise().value_);
  }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

template <>
class [[nodiscard]] Task<void> {
 public:
  struct promise_type : internal::TaskPromiseBase {
    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    void return_void() {}
  };

  Task() = default;
  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  ~Task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().set_continuation(caller);
    return h_;
  }
  void await_resume() { TakeResult(); }

  std::coroutine_handle<> handle() const { return h_; }
  bool valid() const { return static_cast<bool>(h_); }
  bool done() const { return h_.done(); }
  void TakeResult() {
    if (auto e = h_.promise().exception()) std::rethrow_exception(e);
  }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

}  // namespace polis

#endif  // POLIS_NODE_TASK_H_
