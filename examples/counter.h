// examples/counter.h — the `counter` server: an integer you add to.
//
// Requests are polis.examples.CounterRequest (examples.proto):
//   call add n      -> CounterReply{value: new value}
//   call get        -> CounterReply{value}
//   call crash      -> the handler throws; the caller gets INTERNAL at once,
//                      Terminate runs and the name is released
//   call add_later  -> schedules, with SendAfter, an `add` to a counter
//                      (itself or another, local or remote) after a delay;
//                      replies the current value
//   call slow_add   -> sleeps sleep_us (blocking its worker thread: a slow
//                      server, for overload tests), then adds n
//   call, no op     -> INVALID_ARGUMENT; the server keeps running
//   cast / info     -> add, add_later and slow_add as above, without a
//                      reply (an invalid one is logged and dropped)
// The three are typed handlers (GenServer::OnCall / OnCast / OnInfo).
// Registered as server kind "counter"; args (google.protobuf.Struct):
// {"initial": N} sets the starting value (default 0).
//
// Thread-safety: a GenServer; its state is touched only by its own hooks.
// Talk to it through the Node client API.
//
// Example:
//   node->Spawn(std::make_unique<polis::examples::Counter>(10), {.name = "c"});
//   CounterRequest req; req.set_add(5);
//   node->Call<CounterReply>("c", req);   // value: 15
#ifndef POLIS_EXAMPLES_COUNTER_H_
#define POLIS_EXAMPLES_COUNTER_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "examples/examples.pb.h"
#include "genserver/genserver.h"

namespace polis::examples {

class Counter : public GenServer {
 public:
  explicit Counter(int64_t initial = 0);

 private:
  // A call: the new value, or the request's error (the caller's answer).
  Task<absl::StatusOr<CounterReply>> Answer(const CounterRequest& request);
  // A cast or info: the same without an answer (an error is logged).
  Task<absl::Status> Update(const CounterRequest& request);
  // Applies `req` (any op); returns the value to reply with. Throws for crash.
  absl::StatusOr<int64_t> Apply(const CounterRequest& req);

  int64_t value_;
};

// Request builders, for callers and tests: `{"add": n}` and `{"get": {}}`.
CounterRequest CounterAdd(int64_t n);
CounterRequest CounterGet();

}  // namespace polis::examples

#endif  // POLIS_EXAMPLES_COUNTER_H_
