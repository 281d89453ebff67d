// node/internal/manual_host.h — a deterministic, step-by-step executor for
// unit tests of processes and the scheduler (test-only; linked by tests).
//
// ManualHost is a ProcessHost that records what processes ask of their node
// (replies, deaths, monitors told, timers cancelled) and schedules them on a
// Scheduler that is never started: nothing runs until the test steps a
// worker (Step / RunUntilIdle), on the test's own thread. Every ordering —
// which process runs next, when a claim is released, what a run's budget
// leaves queued — is then decided by the code under test alone and can be
// checked step by step, with no threads and no sleeps.
//
// Thread-safety: one test thread; CallSlots may be completed from it at any
// point between steps. A test may instead Start() scheduler() to run the
// processes on real workers (none stepped meanwhile); it must Stop() it
// before the host is destroyed, since the destructor steps on its thread.
//
// Example:
//   ManualHost host(/*workers=*/1);
//   std::shared_ptr<Process> p = host.Spawn(std::make_unique<Script>(...));
//   host.Deliver(*p, wire::KIND_CAST, "hello");
//   host.RunUntilIdle();
//   EXPECT_THAT(journal, ElementsAre("init", "cast:hello"));
#ifndef POLIS_NODE_INTERNAL_MANUAL_HOST_H_
#define POLIS_NODE_INTERNAL_MANUAL_HOST_H_

#include <coroutine>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/wrappers.pb.h"
#include "node/behaviour.h"
#include "node/internal/call_slot.h"
#include "node/internal/letter.h"
#include "node/internal/process.h"
#include "node/internal/process_host.h"
#include "node/internal/scheduler.h"

namespace polis::internal {

class ManualHost : public ProcessHost {
 public:
  struct ReplySent {
    From to;
    absl::Status status;
    std::string text;  // The reply's StringValue, if it is one.
  };
  struct DownSent {
    Pid watcher;
    uint64_t ref;
    Pid process;
    absl::Status reason;
  };

  // `io`: what the scheduler's worker 0 drives (none by default).
  explicit ManualHost(int workers = 1, IoDriver* io = nullptr) : scheduler_(io, workers) {
    set_scheduler(&scheduler_);
  }
  ~ManualHost() override {
    for (auto& p : spawned_) {
      if (!p->dead()) p->Kill();
    }
    while (RunAny()) {
    }
  }

  Scheduler& scheduler() { return scheduler_; }

  // A new process for `behaviour` (pid = next number), scheduled to run its
  // Init on the next step.
  std::shared_ptr<Process> Spawn(std::unique_ptr<Behaviour> behaviour, std::string name = "") {
    auto p = std::make_shared<Process>(this, /*core=*/nullptr, Pid{"test", next_pid_++},
                                       std::move(name), "test", std::move(behaviour));
    spawned_.push_back(p);
    if (p->TryClaim()) Schedule(p);
    return p;
  }

  // Puts a letter of `kind` carrying StringValue `text` in `p`'s mailbox
  // (a call from plain thread "caller" with reference `ref`).
  static void Deliver(Process& p, wire::Kind kind, const std::string& text, uint64_t ref = 0) {
    LetterPtr l = NewLetter();
    l->kind = kind;
    google::protobuf::StringValue v;
    v.set_value(text);
    l->message = Message::From(v);
    l->sender = Pid{"caller", 0};
    l->to_pid = p.pid().id;
    if (kind == wire::KIND_CALL) l->from = From{"caller", 0, ref, "", absl::InfiniteFuture()};
    p.Deliver(std::move(l));
  }

  // One step of worker `w`; false if it had nothing to run.
  bool Step(int w = 0) { return scheduler_.Step(w); }
  // Steps worker `w` until it has nothing to run; returns the steps taken.
  int RunUntilIdle(int w = 0) {
    int n = 0;
    while (Step(w)) ++n;
    return n;
  }
  // One step of any worker that has work (lowest index first).
  bool RunAny() {
    for (int w = 0; w < scheduler_.size(); ++w) {
      if (Step(w)) return true;
    }
    return false;
  }

  // ProcessHost (Schedule: on scheduler_).
  void Forget(const Process& p) override { forgotten.push_back(p.pid()); }
  void Reply(const From& to, const absl::Status& status, const Message& reply,
             const TraceContext&) override {
    std::string text;
    if (status.ok()) {
      if (auto v = reply.As<google::protobuf::StringValue>(); v.ok()) text = v->value();
    }
    replies.push_back({to, status, text});
  }
  void AbandonCall(uint64_t ref) override { abandoned.push_back(ref); }
  void CancelTimer(uint64_t id) override { cancelled_timers.push_back(id); }
  void RemoveMonitor(const Pid& target, uint64_t ref) override {}
  void MonitorFired(const Pid& target, uint64_t ref) override {}
  void NotifyDown(const Pid& watcher, uint64_t ref, const Pid& process, const std::string& name,
                  const absl::Status& reason) override {
    downs.push_back({watcher, ref, process, reason});
  }

  std::vector<Pid> forgotten;
  std::vector<ReplySent> replies;
  std::vector<uint64_t> abandoned;
  std::vector<uint64_t> cancelled_timers;
  std::vector<DownSent> downs;

 private:
  Scheduler scheduler_;
  uint64_t next_pid_ = 1;
  std::vector<std::shared_ptr<Process>> spawned_;
};

// co_await-able wait on `slot` from inside a hook of `self` (what a call
// from a handler does, without the node): the process takes no letters
// until the slot completes. Name it before awaiting it (`AwaitSlot w{p, s};
// co_await w;`): g++ 12 destroys a braced temporary inside a co_await twice.
struct AwaitSlot {
  Process* self;
  std::shared_ptr<CallSlot> slot;
  bool await_ready() const { return slot->done(); }
  void await_suspend(std::coroutine_handle<> h) { self->BeginWait(slot, h); }
  absl::StatusOr<Message> await_resume() { return slot->Take(); }
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_MANUAL_HOST_H_
