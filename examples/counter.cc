// examples/counter.cc — see counter.h.
#include "examples/counter.h"

#include <memory>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "examples/args.h"
#include "genserver/server_kinds.h"

namespace polis::examples {

Counter::Counter(int64_t initial) : value_(initial) {
  AcceptCall<CounterRequest, CounterReply>();
  AcceptCast<CounterRequest>();
  AcceptInfo<CounterRequest>();
  set_kind("counter");
}

absl::StatusOr<int64_t> Counter::Apply(const CounterRequest& req) {
  switch (req.op_case()) {
    case CounterRequest::kAdd:
      value_ += req.add();
      return value_;
    case CounterRequest::kGet:
      return value_;
    case CounterRequest::kCrash:
      throw std::runtime_error("counter crashed on request");
    case CounterRequest::kAddLater: {
      const AddLater& later = req.add_later();
      if (later.delay_ms() < 0) {
        return absl::InvalidArgumentError("add_later: delay_ms must be >= 0");
      }
      const CounterRequest add = CounterAdd(later.n());
      absl::Duration delay = absl::Milliseconds(later.delay_ms());
      absl::StatusOr<TimerRef> timer = later.target().empty()
                                           ? SendAfter(delay, add)
                                           : SendAfter(delay, Target(later.target()), add);
      if (!timer.ok()) return timer.status();
      return value_;
    }
    case CounterRequest::OP_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("CounterRequest: no op set (add, get, crash, add_later)");
}

Task<absl::StatusOr<GenServer::Reply>> Counter::HandleCall(const Message& request,
                                                           const From& from) {
  absl::StatusOr<CounterRequest> req = request.As<CounterRequest>();
  if (!req.ok()) co_return Reply::Error(req.status());
  absl::StatusOr<int64_t> value = Apply(*req);
  if (!value.ok()) co_return Reply::Error(value.status());
  CounterReply reply;
  reply.set_value(*value);
  co_return reply;
}

Task<absl::Status> Counter::HandleCast(const Message& message) {
  absl::StatusOr<CounterRequest> req = message.As<CounterRequest>();
  if (!req.ok()) co_return absl::OkStatus();  // Refused by type before us.
  // A bad cast (e.g. no op) is dropped; only `crash` fails the server.
  (void)Apply(*req);
  co_return absl::OkStatus();
}

Task<absl::Status> Counter::HandleInfo(const Message& message) {
  if (!message.Is<CounterRequest>()) co_return absl::OkStatus();
  co_return co_await HandleCast(message);
}

namespace {

absl::StatusOr<std::unique_ptr<Behaviour>> MakeCounter(const google::protobuf::Struct& args) {
  absl::Status known = CheckKnownArgs("counter", args, {"initial"});
  if (!known.ok()) return known;
  absl::StatusOr<int64_t> initial = IntArg("counter", args, "initial", 0);
  if (!initial.ok()) return initial.status();
  return std::make_unique<Counter>(*initial);
}

POLIS_REGISTER_SERVER_KIND("counter", MakeCounter);

}  // namespace
CounterRequest CounterAdd(int64_t n) {
  CounterRequest r;
  r.set_add(n);
  return r;
}

CounterRequest CounterGet() {
  CounterRequest r;
  r.mutable_get();
  return r;
}

}  // namespace polis::examples
