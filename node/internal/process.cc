#include "node/internal/process.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/log_limiter.h"
#include "base/trace_context.h"

namespace polis::internal {
namespace {

absl::Status StoppedError(const std::string& who, const absl::Status& reason) {
  if (reason.ok()) return absl::AbortedError(absl::StrCat("server ", who, " stopped"));
  return absl::AbortedError(absl::StrCat("server ", who, " stopped: ", reason.ToString()));
}

// The runtime's own notices, interned before any process can receive one:
// one arriving from a peer then shares the interned name (Message::FromWire
// interns nothing), so StaleDown and GenServer::Accepts recognize it by
// pointer.
void InternRuntimeTypes() {
  static const bool done = [] {
    InternType(wire::ProcessDown::descriptor()->full_name());
    InternType(wire::NodeDown::descriptor()->full_name());
    InternType(wire::NameLost::descriptor()->full_name());
    return true;
  }();
  (void)done;
}

}  // namespace

Process::Process(ProcessHost* host, NodeCore* core, Pid pid, std::string name, std::string kind,
                 std::unique_ptr<Behaviour> behaviour)
    : host_(host),
      pid_(std::move(pid)),
      kind_(std::move(kind)),
      behaviour_(std::move(behaviour)),
      ctx_(this, core),
      name_cache_(name),
      name_(std::move(name)) {
  InternRuntimeTypes();
}

Process::~Process() = default;

std::string Process::name() const {
  absl::MutexLock lock(&mu_);
  return name_;
}

void Process::set_name(std::string name) {
  absl::MutexLock lock(&mu_);
  name_ = std::move(name);
}

void Process::Deliver(LetterPtr letter) {
  // Two relaxed loads; the branch is taken only past the bound.
  if (max_mailbox_ != 0 && mailbox_.ApproximateSize() >= max_mailbox_) [[unlikely]] {
    if (!RefuseWhenFull(letter)) return;
  }
  mailbox_.Push(std::move(letter));
  if (TryClaim()) host_->Schedule(shared_from_this());
}

void Process::RequestStop(absl::Status reason, std::shared_ptr<CallSlot> done) {
  {
    absl::MutexLock lock(&mu_);
    if (ended_) {
      if (done) done->Complete(Message());
      return;
    }
    // Still dying: the waiter completes once the name is released.
    if (done) stop_waiters_.push_back(std::move(done));
    if (dead_.load()) return;
    if (!stop_requested_.load()) stop_reason_ = std::move(reason);
    stop_requested_.store(true);
  }
  if (TryClaim()) host_->Schedule(shared_from_this());
}

void Process::Kill() {
  if (dead_.exchange(true)) return;
  absl::Status reason = absl::AbortedError(absl::StrCat("server ", pid_.ToString(), " killed"));
  host_->Forget(*this);
  Bury(reason, reason);
  // The runner (if the process is stuck in a hook) cleans up the rest when
  // the hook returns; otherwise run now to drain the mailbox.
  if (TryClaim()) host_->Schedule(shared_from_this());
}

bool Process::AddMonitor(const Pid& watcher, uint64_t ref) {
  absl::MutexLock lock(&mu_);
  if (dead_.load()) return false;
  watchers_.emplace_back(watcher, ref);
  return true;
}

void Process::RemoveMonitor(uint64_t ref) {
  absl::MutexLock lock(&mu_);
  for (auto it = watchers_.begin(); it != watchers_.end(); ++it) {
    if (it->second == ref) {
      watchers_.erase(it);
      return;
    }
  }
}

size_t Process::watcher_count() const {
  absl::MutexLock lock(&mu_);
  return watchers_.size();
}

void Process::AddTimer(uint64_t id) {
  absl::MutexLock lock(&mu_);
  if (!dead_.load()) timers_.insert(id);
}

bool Process::RemoveTimer(uint64_t id) {
  absl::MutexLock lock(&mu_);
  return timers_.erase(id) > 0;
}

std::optional<Pid> Process::untrack_monitor(uint64_t ref) {
  auto it = my_monitors_.find(ref);
  if (it == my_monitors_.end()) return std::nullopt;
  Pid p = std::move(it->second);
  my_monitors_.erase(it);
  return p;
}

void Process::BeginWait(std::shared_ptr<CallSlot> slot, std::coroutine_handle<> resume_at) {
  waiting_ = std::move(slot);
  resume_at_ = resume_at;
}

void Process::RequestSelfStop(absl::Status reason) {
  if (self_stop_) return;
  self_stop_ = true;
  self_stop_reason_ = std::move(reason);
}

void Process::ReplyTo(const From& from, const absl::Status& status, const Message& reply) {
  if (current_call_open_ && from.ref == letter_->from.ref && from.node == letter_->from.node) {
    current_call_open_ = false;
  } else if (!open_calls_.empty()) {
    open_calls_.erase(std::make_pair(from.node, from.ref));
  }
  if (span_open_ && !span_answered_ && from.ref == letter_->from.ref &&
      from.node == letter_->from.node) {
    span_answered_ = true;
    span_answer_ = status;
  }
  stats_.Get().Answered(status.code());
  host_->Reply(from, status, reply, trace_);
}

void Process::Resume(std::coroutine_handle<> h) {
  // Log lines the hook writes carry the trace of the message it handles.
  const TraceContext* outer = base::CurrentTrace();
  base::SetCurrentTrace(&trace_);
  h.resume();
  base::SetCurrentTrace(outer);
}

void Process::EndSpan(const absl::Status& result) {
  if (!span_open_) return;
  span_open_ = false;
  Tracer* tracer = host_->tracer();
  if (tracer == nullptr) return;
  const int64_t end_ns = base::NowUnixNanos();
  stats_.Get().Observe(end_ns - span_start_ns_);  // The span's clock reads time the handler.
  const Incoming& in = *letter_;
  const absl::Status& status = span_answered_ && result.ok() ? span_answer_ : result;
  tracer->Record([&](SpanRecord& r) {
    r.trace_id = in.trace.trace_id;
    r.span_id = in.trace.span_id;
    r.parent_span_id = in.trace.parent_span_id;
    r.kind = in.kind == wire::KIND_CALL   ? wire::SPAN_KIND_CALL
             : in.kind == wire::KIND_CAST ? wire::SPAN_KIND_CAST
                                          : wire::SPAN_KIND_INFO;
    r.start_ns = span_start_ns_;
    r.end_ns = end_ns;
    r.sender_node.assign(in.sender.node);
    r.sender_pid = in.sender.id;
    r.server.assign(name_cache_);
    r.server_pid = pid_.id;
    r.peer_node.clear();
    r.message_type = in.message.interned_type();  // Outlives the message.
    SetStatus(r, status);
  });
  span_answered_ = false;
  span_answer_ = absl::OkStatus();
}

bool Process::StartNextLetter() {
  Letter* raw = mailbox_.Pop();
  if (raw == nullptr) return false;
  letter_.reset(raw);
  Letter& l = *letter_;
  if (l.kind == wire::KIND_CALL && l.from.deadline < absl::InfiniteFuture() &&
      l.from.deadline <= base::Now()) {
    letter_.reset();  // The caller has given up; at-most-once means: drop.
    return true;
  }
  l.message.Reintern();  // A peer's unknown type, perhaps handled since it arrived.
  if (l.kind == wire::KIND_INFO && l.runtime_notice && StaleDown(l)) {
    letter_.reset();  // Demonitor is final: a DOWN already on its way is dropped.
    return true;
  }
  if (!behaviour_->Accepts(l.kind, l.message.type())) {
    RefuseLetter(l, absl::InvalidArgumentError(absl::StrCat(
                        "server ", name_cache_.empty() ? pid_.ToString() : name_cache_,
                        " does not accept messages of type \"", l.message.type(), "\"")));
    letter_.reset();
    return true;
  }
  // The handler sees the letter itself (a Letter is an Incoming): no copy;
  // its buffers go back to the free list with it when the hook finishes.
  Incoming& in = l;
  if (l.kind == wire::KIND_CALL) {
    current_call_open_ = true;
  } else {
    in.from.ref = 0;  // A from is a call's only.
  }
  trace_ = l.trace;
  if (trace_.sampled && host_->tracer() != nullptr) {
    span_open_ = true;
    span_start_ns_ = base::NowUnixNanos();
  }
  stats_.Get().Started(l.kind, /*timed_by_span=*/span_open_);
  hook_ = behaviour_->OnMessage(ctx_, in);
  Resume(hook_.handle());
  return true;
}

bool Process::StaleDown(const Letter& l) {
  // Interned names: two pointer compares for an ordinary info message.
  static const std::string* const kProcessDown =
      InternType(wire::ProcessDown::descriptor()->full_name());
  static const std::string* const kNodeDown = InternType(wire::NodeDown::descriptor()->full_name());
  const std::string* type = &l.message.type();
  uint64_t ref = 0;
  if (type == kProcessDown) {
    wire::ProcessDown down;
    if (!down.ParseFromString(l.message.bytes())) return false;
    ref = down.monitor_ref();
  } else if (type == kNodeDown) {
    wire::NodeDown down;
    if (!down.ParseFromString(l.message.bytes())) return false;
    ref = down.monitor_ref();
  } else {
    return false;
  }
  auto it = my_monitors_.find(ref);
  if (it == my_monitors_.end()) return true;
  if (it->second.node != pid_.node || it->second.id == 0) host_->MonitorFired(it->second, ref);
  my_monitors_.erase(it);
  return false;
}

bool Process::RefuseWhenFull(LetterPtr& letter) {
  Letter& l = *letter;
  // The runtime's notices (Letter::runtime, set only by the runtime: a
  // peer cannot claim it): a monitor's DOWN must arrive (a supervisor that
  // misses one never restarts its child), NameLost likewise. Everything
  // else counts, the process's own timers too: a sender pid can be forged
  // on the wire, so it grants nothing.
  if (l.runtime_notice) return true;
  std::string who = name();  // Not name_cache_: a pusher's thread.
  if (who.empty()) who = pid_.ToString();
  if (l.kind == wire::KIND_CALL) {
    host_->Reply(l.from,
                 absl::ResourceExhaustedError(absl::StrCat(
                     "server ", who, ": mailbox full (", max_mailbox_, " letters)")),
                 Message(), l.trace);
    return false;
  }
  const uint64_t n = dropped_.fetch_add(1, std::memory_order_relaxed) + 1;
  // At most one line a second per server (past 256 servers they share one
  // line a second), for every node of the program.
  static base::LogLimiter* const log = new base::LogLimiter(/*lines=*/1, absl::Seconds(1));
  uint64_t suppressed = 0;
  if (log->Admit(who, base::Now(), &suppressed)) {
    POLIS_LOG(WARNING) << "polis: server " << who << " mailbox full (" << max_mailbox_
                       << " letters): dropping casts and infos (" << n << " so far)"
                       << base::Suppressed(suppressed);
  }
  return false;
}

void Process::RefuseLetter(Letter& l, absl::Status why) {
  if (l.kind == wire::KIND_CALL) {
    if (phase_ != Phase::kDead) stats_.Get().Answered(why.code());  // Not a dead one's.
    host_->Reply(l.from, why, Message(), l.trace);
  } else {
    POLIS_LOG(DEBUG) << "polis: dropped " << wire::Kind_Name(l.kind) << ": " << why;
  }
}

void Process::Run(int budget) {
  for (int i = 0; i < budget; ++i) {
    if (dead_.load() && phase_ != Phase::kDead) {
      Die(absl::AbortedError("killed"), /*run_terminate=*/false);  // Killed from outside.
      return;
    }
    if (phase_ == Phase::kDead) {
      while (Letter* l = mailbox_.Pop()) {
        LetterPtr owned(l);
        RefuseLetter(*owned, StoppedError(name_cache_.empty() ? pid_.ToString() : name_cache_,
                                          absl::OkStatus()));
      }
      return;
    }
    if (stop_requested_.load()) {
      absl::Status reason;
      {
        absl::MutexLock lock(&mu_);
        reason = stop_reason_;
      }
      Die(reason, /*run_terminate=*/true);
      return;
    }
    if (waiting_) {
      if (!waiting_->done()) return;
      waiting_.reset();
      Resume(std::exchange(resume_at_, {}));
    } else if (phase_ == Phase::kStarting) {
      if (hook_.valid()) return;  // Defensive: OnStart suspended without a wait.
      hook_ = behaviour_->OnStart(ctx_);
      Resume(hook_.handle());
    } else if (!StartNextLetter()) {
      return;
    }
    if (hook_.valid() && hook_.done()) {
      FinishHook();
      if (phase_ == Phase::kDead) return;
    }
  }
}

void Process::FinishHook() {
  absl::Status result;
  try {
    result = hook_.TakeResult();
  } catch (const std::exception& e) {
    result = absl::InternalError(absl::StrCat(
        name_cache_.empty() ? kind_ : name_cache_, " handler threw: ", e.what()));
  } catch (...) {
    result = absl::InternalError(absl::StrCat(name_cache_.empty() ? kind_ : name_cache_,
                                              " handler threw a non-std exception"));
  }
  hook_ = Task<absl::Status>();
  if (phase_ == Phase::kRunning) stats_.Get().Finished();
  if (phase_ == Phase::kStarting) {
    if (!result.ok()) {
      Die(result, /*run_terminate=*/true);
      return;
    }
    phase_ = Phase::kRunning;
    if (init_slot_) std::exchange(init_slot_, nullptr)->Complete(Message());
  } else {
    if (span_open_) EndSpan(result);
    if (!result.ok()) {
      Die(result, /*run_terminate=*/true);
      return;
    }
  }
  if (current_call_open_) {  // Deferred: answered later, or at death.
    current_call_open_ = false;
    open_calls_.emplace(std::make_pair(letter_->from.node, letter_->from.ref), letter_->from);
  }
  letter_.reset();
  if (self_stop_) Die(self_stop_reason_, /*run_terminate=*/true);
}

void Process::Die(absl::Status reason, bool run_terminate) {
  bool first = !dead_.exchange(true);
  phase_ = Phase::kDead;
  // Abandon a suspended hook: its call is forgotten, its frames destroyed.
  if (waiting_) {
    host_->AbandonCall(waiting_->ref());
    waiting_.reset();
  }
  resume_at_ = {};
  hook_ = Task<absl::Status>();
  const std::string who = name_cache_.empty() ? pid_.ToString() : name_cache_;
  // Killed or stopped while handling a message: its span ends with why.
  EndSpan(reason.ok() ? StoppedError(who, reason) : reason);
  if (first && run_terminate) {
    try {
      behaviour_->OnTerminate(ctx_, reason);
    } catch (const std::exception& e) {
      POLIS_LOG(WARNING) << "polis: Terminate of " << who << " threw: " << e.what();
    } catch (...) {
      POLIS_LOG(WARNING) << "polis: Terminate of " << who << " threw";
    }
  }
  // Counted before Forget sums an unnamed process's counts into its kind's.
  if (current_call_open_) {
    stats_.Get().Answered(reason.ok() ? absl::StatusCode::kAborted : reason.code());
  }
  if (first) host_->Forget(*this);
  // The call being handled gets the failure itself; other open calls learn
  // the server stopped.
  if (current_call_open_) {
    current_call_open_ = false;
    host_->Reply(letter_->from, reason.ok() ? StoppedError(who, reason) : reason, Message(),
                     trace_);
  }
  for (auto& [key, from] : open_calls_) {
    host_->Reply(from, StoppedError(who, reason), Message(), trace_);
  }
  open_calls_.clear();
  letter_.reset();
  while (Letter* l = mailbox_.Pop()) {
    LetterPtr owned(l);
    RefuseLetter(*owned, StoppedError(who, reason));
  }
  if (init_slot_) {
    absl::Status s = reason.ok() ? absl::AbortedError(absl::StrCat(who, " stopped during Init"))
                                 : reason;
    std::exchange(init_slot_, nullptr)->Complete(s);
  }
  if (!first) return;  // Kill() already did the rest.
  for (auto& [ref, target] : my_monitors_) {
    host_->RemoveMonitor(target, ref);
  }
  my_monitors_.clear();
  Bury(reason, absl::OkStatus());
}

void Process::Bury(const absl::Status& reason, const absl::Status& waiter_result) {
  std::vector<std::pair<Pid, uint64_t>> watchers;
  std::vector<uint64_t> timers;
  std::vector<std::shared_ptr<CallSlot>> waiters;
  std::string name;
  {
    absl::MutexLock lock(&mu_);
    watchers.swap(watchers_);
    timers.assign(timers_.begin(), timers_.end());
    timers_.clear();
    waiters.swap(stop_waiters_);
    name = name_;
    ended_ = true;
  }
  for (uint64_t t : timers) host_->CancelTimer(t);
  for (auto& [w, ref] : watchers) host_->NotifyDown(w, ref, pid_, name, reason);
  for (auto& s : waiters) {
    if (waiter_result.ok()) {
      s->Complete(Message());
    } else {
      s->Complete(waiter_result);
    }
  }
}

std::string Process::DebugString() const {
  return absl::StrCat(pid_.ToString(), " name=", name_cache_, " kind=", kind_,
                      " scheduled=", scheduled_.load(), " dead=", dead_.load(),
                      " phase=", static_cast<int>(phase_), " hook=", hook_.valid(),
                      " waiting=", waiting_ ? (waiting_->done() ? "done" : "pending") : "none",
                      " mail=", mailbox_.HasLetters(), " stop=", stop_requested_.load(),
                      " pinned=", pinned_.load(), " last_worker=", last_worker_.load());
}

bool Process::Release() {
  // Snapshot what only the runner may read before giving up the claim.
  std::shared_ptr<CallSlot> waiting = waiting_;
  const bool starting = phase_ == Phase::kStarting && !hook_.valid();
  const bool dead = phase_ == Phase::kDead;
  const bool mail = mailbox_.ReleaseClaim(scheduled_);
  bool work;
  if (dead) {
    work = mail;
  } else if (stop_requested_.load() || dead_.load()) {
    work = true;
  } else if (waiting) {
    work = waiting->done();
  } else {
    work = starting || mail;
  }
  return work && TryClaim();
}

}  // namespace polis::internal
