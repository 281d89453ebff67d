// ProcessContext and the awaiters a hook uses to wait without blocking.
#include <memory>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/status_macros.h"
#include "node/behaviour.h"
#include "node/internal/node_core.h"
#include "node/internal/process.h"
#include "node/node.h"

namespace polis {
namespace {

using internal::CallSlot;
using internal::Process;

}  // namespace

// --- SlotAwaiter ---

namespace internal {

bool SlotAwaiter::await_suspend(std::coroutine_handle<> h) {
  self_->BeginWait(slot_, h);
  return true;
}

void SlotAwaiter::NewSlot(uint64_t ref) {
  slot_ = CallSlot::ForProcess(ref, self_);
}

}  // namespace internal

// --- CallAwaiter ---

CallAwaiter::CallAwaiter(Process* self, Target target, Message request, absl::Duration timeout)
    : SlotAwaiter(self),
      target_(std::move(target)),
      request_(std::move(request)),
      timeout_(timeout) {}

CallAwaiter::~CallAwaiter() {
  // Abandoned before the outcome (the process died while waiting): forget
  // the call so a late reply is dropped.
  if (slot_ && !slot_->done()) self_->host()->AbandonCall(slot_->ref());
}

bool CallAwaiter::await_ready() {
  if (sent_) {
    immediate_ = absl::FailedPreconditionError(
        absl::StrCat("the call to ", target_.ToString(), " was awaited already"));
    return true;
  }
  sent_ = true;
  internal::NodeCore& core = self_->context().core();
  NewSlot(0);  // The call table gives it its ref.
  client_ = core.tracer().CallerSpan(&self_->current_trace());
  if (client_.sampled) {
    start_ns_ = base::NowUnixNanos();
    type_ = &request_.type();
  }
  core.router().CallFromProcess(self_, target_, std::move(request_), timeout_, slot_,
                                wire::KIND_CALL, client_);
  return slot_->done();
}

absl::StatusOr<Message> CallAwaiter::await_resume() {
  if (!immediate_.ok()) return std::exchange(immediate_, absl::OkStatus());
  if (!client_.sampled) {
    if (slot_->expired()) return internal::CallTimedOut(target_, timeout_);
    return slot_->Take();
  }
  absl::StatusOr<Message> r =
      slot_->expired() ? internal::CallTimedOut(target_, timeout_) : slot_->Take();
  self_->context().core().tracer().RecordSpan(wire::SPAN_KIND_REPLY, client_, start_ns_,
                                              self_->pid(), target_, slot_->target_node(), type_,
                                              r.status());
  return r;
}

// --- SpawnAwaiter ---

SpawnAwaiter::SpawnAwaiter(Process* self, std::unique_ptr<Behaviour> behaviour,
                           SpawnOptions options)
    : SlotAwaiter(self), behaviour_(std::move(behaviour)), options_(std::move(options)) {}

SpawnAwaiter::~SpawnAwaiter() = default;

bool SpawnAwaiter::await_ready() {
  NewSlot(0);
  auto p = self_->context().core().CreateProcess(std::move(behaviour_), options_, slot_,
                                        options_.monitor ? self_ : nullptr, &monitor_ref_);
  if (!p.ok()) {
    immediate_ = p.status();
    return true;
  }
  pid_ = (*p)->pid();
  return slot_->done();
}

absl::StatusOr<Pid> SpawnAwaiter::await_resume() {
  if (!immediate_.ok()) return immediate_;
  absl::StatusOr<Message> r = slot_->Take();
  if (!r.ok()) return r.status();
  return pid_;
}

// --- StopAwaiter ---

StopAwaiter::StopAwaiter(Process* self, Pid target, absl::Status reason, absl::Duration timeout)
    : SlotAwaiter(self),
      target_(std::move(target)),
      reason_(std::move(reason)),
      timeout_(timeout) {}

StopAwaiter::~StopAwaiter() = default;

bool StopAwaiter::await_ready() {
  NewSlot(0);
  if (target_ == self_->pid()) {
    immediate_ = absl::InvalidArgumentError("a process cannot await its own stop; use Stop()");
    return true;
  }
  absl::Status s = self_->context().core().StopProcess(target_, reason_, timeout_, slot_);
  if (!s.ok()) {
    immediate_ = s;
    return true;
  }
  return slot_->done();
}

absl::Status StopAwaiter::await_resume() {
  if (!immediate_.ok()) return immediate_;
  return slot_->Take().status();
}

// --- ProcessContext ---

const Pid& ProcessContext::self() const { return p_->pid(); }
const std::string& ProcessContext::name() const { return p_->name_ref(); }
Node& ProcessContext::node() const { return core_->facade(); }
const TraceContext& ProcessContext::trace() const { return p_->current_trace(); }

CallAwaiter ProcessContext::CallRaw(Target target, const google::protobuf::Message& request,
                                    absl::Duration timeout) {
  return CallAwaiter(p_, std::move(target), Message::From(request), timeout);
}

absl::Status ProcessContext::Cast(Target target, const google::protobuf::Message& message) {
  return core_->router().Tell(wire::KIND_CAST, p_, target, message);
}

absl::Status ProcessContext::Send(Target target, const google::protobuf::Message& message) {
  return core_->router().Tell(wire::KIND_INFO, p_, target, message);
}

absl::StatusOr<TimerRef> ProcessContext::SendAfter(absl::Duration delay,
                                                   const google::protobuf::Message& message) {
  return core_->router().SendAfter(delay, Target(p_->pid()), Message::From(message), p_);
}

absl::StatusOr<TimerRef> ProcessContext::SendAfter(absl::Duration delay, Target target,
                                                   const google::protobuf::Message& message) {
  return core_->router().SendAfter(delay, target, Message::From(message), p_);
}

bool ProcessContext::CancelTimer(TimerRef timer) { return core_->router().CancelTimer(timer, p_); }

void ProcessContext::ReplyRaw(const From& from, const absl::Status& status, const Message& reply) {
  p_->ReplyTo(from, status, reply);
}

uint64_t ProcessContext::Monitor(const Target& target) {
  const uint64_t ref = core_->calls().NextRef();
  core_->monitors().Watch(p_, ref, target);
  return ref;
}

size_t ProcessContext::MonitoredByCount() const { return p_->watcher_count(); }

uint64_t ProcessContext::MonitorNode(const std::string& node) {
  const uint64_t ref = core_->calls().NextRef();
  core_->monitors().WatchNode(p_, ref, node);
  return ref;
}

void ProcessContext::Demonitor(uint64_t monitor_ref) {
  std::optional<Pid> target = p_->untrack_monitor(monitor_ref);
  if (!target) return;
  core_->RemoveMonitor(*target, monitor_ref);
}

SpawnAwaiter ProcessContext::Spawn(std::unique_ptr<Behaviour> behaviour, SpawnOptions options) {
  return SpawnAwaiter(p_, std::move(behaviour), std::move(options));
}

StopAwaiter ProcessContext::StopProcess(const Pid& target, absl::Status reason,
                                        absl::Duration timeout) {
  return StopAwaiter(p_, target, std::move(reason), timeout);
}

void ProcessContext::Stop(absl::Status reason) { p_->RequestSelfStop(std::move(reason)); }

}  // namespace polis
