// examples/counter.cc — see counter.h.
#include "examples/counter.h"

#include <memory>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "genserver/server_kinds.h"

namespace polis::examples {

Counter::Counter(int64_t initial) : value_(initial) {
  OnCall(&Counter::Answer);  // CounterRequest -> CounterReply
  OnCast(&Counter::Update);  // CounterRequest
  OnInfo(&Counter::Update);  // CounterRequest (add_later's timer sends one)
  set_kind("counter");
}

Task<absl::StatusOr<CounterReply>> Counter::Answer(const CounterRequest& request) {
  absl::StatusOr<int64_t> value = Apply(request);
  if (!value.ok()) co_return value.status();  // The caller's answer; the server keeps running.
  CounterReply reply;
  reply.set_value(*value);
  co_return reply;
}

Task<absl::Status> Counter::Update(const CounterRequest& request) {
  co_return Apply(request).status();  // An error is logged; the server keeps running.
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
    case CounterRequest::kSlowAdd: {
      const SlowAdd& slow = req.slow_add();
      if (slow.sleep_us() < 0 || slow.sleep_us() > 10'000'000) {
        return absl::InvalidArgumentError("slow_add: sleep_us must be in [0, 10000000]");
      }
      absl::SleepFor(absl::Microseconds(slow.sleep_us()));  // Blocks this worker, on purpose.
      value_ += slow.n();
      return value_;
    }
    case CounterRequest::OP_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "CounterRequest: no op set (add, get, crash, add_later, slow_add)");
}

namespace {

absl::StatusOr<std::unique_ptr<Behaviour>> MakeCounter(const CounterArgs& args) {
  return std::make_unique<Counter>(args.initial());
}

POLIS_REGISTER_TYPED_SERVER_KIND("counter", CounterArgs, MakeCounter);

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
