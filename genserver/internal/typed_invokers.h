// genserver/internal/typed_invokers.h — how a typed handler is run: the
// template bodies behind GenServer::OnCall / OnCast / OnInfo. Included by
// genserver/genserver.h only; not an API.
//
// A registration stores the handler's member function pointer with its type
// erased (its bytes) next to the invoker instantiated for its types. On a
// message, GenServer::OnMessage finds the entry by interned type pointer and
// returns the invoker's task, which is the hook's one coroutine around the
// handler's own: it parses the payload, runs the handler, and answers.
//
// Thread-safety: runs on the server's own process, as every hook does.
#ifndef POLIS_GENSERVER_INTERNAL_TYPED_INVOKERS_H_
#define POLIS_GENSERVER_INTERNAL_TYPED_INVOKERS_H_

#include <cstring>
#include <type_traits>

#include "genserver/genserver.h"

namespace polis {

template <typename M>
GenServer::ErasedMethod GenServer::Erase(M method) {
  static_assert(std::is_member_function_pointer_v<M> && sizeof(M) == sizeof(ErasedMethod));
  ErasedMethod erased;
  std::memcpy(erased.bytes, &method, sizeof(M));
  return erased;
}

template <typename M>
M GenServer::Unerase(const ErasedMethod& erased) {
  M method;
  std::memcpy(&method, erased.bytes, sizeof(M));
  return method;
}

template <typename S, typename Req, typename Rep>
Task<absl::Status> GenServer::InvokeCall(GenServer& server, ErasedMethod erased, Incoming& in) {
  Req request;  // In this frame: outlives the handler's task.
  if (!request.ParseFromString(in.message.bytes())) {
    server.RefuseUnparsable(in);
    co_return absl::OkStatus();
  }
  auto method = Unerase<Task<absl::StatusOr<Rep>> (S::*)(const Req&)>(erased);
  // Named, not a temporary in the co_await (see the g++ 12 note in genserver.h).
  Task<absl::StatusOr<Rep>> task = (static_cast<S&>(server).*method)(request);
  absl::StatusOr<Rep> answer = co_await task;
  if (answer.ok()) {
    server.AnswerReply(in.from, *answer);
  } else {
    server.AnswerError(in.from, answer.status());
  }
  co_return absl::OkStatus();
}

template <typename S, typename Req, typename Rep>
Task<absl::Status> GenServer::InvokeDeferrableCall(GenServer& server, ErasedMethod erased,
                                                   Incoming& in) {
  Req request;
  if (!request.ParseFromString(in.message.bytes())) {
    server.RefuseUnparsable(in);
    co_return absl::OkStatus();
  }
  const Caller<Rep> caller(in.from);
  auto method = Unerase<Task<Deferrable<Rep>> (S::*)(const Req&, const Caller<Rep>&)>(erased);
  Task<Deferrable<Rep>> task = (static_cast<S&>(server).*method)(request, caller);
  Deferrable<Rep> answer = co_await task;
  if (answer.deferred()) co_return absl::OkStatus();  // The runtime keeps the call open.
  if (answer.result().ok()) {
    server.AnswerReply(in.from, *answer.result());
  } else {
    server.AnswerError(in.from, answer.result().status());
  }
  co_return absl::OkStatus();
}

template <typename S, typename Msg>
Task<absl::Status> GenServer::InvokeNoReply(GenServer& server, ErasedMethod erased, Incoming& in) {
  Msg message;
  if (!message.ParseFromString(in.message.bytes())) {
    server.RefuseUnparsable(in);
    co_return absl::OkStatus();
  }
  auto method = Unerase<Task<absl::Status> (S::*)(const Msg&)>(erased);
  Task<absl::Status> task = (static_cast<S&>(server).*method)(message);
  absl::Status status = co_await task;
  if (!status.ok()) server.LogHandlerError(in, status);
  co_return absl::OkStatus();  // A cast / info handler's error does not fail the server.
}

}  // namespace polis

#endif  // POLIS_GENSERVER_INTERNAL_TYPED_INVOKERS_H_
