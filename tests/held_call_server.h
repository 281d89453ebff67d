// tests/held_call_server.h — HeldCall, a GenServer that answers a call only
// when told to, for tests about replies (whose reply completes which call).
//
// A call of google.protobuf.StringValue is held (a deferred reply) and its
// ref published through `held_ref`; a cast StringValue answers the held
// call with that value. A call of google.protobuf.Int64Value n adds n to a
// running total and answers it at once.
//
// For genserver/ and higher tests (links polis::genserver).
//
// Thread-safety: `held_ref` is written by the server's process and may be
// read from any thread.
//
// Example:
//   std::atomic<uint64_t> ref{0};
//   node->Spawn(std::make_unique<HeldCall>(&ref), {.name = "slow"});
//   // ... call "slow" with a StringValue from one thread, then:
//   EXPECT_TRUE(WaitFor([&] { return ref.load() != 0; }));
//   node->Cast("slow", Str("real"));  // the held call gets "real"
#ifndef POLIS_TESTS_HELD_CALL_SERVER_H_
#define POLIS_TESTS_HELD_CALL_SERVER_H_

#include <atomic>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "genserver/genserver.h"
#include "google/protobuf/wrappers.pb.h"
#include "tests/test_values.h"

namespace polis::testing {

class HeldCall : public GenServer {
 public:
  explicit HeldCall(std::atomic<uint64_t>* held_ref) : held_ref_(held_ref) {
    OnCall(&HeldCall::Add);
    OnCall(&HeldCall::Hold);
    OnCast(&HeldCall::Release);
  }

 private:
  Task<absl::StatusOr<google::protobuf::Int64Value>> Add(const google::protobuf::Int64Value& n) {
    total_ += n.value();
    co_return Int(total_);
  }
  Task<Deferrable<google::protobuf::StringValue>> Hold(
      const google::protobuf::StringValue&, const Caller<google::protobuf::StringValue>& caller) {
    caller_ = caller;
    held_ref_->store(caller.from().ref);
    co_return Deferred();
  }
  Task<absl::Status> Release(const google::protobuf::StringValue& v) {
    if (caller_) ReplyTo(*caller_, Str(v.value()));
    co_return absl::OkStatus();
  }

  int64_t total_ = 0;
  std::atomic<uint64_t>* held_ref_;
  std::optional<Caller<google::protobuf::StringValue>> caller_;
};

}  // namespace polis::testing

#endif  // POLIS_TESTS_HELD_CALL_SERVER_H_
