// tests/probe_server.h — Probe, a small GenServer for supervision tests.
//
// Probe is a GenServer driven by google.protobuf.StringValue calls:
//   "get" -> its counter, "incr" -> ++counter, "instance" -> which start of
//   the child this is (1, 2, ...), "crash" -> fails the server (INTERNAL
//   "crash requested"), "stop" -> stops it normally.
// Every Init and Terminate is recorded in a shared Journal (tests/journal.h)
// as "init:<id>" / "terminate:<id>", and ProbeState can make the next Inits
// fail or Terminate throw. Ask sends a Probe a command.
//
// For genserver/ and higher tests (target polis::testing_genserver).
//
// Thread-safety: ProbeState is thread-safe; Probe runs on its own process.
//
// Example:
//   auto st = std::make_shared<ProbeState>(journal);
//   builder.Add("a", ProbeFactory("a", st), {.name = "a"});
//   EXPECT_TRUE(WaitFor([&] { return Ask(node, "a", "instance") == 2; }));
#ifndef POLIS_TESTS_PROBE_SERVER_H_
#define POLIS_TESTS_PROBE_SERVER_H_

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "genserver/genserver.h"
#include "genserver/supervisor_child.h"
#include "google/protobuf/wrappers.pb.h"
#include "node/node.h"
#include "tests/journal.h"

namespace polis::testing {

// State shared by every instance of one child.
struct ProbeState {
  explicit ProbeState(std::shared_ptr<Journal> l) : log(std::move(l)) {}
  std::shared_ptr<Journal> log;
  std::atomic<int> instances{0};      // Inits so far (failed ones too).
  std::atomic<int> init_failures{0};  // This many next Inits fail.
  std::atomic<bool> throw_in_terminate{false};

  void MarkTerminated() {
    absl::MutexLock l(&mu);
    last_terminate = absl::Now();
  }
  void MarkInit() {
    absl::MutexLock l(&mu);
    inits.push_back(absl::Now());
  }
  absl::Time LastTerminate() const {
    absl::MutexLock l(&mu);
    return last_terminate;
  }
  std::vector<absl::Time> Inits() const {
    absl::MutexLock l(&mu);
    return inits;
  }

  mutable absl::Mutex mu;
  absl::Time last_terminate ABSL_GUARDED_BY(mu);
  std::vector<absl::Time> inits ABSL_GUARDED_BY(mu);
};

class Probe : public GenServer {
 public:
  Probe(std::string id, std::shared_ptr<ProbeState> state)
      : id_(std::move(id)), state_(std::move(state)) {
    AcceptCall<google::protobuf::StringValue, google::protobuf::Int64Value>();
    set_kind("probe");
  }

  Task<absl::Status> Init() override {
    instance_ = ++state_->instances;
    state_->MarkInit();
    state_->log->Add("init:" + id_);
    if (state_->init_failures.load() > 0 && state_->init_failures.fetch_sub(1) > 0) {
      co_return absl::InternalError("init failure requested");
    }
    co_return absl::OkStatus();
  }

  Task<absl::StatusOr<Reply>> HandleCall(const Message& request, const From&) override {
    absl::StatusOr<google::protobuf::StringValue> cmd =
        request.As<google::protobuf::StringValue>();
    if (!cmd.ok()) co_return cmd.status();
    google::protobuf::Int64Value out;
    const std::string& c = cmd->value();
    if (c == "crash") co_return absl::InternalError("crash requested");
    if (c == "stop") {
      Stop();
    } else if (c == "incr") {
      out.set_value(++count_);
    } else if (c == "get") {
      out.set_value(count_);
    } else if (c == "instance") {
      out.set_value(instance_);
    } else {
      co_return Reply::Error(absl::InvalidArgumentError("unknown command " + c));
    }
    co_return Reply(out);
  }

  void Terminate(const absl::Status& reason) override {
    state_->log->Add("terminate:" + id_);
    state_->MarkTerminated();
    if (state_->throw_in_terminate.load()) throw std::runtime_error("terminate throws");
  }

 private:
  std::string id_;
  std::shared_ptr<ProbeState> state_;
  int64_t count_ = 0;
  int instance_ = 0;
};

inline ChildFactory ProbeFactory(std::string id, std::shared_ptr<ProbeState> state) {
  return [id = std::move(id), state]() -> absl::StatusOr<std::unique_ptr<Behaviour>> {
    return std::make_unique<Probe>(id, state);
  };
}

// A StringValue command to a Probe; its Int64 answer.
inline absl::StatusOr<int64_t> Ask(Node& node, const Target& target, const std::string& cmd,
                                   absl::Duration timeout = absl::Seconds(3)) {
  google::protobuf::StringValue req;
  req.set_value(cmd);
  absl::StatusOr<google::protobuf::Int64Value> r =
      node.Call<google::protobuf::Int64Value>(target, req, timeout);
  if (!r.ok()) return r.status();
  return r->value();
}

}  // namespace polis::testing

#endif  // POLIS_TESTS_PROBE_SERVER_H_
