// NodeCore: builds the parts, dispatches what arrives, starts and stops.
#include "node/internal/node_core.h"

#include <cstdio>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "bus/inproc_transport.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "bus/zmq_transport.h"
#include "node/internal/heartbeat_detector.h"
#include "node/internal/membership_gate.h"
#include "node/internal/process.h"

namespace polis::internal {
namespace {

// Numbers NodeCore instances for RouteCache (never 0, never reused).
std::atomic<uint64_t> next_instance{0};

bool IsInProc(const std::string& endpoint) { return absl::StartsWith(endpoint, "inproc://"); }

// A dns: seed's CURVE key (pinned under the seed spec itself, NodeOptions::
// seeds) pinned for each address it resolved to, on the polis-seeds thread
// (SetServerKey is thread-safe), before the addresses are dialed. Without
// one, the default server key (if any) applies as before.
void PinDnsSeedKey(bus::CurveSecurity* curve, const std::string& spec,
                   const std::vector<std::string>& addresses) {
  if (curve == nullptr) return;
  const std::string key = curve->PinnedKey(spec);
  if (key.empty()) return;
  for (const std::string& address : addresses) {
    if (curve->PinnedKey(address) != key) (void)curve->SetServerKey(address, key);
  }
}

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
  zo.curve = o.curve;
  if (!o.client && !o.listen.empty()) {
    // Heartbeat datagrams detect a dead or frozen peer (HeartbeatDetector);
    // ZMTP heartbeats ride the data connection, where a flood can delay a
    // PONG, so they stay only as a slow backstop.
    zo.heartbeat_timeout = std::max(absl::Seconds(10), 4 * o.failure_timeout);
  }
  POLIS_ASSIGN_OR_RETURN(auto t, bus::ZmqTransport::Create(zo));
  return std::unique_ptr<bus::Transport>(std::move(t));
}

// Whether the sender of `env` waits for an answer: it has a ref and is not
// a REPLY, CAST or INFO (fire-and-forget: their ref means nothing). Such an
// envelope, when refused, is answered with a REPLY carrying the refusal.
bool ExpectsAnswer(const bus::EnvelopeView& env) {
  return env.ref != 0 && env.kind != wire::KIND_REPLY && env.kind != wire::KIND_CAST &&
         env.kind != wire::KIND_INFO;
}

absl::Mutex all_nodes_mu;
std::vector<NodeCore*>& AllNodes() {
  static auto* nodes = new std::vector<NodeCore*>;
  return *nodes;
}

}  // namespace

// For gdb: `call polis_dump_all_nodes()` prints every process.
void DumpAllNodes() {
  absl::MutexLock lock(&all_nodes_mu);
  for (NodeCore* n : AllNodes()) n->DebugDump();
}

void NodeCore::DebugDump() {
  std::vector<std::shared_ptr<Process>> procs;
  if (registry_) procs = registry_->Processes();
  fprintf(stderr, "node %s: %zu processes\n", self_.name.c_str(), procs.size());
  for (auto& p : procs) fprintf(stderr, "  %s\n", p->DebugString().c_str());
  if (scheduler_) fprintf(stderr, "%s\n", scheduler_->DebugString().c_str());
}

NodeCore::NodeCore(Node* facade, NodeOptions options)
    : facade_(facade), options_(std::move(options)) {
  self_.name = options_.name.empty() ? absl::StrCat("node-", RandomId() % 1000000)
                                     : options_.name;
  self_.pid = Pid{self_.name, 0};
  self_.incarnation = RandomId();
  self_.instance = next_instance.fetch_add(1) + 1;
  self_.client = options_.client;
  self_.curve = options_.curve;
  self_.started_unix_ns = absl::ToUnixNanos(absl::Now());
  self_.max_message_bytes = options_.max_message_bytes;
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
  POLIS_RETURN_IF_ERROR(CheckUtf8Name("node name", self_.name));
  bool dns_seeds = false;
  for (const std::string& seed : options_.seeds) {
    if (IsInProc(seed)) continue;
    POLIS_RETURN_IF_ERROR(ValidateSeedSpec(seed));
    dns_seeds = dns_seeds || IsDnsSeed(seed);
  }
  if (options_.transport) {
    transport_ = std::move(options_.transport);
  } else {
    POLIS_ASSIGN_OR_RETURN(transport_, MakeTransport(options_));
  }
  if (!options_.listen.empty()) {
    if (options_.client) return absl::InvalidArgumentError("a client node does not listen");
    POLIS_ASSIGN_OR_RETURN(std::string bound, transport_->Listen(options_.listen));
    if (!options_.advertise.empty()) {
      self_.endpoint = options_.advertise;
    } else if (absl::StrContains(bound, "://0.0.0.0:") || absl::StrContains(bound, "://[::]:")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listening on ", bound, " (all interfaces): set advertise (--advertise=tcp://HOST:PORT) "
          "to the address peers should use"));
    } else {
      self_.endpoint = bound;
    }
  }
  int threads = options_.scheduler_threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  scheduler_ = std::make_unique<Scheduler>(this, threads);
  set_scheduler(scheduler_.get());
  tracer_ = std::make_unique<Tracer>(self_.name, options_.trace, scheduler_.get());
  set_tracer(tracer_.get());
  io_ = std::make_unique<IoThread>(transport_.get(), scheduler_.get());
  channels_ = std::make_unique<ChannelPool>(transport_.get());
  registry_ = std::make_unique<Registry>(&self_, &directory_);
  router_ = std::make_unique<Router>(Router::Parts{.self = &self_,
                                                   .max_message_bytes = options_.max_message_bytes,
                                                   .registry = registry_.get(),
                                                   .directory = &directory_,
                                                   .calls = &calls_,
                                                   .timers = &timers_,
                                                   .io = io_.get(),
                                                   .channels = channels_.get(),
                                                   .scheduler = scheduler_.get(),
                                                   .tracer = tracer_.get()});
  trust_ = std::make_unique<TrustGate>(TrustGate::Parts{
      .registry = registry_.get(), .directory = &directory_, .self = &self_});
  membership_ = std::make_unique<Membership>(
      Membership::Parts{.self = &self_,
                        .directory = &directory_,
                        .registry = registry_.get(),
                        .calls = &calls_,
                        .io = io_.get(),
                        .timers = &timers_,
                        .observer = this},
      MembershipOptions{.seeds = options_.seeds});
  monitors_ = std::make_unique<Monitors>(Monitors::Parts{.self = &self_,
                                                         .registry = registry_.get(),
                                                         .directory = &directory_,
                                                         .router = router_.get(),
                                                         .io = io_.get()});
  registry_->set_listener(membership_.get());
  if (!self_.client && (absl::StartsWith(self_.endpoint, "tcp://") ||
                        absl::StartsWith(self_.endpoint, "ipc://"))) {
    bus::HeartbeatOptions ho;
    ho.interval = options_.heartbeat_interval;
    ho.timeout = options_.failure_timeout;
    POLIS_ASSIGN_OR_RETURN(std::unique_ptr<HeartbeatDetector> d,
                           HeartbeatDetector::Create(self_, ho, membership_.get()));
    membership_->set_detector(d.get());
    detector_ = std::move(d);
  }
  scheduler_->Start();
  membership_->Start();
  if (dns_seeds) {
    POLIS_ASSIGN_OR_RETURN(
        seed_resolver_,
        SeedResolver::Create(
            options_.seeds, kDefaultSeedRefresh,
            [this](std::vector<std::string> endpoints) {
              io_->Post([this, endpoints = std::move(endpoints)]() mutable {
                membership_->SetSeeds(std::move(endpoints));
              });
            },
            ResolveDnsSeed,
            [curve = self_.curve](const std::string& spec,
                                  const std::vector<std::string>& addresses) {
              PinDnsSeedKey(curve.get(), spec, addresses);
            }));
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
  std::vector<std::shared_ptr<CallSlot>> done;
  for (auto& p : registry_->BeginShutdown()) {
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
  io_->Post([this, bye] {
    membership_->SayGoodbye();
    bye->Complete(Message());
  });
  bye->WaitUntil(base::Now() + absl::Seconds(2));
  // 4. Stop threads and close connections.
  seed_resolver_.reset();
  membership_->Stop();
  scheduler_->Stop();
  membership_->set_detector(nullptr);  // The I/O thread, its only user, stopped.
  detector_.reset();
  timers_.Stop();
  channels_->CloseAll();
  registry_->Clear();
  transport_.reset();
}

// --- Processes ---

absl::StatusOr<std::shared_ptr<Process>> NodeCore::CreateProcess(
    std::unique_ptr<Behaviour> behaviour, const SpawnOptions& options,
    std::shared_ptr<CallSlot> init_slot, Process* monitor_by, uint64_t* monitor_ref) {
  if (!behaviour) return absl::InvalidArgumentError("Spawn: null behaviour");
  POLIS_ASSIGN_OR_RETURN(
      std::shared_ptr<Process> p, registry_->Create(options.name, [&](const Pid& pid) {
        auto made = std::make_shared<Process>(this, this, pid, options.name, options.kind,
                                              std::move(behaviour));
        // Before the process is visible: a message to its name may run it
        // (and its Init) at once, and Init's end must find the slot.
        made->set_init_slot(std::move(init_slot));
        made->set_max_mailbox(options.max_mailbox);
        if (monitor_by != nullptr && monitor_ref != nullptr) {
          *monitor_ref = calls_.NextRef();
          made->AddMonitor(monitor_by->pid(), *monitor_ref);
          monitor_by->track_monitor(*monitor_ref, pid);
        }
        return made;
      }));
  if (p->TryClaim()) Schedule(p);
  return p;
}

absl::Status NodeCore::StopProcess(const Target& target, absl::Status reason,
                                   absl::Duration timeout, std::shared_ptr<CallSlot> done) {
  std::shared_ptr<Process> p;
  if (target.is_name()) {
    p = registry_->FindByName(target.name());
  } else if (target.pid().node == self_.name) {
    p = registry_->Find(target.pid().id);
  }
  if (!p) return absl::NotFoundError(absl::StrCat("no local process ", target.ToString()));
  std::weak_ptr<Process> weak = p;
  timers_.Schedule(base::Now() + timeout, [weak, done] {
    if (done->done()) return;
    if (auto sp = weak.lock()) sp->Kill();
    done->Complete(absl::DeadlineExceededError("process did not stop in time and was killed"));
  });
  p->RequestStop(std::move(reason), std::move(done));
  return absl::OkStatus();
}

absl::StatusOr<Pid> NodeCore::WhereIs(const std::string& name) const {
  if (std::optional<Pid> pid = registry_->PidOf(name)) return *pid;
  if (std::optional<NameClaim> c = directory_.Resolve(name)) return Pid{c->node, c->pid};
  return absl::NotFoundError(absl::StrCat("no server named \"", name, "\" in the cluster"));
}

absl::StatusOr<Pid> NodeCore::AwaitName(const std::string& name, absl::Duration timeout) const {
  const absl::Time deadline = base::Now() + timeout;
  while (true) {
    const uint64_t seen = directory_.version();  // Before the lookup: no change is missed.
    absl::StatusOr<Pid> pid = WhereIs(name);
    if (pid.ok() || base::Now() >= deadline) return pid;
    directory_.AwaitChange(seen, deadline);
  }
}

void NodeCore::OnNameLost(const Pid& loser, const std::string& name, const NameClaim& winner) {
  wire::NameLost lost;
  lost.set_name(name);
  lost.mutable_winner()->set_node(winner.node);
  lost.mutable_winner()->set_name(name);
  lost.mutable_winner()->set_pid(winner.pid);
  lost.mutable_winner()->set_incarnation(winner.incarnation);
  router_->Inform(self_.pid, loser, lost);
}

absl::StatusOr<wire::ServerDescription> NodeCore::Describe(const std::string& name,
                                                           absl::Duration timeout) {
  if (std::shared_ptr<Process> p = registry_->FindByName(name)) {
    wire::ServerDescription d = p->behaviour().Describe();
    d.set_name(name);
    if (d.kind().empty()) d.set_kind(p->kind());
    return d;
  }
  if (timeout == absl::ZeroDuration()) {
    return router_->NotHostedHere(name);
  }
  POLIS_ASSIGN_OR_RETURN(Message m, router_->CallFromThread(
                                        Target(name), Message::From(wire::DescribeRequest()),
                                        timeout, wire::KIND_SYSTEM));
  return m.As<wire::ServerDescription>();
}

void NodeCore::Forget(const Process& p) { registry_->Forget(p); }

void NodeCore::RemoveMonitor(const Pid& target, uint64_t ref) {
  if (target.node != self_.name || target.id == 0) {
    monitors_->Unwatch(ref);  // On another node, or a node monitor.
  } else if (auto p = registry_->Find(target.id)) {
    p->RemoveMonitor(ref);
  }
}

// --- I/O thread ---

void NodeCore::IoRound(absl::Duration block) {
  const bool ran = io_->pending();
  io_->RunPosted();
  transport_->Poll(ran ? absl::ZeroDuration() : block, *this);
  router_->EndOfPoll();  // A server that ends meanwhile is not kept.
}

// Counted by reason and per peer, logged rate-limited: the trust gate is
// the one count and log of what the node refused (trust.h).
void NodeCore::OnBadInput(const absl::Status& why, const bus::Sender& from) {
  trust_->BadInput(why, from);
}

void NodeCore::OnEnvelope(const bus::EnvelopeView& envelope, const bus::ReturnPath& from,
                          absl::Time received, const bus::Sender& sender) {
  // Bad input about this envelope, found here or by a part (membership,
  // monitors): counted, and answered if its sender waits.
  auto bad_input = [&](const absl::Status& why) {
    trust_->BadInput(why, sender, envelope.sender.node);
    AnswerRefused(envelope, from, received, why);
  };
  if (sender.role == bus::PeerRole::kRevoked) {
    // A key removed from the authorized keys since its connection opened
    // (bus/peer.h): nothing it sends is accepted, whatever its old role.
    Refuse(envelope, from, received, sender,
           absl::PermissionDeniedError(
               "this key is no longer in the node's authorized keys (revoked): refused"));
    return;
  }
  switch (envelope.kind) {
    case wire::KIND_REPLY:
      if (!router_->DeliverReply(envelope, sender.dialed)) {  // Only from the called node.
        trust_->Count(absl::PermissionDeniedError("a reply not from the called node"), sender,
                      envelope.sender.node);
      }
      return;
    case wire::KIND_SYSTEM: {
      if (IsMembershipMessage(envelope)) {
        // sec-curve: only from node keys, each about the node whose key
        // sent it (trust.h, membership_gate.h).
        TrustGate::MembershipAdmission admitted;
        if (absl::Status s = trust_->CheckMembership(envelope, sender, &admitted); !s.ok()) {
          Refuse(envelope, from, received, sender, s);
          return;
        }
        membership_->PinKeys(sender, admitted.pin, admitted.listed);
        membership_->HandleSystem(envelope, from, admitted.proved, bad_input);
        return;
      }
      if (TrustGate::IsNoticeType(envelope.type)) {
        // A DOWN from a node about its own process, for a monitor the
        // watcher holds (Process::StaleDown checks): a runtime notice.
        if (absl::Status s = trust_->CheckNotice(envelope, sender); !s.ok()) {
          Refuse(envelope, from, received, sender, s);
          return;
        }
        LetterPtr l = FromView(envelope, from, received);
        l->kind = wire::KIND_INFO;
        l->runtime_notice = true;
        l->from = From();
        router_->DeliverInbound(std::move(l));
        return;
      }
      if (absl::Status s = trust_->CheckSystem(envelope, sender); !s.ok()) {
        Refuse(envelope, from, received, sender, s);
        return;
      }
      absl::Status refused;
      if (monitors_->HandleSystem(envelope, bad_input, &refused)) {
        if (!refused.ok()) AnswerRefused(envelope, from, received, refused);
        return;
      }
      if (envelope.type == wire::DescribeRequest::descriptor()->full_name()) {
        HandleDescribe(envelope, from, received);
        return;
      }
      if (envelope.type == wire::NodeInfoRequest::descriptor()->full_name()) {
        HandleNodeInfo(envelope, from, received);
        return;
      }
      if (envelope.type == wire::SpanQuery::descriptor()->full_name()) {
        HandleSpanQuery(envelope, from, received);
        return;
      }
      bad_input(absl::InvalidArgumentError(
          absl::StrCat("unknown system message \"", std::string(envelope.type), "\"")));
      return;
    }
    case wire::KIND_CALL:
      if (envelope.ref == 0) {
        // Nothing can carry its answer back; running it would do its work
        // unseen. (Counted as "other".)
        bad_input(absl::InvalidArgumentError(
            "a call without a ref (0) cannot be answered: refused"));
        return;
      }
      [[fallthrough]];
    case wire::KIND_CAST:
    case wire::KIND_INFO:
      if (absl::Status s = trust_->CheckMessage(envelope, sender); !s.ok()) {
        Refuse(envelope, from, received, sender, s);
        return;
      }
      router_->DeliverInbound(FromView(envelope, from, received));
      return;
    default:
      bad_input(absl::InvalidArgumentError(
          absl::StrCat("envelope of unknown kind ", static_cast<int>(envelope.kind))));
  }
}

void NodeCore::Refuse(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                      absl::Time received, const bus::Sender& sender, const absl::Status& why) {
  trust_->Refused(env, sender, why);
  AnswerRefused(env, from, received, why);
}

void NodeCore::AnswerRefused(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                             absl::Time received, const absl::Status& why) {
  if (!ExpectsAnswer(env)) return;
  LetterPtr l = FromView(env, from, received);
  router_->SendReply(l->from, why, Message(), l->trace);
}

void NodeCore::HandleDescribe(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                              absl::Time received) {
  LetterPtr l = FromView(env, from, received);
  absl::StatusOr<wire::ServerDescription> d = Describe(l->to_name, absl::ZeroDuration());
  router_->SendReply(l->from, d.status(), d.ok() ? Message::From(*d) : Message(), l->trace);
}

}  // namespace polis::internal

extern "C" void polis_dump_all_nodes() { polis::internal::DumpAllNodes(); }
