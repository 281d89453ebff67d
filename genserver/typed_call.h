// genserver/typed_call.h — the typed values of a call, on both sides.
//
//   Caller<Rep>        the caller of a call whose answer is a Rep. A
//                      deferring call handler receives it; keep a copy and
//                      answer later with GenServer::ReplyTo(caller, ...),
//                      which takes only a Rep or an error.
//   Deferred           what a deferring handler co_returns to answer later.
//   Deferrable<Rep>    what a deferring handler returns: a Rep, an error,
//                      or Deferred.
//   TypedCallAwaiter<R> what GenServer::Call<R> returns: co_await it for an
//                      absl::StatusOr<R>. It owns everything it needs (the
//                      request is serialized when the call is made), so it
//                      may be kept in a variable and awaited later.
//
// Thread-safety: Caller and Deferrable are plain values (copy freely; a
// Caller is used through its server's ReplyTo, on that server's process).
// A TypedCallAwaiter belongs to the handler that made it and is awaited once,
// on that server's process.
//
// Example (a deferring handler: answers once the value reaches the
// request's `add`; registered with OnCall(&Gate::Await), and a cast handler
// answers the waiting callers with ReplyTo(caller, reply)):
//   polis::Task<polis::Deferrable<CounterReply>> Gate::Await(
//       const CounterRequest& request, const polis::Caller<CounterReply>& caller) {
//     if (request.add() < 0) co_return absl::InvalidArgumentError("negative");  // error now
//     if (value_ >= request.add()) co_return Value();  // answer now (a CounterReply)
//     waiting_.push_back({request.add(), caller});     // keep a copy of the caller
//     co_return polis::Deferred();                     // and answer later
//   }
#ifndef POLIS_GENSERVER_TYPED_CALL_H_
#define POLIS_GENSERVER_TYPED_CALL_H_

#include <coroutine>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/behaviour.h"
#include "node/message.h"

namespace polis {

class GenServer;

// The caller of a call answered with a Rep. Only the runtime makes one (for
// a deferring handler); a copy stays valid for as long as you keep it.
// Answering twice, or a caller that gave up (its deadline passed), is
// harmless: the later answer is dropped. A caller never answered gets its
// deadline (DEADLINE_EXCEEDED), or ABORTED at once if the server ends first.
template <typename Rep>
class Caller {
 public:
  // The untyped caller (node, reference, deadline).
  const From& from() const { return from_; }
  // When the caller gives up waiting.
  absl::Time deadline() const { return from_.deadline; }

 private:
  friend class GenServer;
  explicit Caller(const From& from) : from_(from) {}

  From from_;
};

// co_return Deferred() from a deferring call handler: no answer now; the
// handler has kept its Caller and answers through ReplyTo later.
struct Deferred {};

// The result of a deferring call handler: a reply now, an error now (the
// caller's answer; the server keeps running), or Deferred().
template <typename Rep>
class Deferrable {
 public:
  Deferrable(Rep reply) : result_(std::move(reply)) {}                    // NOLINT
  Deferrable(absl::StatusOr<Rep> result) : result_(std::move(result)) {}  // NOLINT
  // An error answer. An OK status is a mistake and answers INTERNAL.
  Deferrable(absl::Status error)  // NOLINT
      : result_(error.ok() ? absl::InternalError("a call handler returned an OK status "
                                                 "instead of a reply")
                           : std::move(error)) {}
  Deferrable(Deferred) : deferred_(true) {}  // NOLINT

  bool deferred() const { return deferred_; }
  // The answer; meaningless when deferred().
  absl::StatusOr<Rep>& result() { return result_; }

 private:
  absl::StatusOr<Rep> result_;
  bool deferred_ = false;
};

// What GenServer::Call<R> returns. co_await gives absl::StatusOr<R>: the
// call's errors (see ProcessContext::CallRaw), or INVALID_ARGUMENT if the
// reply is not an R. The request was serialized when the call was made, so
// the awaiter may outlive every argument of Call; the call is sent when it
// is awaited (an awaiter never awaited sends nothing). Await it once: a
// second co_await gives FAILED_PRECONDITION.
template <typename R>
class [[nodiscard]] TypedCallAwaiter {
 public:
  explicit TypedCallAwaiter(CallAwaiter call) : call_(std::move(call)) {}
  TypedCallAwaiter(TypedCallAwaiter&&) = default;

  bool await_ready() {
    if (state_ != State::kFresh) {
      state_ = State::kReused;
      return true;
    }
    state_ = State::kSent;
    return call_.await_ready();
  }
  bool await_suspend(std::coroutine_handle<> h) { return call_.await_suspend(h); }
  absl::StatusOr<R> await_resume() {
    if (state_ == State::kReused) {
      return absl::FailedPreconditionError("a call's awaiter was awaited twice");
    }
    absl::StatusOr<Message> reply = call_.await_resume();
    if (!reply.ok()) return reply.status();
    return reply->As<R>();
  }

 private:
  enum class State { kFresh, kSent, kReused };
  CallAwaiter call_;
  State state_ = State::kFresh;
};

}  // namespace polis

#endif  // POLIS_GENSERVER_TYPED_CALL_H_
