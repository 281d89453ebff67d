// genserver/supervisor.cc — see supervisor.h for the design.
#include "genserver/supervisor.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "genserver/supervisor_reaper.h"

namespace polis {

namespace sv = supervision;

namespace {

absl::Status Prefixed(const absl::Status& s, absl::string_view prefix) {
  return absl::Status(s.code(), absl::StrCat(prefix, s.message()));
}

absl::Status ReasonOf(const wire::ProcessDown& down) {
  if (down.status_code() == 0) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(down.status_code()), down.status_message());
}

std::string KindOf(const sv::ChildSpec& spec) {
  switch (spec.start_case()) {
    case sv::ChildSpec::kKind:
      return spec.kind();
    case sv::ChildSpec::kSupervisor:
      return "supervisor";
    case sv::ChildSpec::kDynamicSupervisor:
      return "dynamic_supervisor";
    default:
      return "";
  }
}

}  // namespace

// kStandby: the child's name is held on another node; `monitor` watches the
// holder and the child starts when it goes down (see GoStandby).
enum class ChildState { kRunning, kRestarting, kStopping, kStopped, kStandby };

struct Supervisor::Child {
  ChildDef def;
  ChildState state = ChildState::kStopped;
  Pid pid;
  uint64_t monitor = 0;     // Monitor reference while running (or on the holder in standby).
  Pid holder;               // kStandby: who holds the name elsewhere.
  bool is_supervisor = false;
  std::string kind;         // From the instance's description.
  int restarts = 0;         // Restarts so far.
  int attempt = 0;          // Consecutive failed runs, for the backoff.
  absl::Time started_at;
  uint64_t epoch = 0;       // Restart round this child waits for.

  const std::string& id() const { return def.spec.id(); }
};

// --- Construction ---

absl::StatusOr<Supervisor::Options> Supervisor::OptionsFromSpec(const sv::SupervisorSpec& spec) {
  Options o;
  o.strategy = spec.strategy();
  if (spec.has_intensity()) o.intensity = spec.intensity();
  if (spec.period_ms() != 0) o.period = absl::Milliseconds(spec.period_ms());
  o.backoff = spec.backoff();
  return o;
}

absl::StatusOr<std::unique_ptr<Supervisor>> Supervisor::Create(const sv::SupervisorSpec& spec) {
  absl::StatusOr<Options> options = OptionsFromSpec(spec);
  if (!options.ok()) return options.status();
  std::vector<ChildDef> children;
  for (const sv::ChildSpec& c : spec.children()) {
    absl::StatusOr<ChildDef> def = ChildFromSpec(c);
    if (!def.ok()) return def.status();
    children.push_back(*std::move(def));
  }
  return Create(*std::move(options), std::move(children));
}

absl::StatusOr<std::unique_ptr<Supervisor>> Supervisor::Create(Options options,
                                                               std::vector<ChildDef> children) {
  if (options.intensity < 0) return absl::InvalidArgumentError("intensity must be >= 0");
  if (options.period <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("period must be > 0");
  }
  if (options.max_children < 0) return absl::InvalidArgumentError("max_children must be >= 0");
  if (!sv::Strategy_IsValid(options.strategy)) {
    return absl::InvalidArgumentError("unknown strategy");
  }
  if (absl::Status s = ValidateBackoff(options.backoff); !s.ok()) return s;
  if (options.dynamic && !children.empty()) {
    return absl::InvalidArgumentError("a dynamic supervisor starts without children");
  }
  absl::flat_hash_set<std::string> ids, names;
  for (const ChildDef& c : children) {
    if (absl::Status s = ValidateChildSpec(c.spec); !s.ok()) return s;
    if (!c.factory) {
      return absl::InvalidArgumentError(absl::StrCat("child '", c.spec.id(), "' has no factory"));
    }
    if (!ids.insert(c.spec.id()).second) {
      return absl::AlreadyExistsError(absl::StrCat("duplicate child id '", c.spec.id(), "'"));
    }
    if (!c.spec.name().empty() && !names.insert(c.spec.name()).second) {
      return absl::AlreadyExistsError(
          absl::StrCat("duplicate child name '", c.spec.name(), "'"));
    }
  }
  return std::unique_ptr<Supervisor>(new Supervisor(std::move(options), std::move(children)));
}

Supervisor::Supervisor(Options options, std::vector<ChildDef> children)
    : options_(std::move(options)), intensity_(options_.intensity, options_.period) {
  AcceptCall<sv::SupervisorRequest, sv::SupervisorReply>();
  AcceptInfo<wire::ProcessDown>();
  AcceptInfo<sv::RestartDue>();
  set_kind(options_.dynamic ? "dynamic_supervisor" : "supervisor");
  for (ChildDef& def : children) {
    auto c = std::make_unique<Child>();
    c->kind = KindOf(def.spec);
    c->def = std::move(def);
    children_.push_back(std::move(c));
  }
}

Supervisor::~Supervisor() = default;

// --- Lifecycle ---

Task<absl::Status> Supervisor::Init() {
  // Awaiters are named locals throughout: g++ 12 destroys temporaries of a
  // co_await expression (default arguments included) twice.
  SpawnAwaiter spawn_reaper =
      context().Spawn(std::make_unique<SupervisorReaper>(), SpawnOptions{.kind = "supervisor_reaper"});
  absl::StatusOr<Pid> reaper = co_await spawn_reaper;
  if (!reaper.ok()) co_return Prefixed(reaper.status(), "cannot start the reaper: ");
  reaper_ = *reaper;
  for (size_t i = 0; i < children_.size(); ++i) {
    absl::Status s = co_await StartChild(*children_[i]);
    if (!s.ok()) {
      stopping_ = true;
      co_await StopAll();  // The ones already started, in reverse order.
      co_return s;
    }
  }
  co_return absl::OkStatus();
}

Task<absl::Status> Supervisor::StartChild(Child& c) {
  absl::StatusOr<std::unique_ptr<Behaviour>> instance;
  try {
    instance = c.def.factory();
  } catch (const std::exception& e) {
    instance = absl::InternalError(absl::StrCat("factory threw: ", e.what()));
  }
  const std::string prefix = absl::StrCat("child '", c.id(), "': ");
  if (instance.ok() && *instance == nullptr) instance = absl::InternalError("factory gave null");
  if (!instance.ok()) co_return Prefixed(instance.status(), prefix);
  c.is_supervisor = dynamic_cast<Supervisor*>(instance->get()) != nullptr;
  if (c.kind.empty()) c.kind = (*instance)->Describe().kind();
  // The runtime monitors the child for us from before it can run, so even a
  // child that ends right after Init is reported with its real reason.
  SpawnOptions spawn{.name = c.def.spec.name(),
                     .kind = c.kind,
                     .monitor = true,
                     .max_mailbox = MaxMailboxOf(c.def.spec)};
  SpawnAwaiter spawning = context().Spawn(*std::move(instance), std::move(spawn));
  absl::StatusOr<Pid> pid = co_await spawning;
  if (!pid.ok()) {
    Demonitor(spawning.monitor_ref());  // Init failed: its ProcessDown is not news.
    if (absl::IsAlreadyExists(pid.status()) && !c.def.spec.name().empty()) {
      absl::StatusOr<Pid> holder = node().WhereIs(c.def.spec.name());
      if (holder.ok() && holder->node != self().node) {
        GoStandby(c, *holder);
        co_return absl::OkStatus();
      }
    }
    co_return Prefixed(pid.status(), prefix);
  }
  c.pid = *pid;
  c.state = ChildState::kRunning;
  c.started_at = base::Now();
  c.monitor = spawning.monitor_ref();
  co_return absl::OkStatus();
}

void Supervisor::GoStandby(Child& c, const Pid& holder) {
  // Starting again now would fail the same way and burn restart intensity
  // in a loop; the holder's end (any reason, or its node going down) is
  // the moment to try again.
  c.state = ChildState::kStandby;
  c.pid = Pid{};
  c.holder = holder;
  c.monitor = Monitor(Target(c.def.spec.name()));
  POLIS_LOG(INFO) << "polis: supervisor " << Label() << ": child '" << c.id() << "' on standby: "
                  << "its name \"" << c.def.spec.name() << "\" is held by " << holder.ToString();
}

Task<void> Supervisor::OnHolderDown(Child& c) {
  c.monitor = 0;
  c.holder = Pid{};
  c.state = ChildState::kRestarting;
  if (stopping_) {
    c.state = ChildState::kStopped;
    co_return;
  }
  absl::Status s = co_await StartChild(c);  // May go on standby again.
  if (!s.ok()) co_await OnChildEnded(c, std::move(s));
}

Task<void> Supervisor::StopChild(Child& c) {
  if (c.state == ChildState::kStandby) {
    Demonitor(c.monitor);
    c.monitor = 0;
    c.holder = Pid{};
    c.state = ChildState::kStopped;
    co_return;
  }
  if (c.state != ChildState::kRunning) co_return;
  const Pid pid = c.pid;
  Demonitor(c.monitor);  // We know why it ends; a queued ProcessDown is ignored.
  c.monitor = 0;
  c.state = ChildState::kStopping;
  const absl::Duration timeout = ShutdownTimeout(c);
  if (c.is_supervisor) {
    // Its subtree first, leaves first; it then stops itself.
    CallAwaiter asking = context().CallRaw(pid, StopChildrenRequest(), timeout);
    (void)co_await asking;
  }
  // OK: ended; NOT_FOUND: had already ended; DEADLINE_EXCEEDED: killed.
  StopAwaiter stopping = context().StopProcess(pid, absl::OkStatus(), timeout);
  (void)co_await stopping;
  c.pid = Pid{};
  c.state = ChildState::kStopped;
}

Task<void> Supervisor::StopAll() {
  for (size_t i = children_.size(); i-- > 0;) {
    if (i < children_.size()) co_await StopChild(*children_[i]);
  }
}

Task<void> Supervisor::OnChildEnded(Child& c, absl::Status reason) {
  c.pid = Pid{};
  c.monitor = 0;
  c.state = ChildState::kStopped;
  if (stopping_) co_return;
  const sv::Restart restart = RestartOf(c.def.spec);
  if (restart == sv::TEMPORARY || (restart == sv::TRANSIENT && reason.ok())) {
    if (restart == sv::TEMPORARY || options_.dynamic) Forget(c);
    co_return;
  }
  const absl::Time now = base::Now();
  if (!intensity_.Allow(now)) {
    co_await Escalate(c, reason);
    co_return;
  }
  const absl::Duration reset_after = options_.backoff.reset_after_ms() > 0
                                         ? absl::Milliseconds(options_.backoff.reset_after_ms())
                                         : options_.period;
  if (c.started_at != absl::Time() && now - c.started_at >= reset_after) c.attempt = 0;
  ++c.attempt;
  const absl::Duration delay = BackoffDelay(options_.backoff, c.attempt, rng_);

  // The group restarted with `c`, in start order.
  const auto self_it = std::find_if(children_.begin(), children_.end(),
                                    [&](const auto& p) { return p.get() == &c; });
  std::vector<std::string> group;
  for (auto it = children_.begin(); it != children_.end(); ++it) {
    const bool in_group =
        it == self_it || options_.strategy == sv::ONE_FOR_ALL ||
        (options_.strategy == sv::REST_FOR_ONE && it > self_it);
    if (!in_group) continue;
    Child& g = **it;
    if (&g == &c || g.state == ChildState::kRunning || g.state == ChildState::kRestarting) {
      group.push_back(g.id());
    }
  }
  // Stop the running siblings, last started first.
  for (auto it = group.rbegin(); it != group.rend(); ++it) {
    if (Child* g = Find(*it); g != nullptr && g != &c) co_await StopChild(*g);
  }
  const uint64_t epoch = ++epoch_;
  for (const std::string& id : group) {
    Child* g = Find(id);
    if (g == nullptr) continue;
    if (g != &c && RestartOf(g->def.spec) == sv::TEMPORARY) {
      Forget(*g);  // Stopped with the group, never restarted.
      continue;
    }
    g->state = ChildState::kRestarting;
    g->epoch = epoch;
  }
  if (delay <= absl::ZeroDuration()) {
    co_await StartRound(epoch);
    co_return;
  }
  sv::RestartDue due;
  due.set_epoch(epoch);
  if (!SendAfter(delay, due).ok()) co_await StartRound(epoch);
}

Task<void> Supervisor::StartRound(uint64_t epoch) {
  if (stopping_) co_return;
  std::vector<std::string> due;
  for (const auto& c : children_) {
    if (c->state == ChildState::kRestarting && c->epoch == epoch) due.push_back(c->id());
  }
  for (const std::string& id : due) {
    Child* c = Find(id);
    // A failure earlier in this round may have started a new round.
    if (c == nullptr || c->state != ChildState::kRestarting || c->epoch != epoch) continue;
    ++c->restarts;
    absl::Status s = co_await StartChild(*c);
    if (!s.ok()) co_await OnChildEnded(*c, std::move(s));
    if (stopping_) co_return;
  }
}

Task<void> Supervisor::Escalate(const Child& c, const absl::Status& reason) {
  const absl::Status why = absl::AbortedError(absl::StrCat(
      "supervisor ", Label(), ": restart intensity exceeded (more than ",
      options_.intensity, " restarts in ", absl::FormatDuration(options_.period),
      "); last failure: child '", c.id(), "': ", reason.ToString()));
  stopping_ = true;
  co_await StopAll();
  Stop(why);
}

void Supervisor::Terminate(const absl::Status& reason) {
  // Children still running here were not stopped through shutdown (see
  // the header): the reaper stops them, since this hook cannot wait.
  sv::Reap reap;
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
    const Child& c = **it;
    if (c.state != ChildState::kRunning && c.state != ChildState::kStopping) continue;
    sv::ReapTarget* t = reap.add_targets();
    t->set_node(c.pid.node);
    t->set_pid(c.pid.id);
    t->set_timeout_ms(absl::ToInt64Milliseconds(ShutdownTimeout(c)));
  }
  if (reaper_.valid()) (void)Send(reaper_, reap);
}

// --- Messages ---

Task<absl::Status> Supervisor::HandleInfo(const Message& message) {
  if (message.Is<wire::ProcessDown>()) {
    // Anyone may send a ProcessDown: only the runtime's says a child ended.
    if (!IsRuntimeNotice()) co_return absl::OkStatus();
    absl::StatusOr<wire::ProcessDown> down = message.As<wire::ProcessDown>();
    if (!down.ok()) co_return absl::OkStatus();
    Child* c = FindByMonitor(down->monitor_ref());
    if (c == nullptr) co_return absl::OkStatus();  // Stale: stopped or restarted since.
    if (c->state == ChildState::kStandby) {
      co_await OnHolderDown(*c);
    } else {
      co_await OnChildEnded(*c, ReasonOf(*down));
    }
  } else if (message.Is<sv::RestartDue>()) {
    absl::StatusOr<sv::RestartDue> due = message.As<sv::RestartDue>();
    if (due.ok()) co_await StartRound(due->epoch());
  }
  co_return absl::OkStatus();
}

Task<absl::StatusOr<GenServer::Reply>> Supervisor::HandleCall(const Message& request,
                                                              const From&) {
  absl::StatusOr<sv::SupervisorRequest> req = request.As<sv::SupervisorRequest>();
  if (!req.ok()) co_return Reply::Error(req.status());
  Replied r = absl::InvalidArgumentError(
      "empty SupervisorRequest: set one of which_children, count_children, terminate_child, "
      "restart_child, start_child, shutdown, stop_children");
  switch (req->op_case()) {
    case sv::SupervisorRequest::kWhichChildren:
      r = WhichChildren();
      break;
    case sv::SupervisorRequest::kCountChildren:
      r = CountChildren();
      break;
    case sv::SupervisorRequest::kTerminateChild:
      r = co_await TerminateChild(req->terminate_child());
      break;
    case sv::SupervisorRequest::kRestartChild:
      r = co_await RestartChild(req->restart_child());
      break;
    case sv::SupervisorRequest::kStartChild:
      r = co_await StartNewChild(req->start_child());
      break;
    case sv::SupervisorRequest::kShutdown:
      r = co_await Shutdown();
      break;
    case sv::SupervisorRequest::kStopChildren:
      r = co_await StopChildren();
      break;
    default:
      break;
  }
  if (!r.ok()) co_return Reply::Error(r.status());
  co_return Reply(*r);
}

sv::SupervisorReply Supervisor::WhichChildren() const {
  sv::SupervisorReply reply;
  sv::ChildList* list = reply.mutable_children();
  for (const auto& c : children_) *list->add_children() = Info(*c);
  return reply;
}

sv::SupervisorReply Supervisor::CountChildren() const {
  sv::SupervisorReply reply;
  sv::ChildCounts* n = reply.mutable_counts();
  for (const auto& c : children_) {
    n->set_specs(n->specs() + 1);
    if (c->state == ChildState::kRunning) n->set_active(n->active() + 1);
    if (c->state == ChildState::kRestarting) n->set_restarting(n->restarting() + 1);
    const bool sup = c->is_supervisor || c->def.spec.has_supervisor() ||
                     c->def.spec.has_dynamic_supervisor();
    if (sup) {
      n->set_supervisors(n->supervisors() + 1);
    } else {
      n->set_workers(n->workers() + 1);
    }
  }
  return reply;
}

Task<Supervisor::Replied> Supervisor::TerminateChild(const std::string& id) {
  Child* c = Find(id);
  if (c == nullptr) co_return absl::NotFoundError(absl::StrCat("no child '", id, "' in ", Label()));
  co_await StopChild(*c);  // No-op unless running.
  c->state = ChildState::kStopped;
  c->epoch = 0;  // Cancels a pending restart.
  sv::SupervisorReply reply;
  *reply.mutable_child() = Info(*c);
  if (options_.dynamic || RestartOf(c->def.spec) == sv::TEMPORARY) Forget(*c);
  co_return reply;
}

Task<Supervisor::Replied> Supervisor::RestartChild(const std::string& id) {
  Child* c = Find(id);
  if (c == nullptr) co_return absl::NotFoundError(absl::StrCat("no child '", id, "' in ", Label()));
  if (stopping_) co_return absl::FailedPreconditionError(Label() + " is shutting down");
  co_await StopChild(*c);
  c->epoch = 0;
  c->attempt = 0;
  ++c->restarts;
  absl::Status s = co_await StartChild(*c);
  if (!s.ok()) {
    c->state = ChildState::kStopped;
    co_return s;
  }
  sv::SupervisorReply reply;
  *reply.mutable_child() = Info(*c);
  co_return reply;
}

Task<Supervisor::Replied> Supervisor::StartNewChild(sv::ChildSpec spec) {
  if (stopping_) co_return absl::FailedPreconditionError(Label() + " is shutting down");
  if (options_.dynamic) {
    // Fill what the request leaves unset from the template (whose id and
    // name are ignored: they would collide from the second child on).
    sv::ChildSpec merged = options_.child_template;
    merged.clear_id();
    merged.clear_name();
    if (spec.start_case() != sv::ChildSpec::START_NOT_SET || spec.has_typed_args()) {
      merged.clear_args();  // The request's own start or typed_args: none of the template's.
      merged.clear_typed_args();
    } else if (spec.args().fields_size() > 0 && merged.has_typed_args()) {
      co_return absl::InvalidArgumentError(absl::StrCat(
          "start_child: the child_template of supervisor ", Label(),
          " gives typed_args, which args (a Struct) cannot be merged into; give typed_args "
          "(they replace the template's) or no args"));
    }
    merged.MergeFrom(spec);  // Set fields of the request win; args are merged by key.
    spec = std::move(merged);
    if (spec.id().empty()) {
      do {
        spec.set_id(absl::StrCat("child-", ++next_child_));
      } while (Find(spec.id()) != nullptr);
    }
  }
  if (Find(spec.id()) != nullptr) {
    co_return absl::AlreadyExistsError(
        absl::StrCat("child id '", spec.id(), "' already exists in ", Label()));
  }
  for (const auto& c : children_) {
    if (!spec.name().empty() && c->def.spec.name() == spec.name()) {
      co_return absl::AlreadyExistsError(
          absl::StrCat("name '", spec.name(), "' is already used by child '", c->id(), "'"));
    }
  }
  if (options_.max_children > 0 && static_cast<int>(children_.size()) >= options_.max_children) {
    co_return absl::ResourceExhaustedError(absl::StrCat(
        Label(), " already holds its maximum of ", options_.max_children, " children"));
  }
  absl::StatusOr<ChildDef> def = ChildFromSpec(spec);
  if (!def.ok()) co_return def.status();
  auto owned = std::make_unique<Child>();
  owned->kind = KindOf(def->spec);
  owned->def = *std::move(def);
  Child& c = *owned;
  children_.push_back(std::move(owned));
  absl::Status s = co_await StartChild(c);
  if (!s.ok()) {
    Forget(c);
    co_return s;
  }
  sv::SupervisorReply reply;
  *reply.mutable_child() = Info(c);
  co_return reply;
}

Task<Supervisor::Replied> Supervisor::StopChildren() {
  stopping_ = true;
  co_await StopAll();
  sv::SupervisorReply reply;
  reply.mutable_done();
  co_return reply;
}

Task<Supervisor::Replied> Supervisor::Shutdown() {
  Replied r = co_await StopChildren();
  Stop();
  co_return r;
}

// --- Helpers ---

Supervisor::Child* Supervisor::Find(const std::string& id) const {
  for (const auto& c : children_) {
    if (c->id() == id) return c.get();
  }
  return nullptr;
}

Supervisor::Child* Supervisor::FindByMonitor(uint64_t ref) const {
  if (ref == 0) return nullptr;
  for (const auto& c : children_) {
    if (c->monitor == ref) return c.get();
  }
  return nullptr;
}

void Supervisor::Forget(const Child& c) {
  children_.erase(std::remove_if(children_.begin(), children_.end(),
                                 [&](const auto& p) { return p.get() == &c; }),
                  children_.end());
}

sv::ChildInfo Supervisor::Info(const Child& c) const {
  sv::ChildInfo info;
  info.set_id(c.id());
  info.set_name(c.def.spec.name());
  info.set_kind(c.kind);
  info.set_restart_count(c.restarts);
  info.set_supervisor(c.is_supervisor || c.def.spec.has_supervisor() ||
                      c.def.spec.has_dynamic_supervisor());
  switch (c.state) {
    case ChildState::kRunning:
    case ChildState::kStopping:
      info.set_status(sv::RUNNING);
      info.set_pid(c.pid.ToString());
      break;
    case ChildState::kRestarting:
      info.set_status(sv::RESTARTING);
      break;
    case ChildState::kStopped:
      info.set_status(sv::STOPPED);
      break;
    case ChildState::kStandby:
      info.set_status(sv::STANDBY);
      info.set_held_by(c.holder.ToString());
      break;
  }
  return info;
}

absl::Duration Supervisor::ShutdownTimeout(const Child& c) const {
  if (c.def.spec.shutdown_timeout_ms() > 0) {
    return absl::Milliseconds(c.def.spec.shutdown_timeout_ms());
  }
  return c.is_supervisor ? kDefaultSupervisorShutdown : kDefaultWorkerShutdown;
}

std::string Supervisor::Label() const {
  return registered_name().empty() ? self().ToString()
                                   : absl::StrCat("'", registered_name(), "'");
}

absl::Status Supervisor::ShutdownTree(Node& node, const Target& target,
                                      absl::Duration timeout) {
  const absl::Time deadline = base::Now() + timeout;
  absl::StatusOr<sv::SupervisorReply> r =
      node.Call<sv::SupervisorReply>(target, StopChildrenRequest(), timeout);
  if (!r.ok() && r.status().code() == absl::StatusCode::kNotFound) return r.status();
  // Then stop the now idle supervisor itself (also if it did not answer).
  absl::Status s = node.Stop(target, absl::OkStatus(),
                             std::max(deadline - base::Now(), absl::Seconds(1)));
  if (s.code() == absl::StatusCode::kNotFound) s = absl::OkStatus();
  return r.ok() ? s : r.status();
}

// --- Request builders ---

sv::SupervisorRequest WhichChildrenRequest() {
  sv::SupervisorRequest r;
  r.mutable_which_children();
  return r;
}
sv::SupervisorRequest CountChildrenRequest() {
  sv::SupervisorRequest r;
  r.mutable_count_children();
  return r;
}
sv::SupervisorRequest TerminateChildRequest(const std::string& id) {
  sv::SupervisorRequest r;
  r.set_terminate_child(id);
  return r;
}
sv::SupervisorRequest RestartChildRequest(const std::string& id) {
  sv::SupervisorRequest r;
  r.set_restart_child(id);
  return r;
}
sv::SupervisorRequest StartChildRequest(const sv::ChildSpec& spec) {
  sv::SupervisorRequest r;
  *r.mutable_start_child() = spec;
  return r;
}
sv::SupervisorRequest ShutdownRequest() {
  sv::SupervisorRequest r;
  r.mutable_shutdown();
  return r;
}
sv::SupervisorRequest StopChildrenRequest() {
  sv::SupervisorRequest r;
  r.mutable_stop_children();
  return r;
}

}  // namespace polis
