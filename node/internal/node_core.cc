// NodeCore: processes, the registry and routing. Calls and timers are in
// node_calls.cc; the I/O side (inbound envelopes, membership) in node_io.cc.
#include "node/internal/node_core.h"

#include <cstdio>
#include <thread>

#include "bus/clock.h"
#include "bus/log.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bus/inproc_transport.h"
#include "bus/status_macros.h"
#include "bus/zmq_transport.h"
#include "node/internal/channels.h"
#include "node/internal/process.h"
#include "node/internal/route_cache.h"

namespace polis::internal {
namespace {

// Numbers NodeCore instances for RouteCache (never 0, never reused).
std::atomic<uint64_t> next_instance{0};

bool IsInProc(const std::string& endpoint) { return absl::StartsWith(endpoint, "inproc://"); }

absl::StatusOr<std::unique_ptr<bus::Transport>> MakeTransport(const NodeOptions& o) {
  bool inproc = IsInProc(o.listen) || o.listen.empty();
  for (const std::string& s : o.seeds) inproc = inproc && IsInProc(s);
  if (inproc) {
    bus::InProcTransportOptions io;
    io.max_message_bytes = o.max_message_bytes;
    return bus::InProcTransport::Create(io);
  }
  bus::ZmqTransportOptions zo;
  zo.max_message_bytes = o.max_message_bytes;
  POLIS_ASSIGN_OR_RETURN(auto t, bus::ZmqTransport::Create(zo));
  return std::unique_ptr<bus::Transport>(std::move(t));
}

absl::Mutex all_nodes_mu;
std::vector<NodeCore*>& AllNodes() {
  static auto* nodes = new std::vector<NodeCore*>;
  return *nodes;
}

// Names travel in proto3 string fields (bus/WIRE.md): a name that is not
// UTF-8 would make every envelope carrying it unparsable at the receiver.
absl::Status CheckUtf8Name(absl::string_view what, const std::string& name) {
  if (bus::IsValidUtf8(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(what, " is not valid UTF-8"));
}

}  // namespace

// For gdb: `call polis_dump_all_nodes()` prints every process.
void DumpAllNodes() {
  absl::MutexLock lock(&all_nodes_mu);
  for (NodeCore* n : AllNodes()) n->DebugDump();
}

void NodeCore::DebugDump() {
  std::vector<std::shared_ptr<Process>> procs;
  {
    absl::ReaderMutexLock lock(&registry_mu_);
    for (auto& [pid, p] : processes_) procs.push_back(p);
  }
  fprintf(stderr, "node %s: %zu processes\n", name_.c_str(), procs.size());
  for (auto& p : procs) fprintf(stderr, "  %s\n", p->DebugString().c_str());
  if (scheduler_) fprintf(stderr, "%s\n", scheduler_->DebugString().c_str());
}

NodeCore::NodeCore(Node* facade, NodeOptions options)
    : facade_(facade),
      options_(std::move(options)),
      name_(options_.name.empty() ? absl::StrCat("node-", RandomId() % 1000000)
                                  : options_.name),
      node_pid_{name_, 0},
      incarnation_(RandomId()),
      instance_(next_instance.fetch_add(1) + 1) {
  // Debian's Abseil is built with Mutex deadlock detection on, which costs
  // a graph lookup on every lock (a third of the cost of a remote cast).
  // polis's lock order is fixed and documented; turn the detector off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::MutexLock lock(&all_nodes_mu);
  AllNodes().push_back(this);
}

NodeCore::~NodeCore() {
  Shutdown();
  absl::MutexLock lock(&all_nodes_mu);
  auto& all = AllNodes();
  all.erase(std::remove(all.begin(), all.end(), this), all.end());
}

absl::Status NodeCore::Start() {
  if (options_.max_message_bytes <= 0) {
    return absl::InvalidArgumentError("max_message_bytes must be positive");
  }
  POLIS_RETURN_IF_ERROR(CheckUtf8Name("node name", name_));
  if (options_.transport) {
    transport_ = std::move(options_.transport);
  } else {
    POLIS_ASSIGN_OR_RETURN(transport_, MakeTransport(options_));
  }
  if (!options_.listen.empty()) {
    if (options_.client) return absl::InvalidArgumentError("a client node does not listen");
    POLIS_ASSIGN_OR_RETURN(std::string bound, transport_->Listen(options_.listen));
    if (!options_.advertise.empty()) {
      endpoint_ = options_.advertise;
    } else if (absl::StrContains(bound, "://0.0.0.0:") || absl::StrContains(bound, "://[::]:")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listening on ", bound, " (all interfaces): set advertise (--advertise=tcp://HOST:PORT) "
          "to the address peers should use"));
    } else {
      endpoint_ = bound;
    }
  }
  channels_ = std::make_unique<ChannelPool>(transport_.get());
  int threads = options_.scheduler_threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  scheduler_ = std::make_unique<Scheduler>(this, threads);
  scheduler_->Start();
  if (options_.seeds.empty()) {
    absl::MutexLock lock(&join_mu_);
    joined_ = true;
  }
  for (const std::string& seed : options_.seeds) {
    PostIo([this, seed] { SendHello(seed, nullptr); });
  }
  return absl::OkStatus();
}

void NodeCore::Shutdown() {
  if (stopped_ || !scheduler_) {
    stopped_ = true;
    return;
  }
  if (scheduler_->CurrentWorker() >= 0) {
    POLIS_LOG(ERROR) << "polis: Node::Shutdown called from inside a handler; ignored";
    return;
  }
  stopped_ = true;
  // 1. Stop every process (Terminate runs), newest first.
  std::vector<std::shared_ptr<Process>> procs;
  {
    absl::MutexLock lock(&registry_mu_);
    shutting_down_ = true;
    for (auto& [pid, p] : processes_) procs.push_back(p);
  }
  std::sort(procs.begin(), procs.end(),
            [](const auto& a, const auto& b) { return a->pid().id > b->pid().id; });
  std::vector<std::shared_ptr<CallSlot>> done;
  for (auto& p : procs) {
    auto slot = std::make_shared<CallSlot>(0, "", nullptr);
    if (StopProcess(p->pid(), absl::CancelledError("node shutting down"), absl::Seconds(5), slot)
            .ok()) {
      done.push_back(slot);
    }
  }
  for (auto& s : done) s->WaitUntil(absl::InfiniteFuture());
  // 2. Fail calls still waiting.
  for (auto& s : calls_.TakeAll()) s->Complete(absl::UnavailableError("node shutting down"));
  // 3. Say Goodbye, on the I/O thread, and wait until it went out.
  auto bye = std::make_shared<CallSlot>(0, "", nullptr);
  PostIo([this, bye] {
    wire::Goodbye g;
    g.set_node(name_);
    g.set_incarnation(incarnation_);
    for (const wire::NodeEntry& e : directory_.Snapshot()) {
      if (e.endpoint().empty()) continue;
      wire::Envelope env;
      env.set_version(1);
      env.set_kind(wire::KIND_SYSTEM);
      env.set_type(wire::Goodbye::descriptor()->full_name());
      g.SerializeToString(env.mutable_payload());
      env.mutable_sender()->set_node(name_);
      (void)transport_->Send(e.endpoint(), env);
    }
    transport_->Flush();
    bye->Complete(Message());
  });
  bye->WaitUntil(bus::Now() + absl::Seconds(2));
  // 4. Stop threads and close connections.
  scheduler_->Stop();
  timers_.Stop();
  channels_->CloseAll();
  {
    absl::MutexLock lock(&registry_mu_);
    processes_.clear();
    names_.clear();
  }
  transport_.reset();
}

// --- Processes and registry ---

absl::StatusOr<std::shared_ptr<Process>> NodeCore::CreateProcess(
    std::unique_ptr<Behaviour> behaviour, const SpawnOptions& options,
    std::shared_ptr<CallSlot> init_slot, Process* monitor_by, uint64_t* monitor_ref) {
  if (!behaviour) return absl::InvalidArgumentError("Spawn: null behaviour");
  POLIS_RETURN_IF_ERROR(CheckUtf8Name("Spawn: server name", options.name));
  std::shared_ptr<Process> p;
  {
    absl::MutexLock lock(&registry_mu_);
    if (shutting_down_) return absl::FailedPreconditionError("node is shutting down");
    if (!options.name.empty()) {
      if (names_.contains(options.name) || directory_.NodeOfName(options.name)) {
        return absl::AlreadyExistsError(
            absl::StrCat("a server named \"", options.name, "\" already exists"));
      }
    }
    Pid pid{name_, next_pid_++};
    p = std::make_shared<Process>(this, pid, options.name, options.kind, std::move(behaviour));
    // Before the process is visible: a message to its name may run it (and
    // its Init) at once, and Init's end must find the slot.
    p->set_init_slot(std::move(init_slot));
    if (monitor_by != nullptr && monitor_ref != nullptr) {
      *monitor_ref = calls_.NextRef();
      p->AddMonitor(monitor_by->pid(), *monitor_ref);
      monitor_by->track_monitor(*monitor_ref, pid);
    }
    processes_.emplace(pid.id, p);
    if (!options.name.empty()) {
      names_.emplace(options.name, pid.id);
      NamesChanged();
    }
  }
  if (!options.name.empty()) BroadcastNames({options.name}, {});
  if (p->TryClaim()) scheduler_->Schedule(p);
  return p;
}

std::shared_ptr<Process> NodeCore::FindLocal(uint64_t pid) const {
  absl::ReaderMutexLock lock(&registry_mu_);
  auto it = processes_.find(pid);
  return it == processes_.end() ? nullptr : it->second;
}

std::shared_ptr<Process> NodeCore::FindLocalByName(const std::string& name) const {
  // Versions first: a change after this point makes what is stored stale.
  const RouteCache::Versions now = route_versions();
  if (const RouteCache::Entry* e = RouteCache::Find(now, name); e != nullptr && e->node.empty()) {
    if (std::shared_ptr<Process> p = e->local.lock()) return p;
  }
  std::shared_ptr<Process> p;
  {
    absl::ReaderMutexLock lock(&registry_mu_);
    auto it = names_.find(name);
    if (it == names_.end()) return nullptr;
    auto pit = processes_.find(it->second);
    if (pit == processes_.end()) return nullptr;
    p = pit->second;
  }
  RouteCache::StoreLocal(now, name, p);
  return p;
}

void NodeCore::ForgetProcess(const Process& p) {
  std::string name = p.name();
  {
    absl::MutexLock lock(&registry_mu_);
    processes_.erase(p.pid().id);
    if (!name.empty()) {
      auto it = names_.find(name);
      if (it != names_.end() && it->second == p.pid().id) {
        names_.erase(it);
        NamesChanged();
      } else {
        name.clear();
      }
    }
  }
  if (!name.empty()) BroadcastNames({}, {name});
}

absl::Status NodeCore::Register(const std::string& name, const Pid& pid) {
  if (name.empty()) return absl::InvalidArgumentError("Register: empty name");
  POLIS_RETURN_IF_ERROR(CheckUtf8Name("Register: name", name));
  if (pid.node != name_) return absl::InvalidArgumentError("Register: not a local process");
  std::shared_ptr<Process> p;
  {
    absl::MutexLock lock(&registry_mu_);
    if (names_.contains(name) || directory_.NodeOfName(name)) {
      return absl::AlreadyExistsError(absl::StrCat("a server named \"", name, "\" already exists"));
    }
    auto it = processes_.find(pid.id);
    if (it == processes_.end() || it->second->dead()) {
      return absl::NotFoundError(absl::StrCat("no process ", pid.ToString()));
    }
    p = it->second;
    if (!p->name().empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat(pid.ToString(), " is already registered as \"", p->name(), "\""));
    }
    names_.emplace(name, pid.id);
    NamesChanged();
    p->set_name(name);
  }
  BroadcastNames({name}, {});
  return absl::OkStatus();
}

absl::Status NodeCore::Unregister(const std::string& name) {
  {
    absl::MutexLock lock(&registry_mu_);
    auto it = names_.find(name);
    if (it == names_.end()) {
      return absl::NotFoundError(absl::StrCat("no server named \"", name, "\" on this node"));
    }
    auto p = processes_.find(it->second);
    if (p != processes_.end()) p->second->set_name("");
    names_.erase(it);
    NamesChanged();
  }
  BroadcastNames({}, {name});
  return absl::OkStatus();
}

absl::StatusOr<Pid> NodeCore::WhereIs(const std::string& name) const {
  {
    absl::ReaderMutexLock lock(&registry_mu_);
    auto it = names_.find(name);
    if (it != names_.end()) return Pid{name_, it->second};
  }
  if (auto node = directory_.NodeOfName(name)) return Pid{*node, 0};
  return absl::NotFoundError(absl::StrCat("no server named \"", name, "\" in the cluster"));
}

std::vector<std::string> NodeCore::RegisteredNames() const {
  absl::ReaderMutexLock lock(&registry_mu_);
  std::vector<std::string> out;
  for (const auto& [n, pid] : names_) out.push_back(n);
  std::sort(out.begin(), out.end());
  return out;
}

size_t NodeCore::process_count() const {
  absl::ReaderMutexLock lock(&registry_mu_);
  return processes_.size();
}

absl::Status NodeCore::StopProcess(const Target& target, absl::Status reason,
                                   absl::Duration timeout, std::shared_ptr<CallSlot> done) {
  std::shared_ptr<Process> p;
  if (target.is_name()) {
    p = FindLocalByName(target.name());
  } else if (target.pid().node == name_) {
    p = FindLocal(target.pid().id);
  }
  if (!p) return absl::NotFoundError(absl::StrCat("no local process ", target.ToString()));
  std::weak_ptr<Process> weak = p;
  timers_.Schedule(bus::Now() + timeout, [weak, done] {
    if (done->done()) return;
    if (auto sp = weak.lock()) sp->Kill();
    done->Complete(absl::DeadlineExceededError("process did not stop in time and was killed"));
  });
  p->RequestStop(std::move(reason), std::move(done));
  return absl::OkStatus();
}

// --- Messages ---

absl::StatusOr<std::string> NodeCore::Resolve(const Target& target) const {
  if (!target.is_name()) {
    const Pid& pid = target.pid();
    if (pid.node.empty() || pid.node == name_) return std::string();
    if (!directory_.Known(pid.node)) {
      return absl::UnavailableError(absl::StrCat("node \"", pid.node, "\" is not connected"));
    }
    return pid.node;
  }
  // Versions first: a change after this point makes what is stored stale.
  const RouteCache::Versions now = route_versions();
  // A cached entry's node is "" for a local server, as below.
  if (const RouteCache::Entry* e = RouteCache::Find(now, target.name())) return e->node;
  {
    absl::ReaderMutexLock lock(&registry_mu_);
    if (names_.contains(target.name())) return std::string();
  }
  std::string node, endpoint;
  if (directory_.Lookup(target.name(), &node, &endpoint)) {
    if (!endpoint.empty()) RouteCache::StoreRemote(now, target.name(), node, endpoint);
    return node;
  }
  return absl::NotFoundError(
      absl::StrCat("no server named \"", target.name(), "\" in the cluster"));
}

const RouteCache::Entry* NodeCore::CachedRemote(const Target& target) const {
  if (!target.is_name()) return nullptr;
  const RouteCache::Entry* e = RouteCache::Find(route_versions(), target.name());
  return e != nullptr && !e->node.empty() ? e : nullptr;
}

RouteCache::Versions NodeCore::route_versions() const {
  return {instance_, names_version_.load(std::memory_order_acquire), directory_.version()};
}

void NodeCore::NamesChanged() { names_version_.fetch_add(1, std::memory_order_acq_rel); }

LetterPtr NodeCore::MakeLetter(wire::Kind kind, const Pid& sender, const Target& target,
                               Message message, const TraceContext* parent) const {
  LetterPtr l = NewLetter();
  l->kind = kind;
  l->message = std::move(message);
  l->sender = sender;
  if (l->sender.node.empty()) l->sender.node = name_;
  if (target.is_name()) {
    l->to_name = target.name();
  } else {
    l->to_pid = target.pid().id;
  }
  l->trace = ChildTrace(parent);
  return l;
}

absl::Status NodeCore::CheckMessageSize(size_t bytes) const {
  if (static_cast<int64_t>(bytes) <= options_.max_message_bytes) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat("message of ", bytes,
                                                   " bytes is over the limit of ",
                                                   options_.max_message_bytes, " bytes"));
}

absl::StatusOr<std::shared_ptr<Process>> NodeCore::LocalRecipient(const Letter& l) const {
  std::shared_ptr<Process> p = l.to_name.empty() ? FindLocal(l.to_pid) : FindLocalByName(l.to_name);
  if (p) return p;
  return absl::NotFoundError(
      l.to_name.empty() ? absl::StrCat("no process <", name_, ".", l.to_pid, ">")
                        : absl::StrCat("no server named \"", l.to_name, "\" in the cluster"));
}

absl::Status NodeCore::Route(LetterPtr letter, const std::string& to_node, Process* caller) {
  POLIS_RETURN_IF_ERROR(CheckMessageSize(letter->message.bytes().size()));
  if (!to_node.empty()) return SendRemote(to_node, std::move(letter), caller);
  POLIS_ASSIGN_OR_RETURN(std::shared_ptr<Process> p, LocalRecipient(*letter));
  p->Deliver(std::move(letter));
  return absl::OkStatus();
}

absl::Status NodeCore::RouteTo(const Target& target, LetterPtr letter, Process* caller) {
  POLIS_RETURN_IF_ERROR(CheckMessageSize(letter->message.bytes().size()));
  if (const RouteCache::Entry* e = CachedRemote(target)) {  // No locks.
    return SendRemote(e->node, std::move(letter), caller);
  }
  if (target.is_name()) {
    if (std::shared_ptr<Process> p = FindLocalByName(target.name())) {
      p->Deliver(std::move(letter));
      return absl::OkStatus();
    }
  }
  POLIS_ASSIGN_OR_RETURN(std::string node, Resolve(target));
  return Route(std::move(letter), node, caller);
}

absl::Status NodeCore::Tell(wire::Kind kind, Process* sender, const Target& target,
                           const google::protobuf::Message& message) {
  if (OnIoThread()) {
    if (const RouteCache::Entry* e = CachedRemote(target)) {
      return TellRemote(kind, sender, target.name(), *e, message);
    }
  }
  const Pid from = sender ? sender->pid() : node_pid_;
  const TraceContext* parent = sender ? &sender->current_trace() : nullptr;
  return RouteTo(target, MakeLetter(kind, from, target, Message::From(message), parent), sender);
}

absl::Status NodeCore::SendRemote(const std::string& node, LetterPtr letter, Process* caller) {
  const bool is_call = letter->kind == wire::KIND_CALL;
  auto failed = [&](absl::Status s) {
    if (is_call) FailCall(letter->from, s);
    return s;
  };
  std::optional<std::string> looked_up;
  const std::string* endpoint = RouteCache::EndpointOf(route_versions(), node);
  if (endpoint == nullptr) {
    looked_up = directory_.EndpointOf(node);
    if (!looked_up) return failed(absl::UnavailableError(absl::StrCat("node \"", node, "\" is down")));
    endpoint = &*looked_up;
  }
  if (OnIoThread()) {
    // Encoded into the transport's batch at once, straight from the letter.
    PinToIo(caller);
    absl::Status s = transport_->Send(*endpoint, ViewOf(*letter, node));
    return s.ok() ? s : failed(std::move(s));
  }
  if (scheduler_->CurrentWorker() >= 0) {
    // A process on another worker: hand to the I/O thread, and pin the
    // process there so its later remote sends leave in order after this one.
    // (What the transport then says reaches a caller only for a call.)
    PinToIo(caller);
    std::shared_ptr<const Letter> l(std::move(letter));
    PostIo([this, ep = *endpoint, node, l, is_call] {
      absl::Status s = transport_->Send(ep, ViewOf(*l, node));
      if (!s.ok() && is_call) FailCall(l->from, s);
    });
    return absl::OkStatus();
  }
  // A plain thread (or the timer thread): its own channel.
  absl::StatusOr<std::shared_ptr<ChannelHolder>> h = channels_->Acquire(*endpoint);
  absl::Status s = h.status();
  if (h.ok()) {
    absl::MutexLock use(&(*h)->use);
    absl::MutexLock life(&(*h)->life);
    s = (*h)->channel ? (*h)->channel->Send(ViewOf(*letter, node))
                      : absl::UnavailableError("channel closed");
  }
  return s.ok() ? s : failed(std::move(s));
}

absl::Status NodeCore::TellRemote(wire::Kind kind, Process* sender, const std::string& name,
                                  const RouteCache::Entry& route,
                                  const google::protobuf::Message& message) {
  // Same checks and envelope as MakeLetter + Route + ViewOf, without the
  // Letter and the payload buffer: the payload is serialized straight into
  // the connection's batch.
  POLIS_RETURN_IF_ERROR(CheckMessageSize(message.ByteSizeLong()));
  PinToIo(sender);
  const TraceContext trace = ChildTrace(sender != nullptr ? &sender->current_trace() : nullptr);
  bus::EnvelopeView v =
      RemoteView(kind, sender != nullptr ? sender->pid() : node_pid_, route.node, name, trace);
  v.type = message.GetDescriptor()->full_name();
  v.payload_message = &message;
  return transport_->Send(route.endpoint, v);
}

void NodeCore::PinToIo(Process* p) {
  // Only a load on the hot path: the flag is set once, never cleared.
  if (p != nullptr && !p->pinned().load(std::memory_order_relaxed)) p->pinned().store(true);
}

void NodeCore::FailCall(const From& from, const absl::Status& status) {
  if (from.node == name_) {
    if (auto slot = calls_.Take(from.ref)) slot->Complete(status);
  }
}

void NodeCore::SendReply(const From& from, const absl::Status& status, const Message& reply,
                         const TraceContext& trace) {
  if (!from.valid()) return;
  if (from.node == name_ || from.node.empty()) {
    if (auto slot = calls_.Take(from.ref)) {
      if (status.ok()) {
        slot->Complete(reply);
      } else {
        slot->Complete(status);
      }
    }
    return;
  }
  const TraceContext child{.trace_id = trace.trace_id,
                           .span_id = RandomId(),
                           .parent_span_id = trace.span_id};
  absl::Status wire_status;  // OK for a reply with a message.
  if (const absl::string_view m = status.message();
      !status.ok() && !bus::IsValidUtf8(std::string_view(m.data(), m.size()))) {
    // The wire's status_message is a proto3 string: a message of raw bytes
    // would make the whole reply unparsable and the caller wait it out.
    wire_status = absl::Status(status.code(),
                               bus::ToValidUtf8(std::string_view(m.data(), m.size())));
    status.ForEachPayload([&wire_status](absl::string_view url, const absl::Cord& value) {
      wire_status.SetPayload(url, value);  // the details go too
    });
  } else {
    wire_status = status;
  }
  // A server replying remotely is pinned to the I/O thread like any remote
  // sender, so its next replies leave without a hand-off.
  if (scheduler_->CurrentWorker() >= 0) PinToIo(Scheduler::CurrentProcess());
  if (OnIoThread()) {
    TransmitReply(from, wire_status, reply, child);
    return;
  }
  struct Parts {
    From to;
    absl::Status status;
    Message reply;
    TraceContext trace;
  };
  auto parts = std::make_shared<const Parts>(
      Parts{from, std::move(wire_status), status.ok() ? reply : Message(), child});
  PostIo([this, parts] { TransmitReply(parts->to, parts->status, parts->reply, parts->trace); });
}

void NodeCore::TransmitReply(const From& to, const absl::Status& status, const Message& reply,
                             const TraceContext& trace) {
  bus::EnvelopeView v = RemoteView(wire::KIND_REPLY, node_pid_, to.node, /*name=*/"", trace);
  v.recipient.pid = to.pid;
  v.ref = to.ref;
  if (status.ok()) {
    v.type = reply.type();
    v.payload = reply.bytes();
  } else {
    v.status_code = static_cast<int32_t>(status.code());
    const absl::string_view m = status.message();
    v.status_message = std::string_view(m.data(), m.size());
    v.status_details = bus::StatusDetailsView(status);  // its payloads; `status` outlives v
  }
  absl::Status s;
  if (!to.return_path.empty()) {
    s = transport_->Reply(bus::ReturnPath{to.return_path}, v);
  } else if (auto ep = directory_.EndpointOf(to.node)) {
    s = transport_->Send(*ep, v);
  } else {
    s = absl::UnavailableError(absl::StrCat("node \"", to.node, "\" is gone"));
  }
  if (!s.ok()) POLIS_LOG(DEBUG) << "polis: reply to " << to.node << " dropped: " << s;
}

void NodeCore::NotifyDown(const Pid& watcher, uint64_t ref, const Pid& process,
                          const std::string& name, const absl::Status& reason) {
  wire::ProcessDown down;
  down.mutable_process()->set_node(process.node);
  down.mutable_process()->set_pid(process.id);
  down.mutable_process()->set_name(name);
  down.set_monitor_ref(ref);
  down.set_status_code(static_cast<int32_t>(reason.code()));
  down.set_status_message(std::string(reason.message()));
  absl::Status s = Route(
      MakeLetter(wire::KIND_INFO, process, Target(watcher), Message::From(down), nullptr), "",
      nullptr);
  (void)s;  // The watcher may be gone too.
}

}  // namespace polis::internal

extern "C" void polis_dump_all_nodes() { polis::internal::DumpAllNodes(); }
