// Router: casts, sends and replies, local and remote, and inbound delivery.
// Calls and timers are in router_calls.cc.
#include "node/internal/router.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "base/utf8.h"
#include "base/clock.h"
#include "base/trace_context.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "node/internal/outgoing.h"
#include "node/internal/process.h"

namespace polis::internal {

Router::Router(const Parts& parts)
    : self_(*parts.self),
      max_message_bytes_(parts.max_message_bytes),
      registry_(*parts.registry),
      directory_(*parts.directory),
      calls_(*parts.calls),
      timers_(*parts.timers),
      io_(*parts.io),
      channels_(*parts.channels),
      scheduler_(*parts.scheduler),
      tracer_(*parts.tracer) {}

absl::StatusOr<std::string> Router::Resolve(const Target& target) const {
  if (!target.is_name()) {
    const Pid& pid = target.pid();
    if (pid.node.empty() || pid.node == self_.name) return std::string();
    if (!directory_.Known(pid.node)) {
      return absl::UnavailableError(absl::StrCat("node \"", pid.node, "\" is not connected"));
    }
    return pid.node;
  }
  // Versions first: a change after this point makes what is stored stale.
  const RouteCache::Versions now = registry_.versions();
  // A cached entry's node is "" for a local server, as below.
  if (const RouteCache::Entry* e = RouteCache::Find(now, target.name())) return e->node;
  if (registry_.HasName(target.name())) return std::string();
  std::string node, endpoint;
  if (directory_.Lookup(target.name(), &node, &endpoint)) {
    if (!endpoint.empty()) RouteCache::StoreRemote(now, target.name(), node, endpoint);
    return node;
  }
  return absl::NotFoundError(
      absl::StrCat("no server named \"", target.name(), "\" in the cluster"));
}

const RouteCache::Entry* Router::CachedRemote(const Target& target) const {
  if (!target.is_name()) return nullptr;
  const RouteCache::Entry* e = RouteCache::Find(registry_.versions(), target.name());
  return e != nullptr && !e->node.empty() ? e : nullptr;
}

const TraceContext* Router::ParentOf(Process* sender) {
  return sender != nullptr ? &sender->current_trace() : base::CurrentTrace();
}

LetterPtr Router::MakeLetter(wire::Kind kind, const Pid& sender, const Target& target,
                             Message message, const TraceContext* parent) const {
  LetterPtr l = NewLetter();
  l->message = std::move(message);
  FillLetter(*l, kind, sender, target, parent);
  return l;
}

LetterPtr Router::MakeLetter(wire::Kind kind, const Pid& sender, const Target& target,
                             const google::protobuf::Message& message,
                             const TraceContext* parent) const {
  LetterPtr l = NewLetter();
  l->message = Message::From(message, std::move(l->message.mutable_bytes()));
  FillLetter(*l, kind, sender, target, parent);
  return l;
}

void Router::FillLetter(Letter& l, wire::Kind kind, const Pid& sender, const Target& target,
                        const TraceContext* parent) const {
  l.kind = kind;
  l.sender = sender;
  if (l.sender.node.empty()) l.sender.node = self_.name;
  if (target.is_name()) {
    l.to_name = target.name();
  } else {
    l.to_pid = target.pid().id;
  }
  l.trace = tracer_.Child(parent);
}

absl::Status Router::CheckMessageSize(size_t bytes) const {
  if (static_cast<int64_t>(bytes) <= max_message_bytes_) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "message of ", bytes, " bytes is over the limit of ", max_message_bytes_, " bytes"));
}

absl::StatusOr<std::shared_ptr<Process>> Router::LocalRecipient(const Letter& l) const {
  std::shared_ptr<Process> p =
      l.to_name.empty() ? registry_.Find(l.to_pid) : registry_.FindByName(l.to_name);
  if (p) return p;
  return l.to_name.empty()
             ? absl::NotFoundError(absl::StrCat("no process <", self_.name, ".", l.to_pid, ">"))
             : NotHostedHere(l.to_name);
}

absl::Status Router::NotHostedHere(const std::string& name) const {
  std::string node, endpoint;
  if (directory_.Lookup(name, &node, &endpoint) && node != self_.name) {
    return absl::NotFoundError(absl::StrCat(
        "no server named \"", name, "\" on node ", self_.name, "; it is on node ", node,
        endpoint.empty() ? "" : absl::StrCat(" (", endpoint, ")"),
        ": a client connects to the node that hosts a name"));
  }
  return absl::NotFoundError(absl::StrCat("no server named \"", name, "\" in the cluster"));
}

absl::Status Router::Route(LetterPtr letter, const std::string& to_node, Process* caller) {
  POLIS_RETURN_IF_ERROR(CheckMessageSize(letter->message.bytes().size()));
  if (!to_node.empty()) return SendRemote(to_node, std::move(letter), caller);
  POLIS_ASSIGN_OR_RETURN(std::shared_ptr<Process> p, LocalRecipient(*letter));
  p->Deliver(std::move(letter));
  return absl::OkStatus();
}

absl::Status Router::RouteTo(const Target& target, LetterPtr letter, Process* caller,
                             const RouteCache::Entry* route) {
  POLIS_RETURN_IF_ERROR(CheckMessageSize(letter->message.bytes().size()));
  if (route != nullptr) {  // The thread's memo: no locks, no second lookup.
    if (!route->node.empty()) return SendRemote(route->node, std::move(letter), caller);
    if (std::shared_ptr<Process> p = route->local.lock()) {
      p->Deliver(std::move(letter));
      return absl::OkStatus();
    }
  }
  if (target.is_name()) {
    if (std::shared_ptr<Process> p = registry_.FindByName(target.name())) {
      p->Deliver(std::move(letter));
      return absl::OkStatus();
    }
  }
  POLIS_ASSIGN_OR_RETURN(std::string node, Resolve(target));
  return Route(std::move(letter), node, caller);
}

absl::Status Router::Tell(wire::Kind kind, Process* sender, const Target& target,
                          const google::protobuf::Message& message) {
  // One memo lookup serves both paths below (the memo is this thread's:
  // nothing in between touches it).
  const RouteCache::Entry* route =
      target.is_name() ? RouteCache::Find(registry_.versions(), target.name()) : nullptr;
  if (route != nullptr && !route->node.empty() && io_.OnIoThread()) {
    return TellRemote(kind, sender, target.name(), *route, message);
  }
  const Pid& from = sender ? sender->pid() : self_.pid;
  return RouteTo(target, MakeLetter(kind, from, target, message, ParentOf(sender)), sender, route);
}

absl::Status Router::SendRemote(const std::string& node, LetterPtr letter, Process* caller) {
  const bool is_call = letter->kind == wire::KIND_CALL;
  auto failed = [&](absl::Status s) {
    if (is_call) FailCall(letter->from, s);
    return s;
  };
  std::optional<std::string> looked_up;
  const std::string* endpoint = RouteCache::EndpointOf(registry_.versions(), node);
  if (endpoint == nullptr) {
    looked_up = directory_.EndpointOf(node);
    if (!looked_up) {
      return failed(absl::UnavailableError(absl::StrCat("node \"", node, "\" is down")));
    }
    endpoint = &*looked_up;
  }
  if (io_.OnIoThread()) {
    // Encoded into the transport's batch at once, straight from the letter.
    PinToIo(caller);
    absl::Status s = io_.transport().Send(*endpoint, OutgoingEnvelope::Of(*letter, node).view());
    return s.ok() ? s : failed(std::move(s));
  }
  if (scheduler_.CurrentWorker() >= 0) {
    // A process on another worker: hand to the I/O thread, and pin the
    // process there so its later remote sends leave in order after this one.
    // (What the transport then says reaches a caller only for a call.)
    PinToIo(caller);
    std::shared_ptr<const Letter> l(std::move(letter));
    io_.Post([this, ep = *endpoint, node, l, is_call] {
      absl::Status s = io_.transport().Send(ep, OutgoingEnvelope::Of(*l, node).view());
      if (!s.ok() && is_call) FailCall(l->from, s);
    });
    return absl::OkStatus();
  }
  // A plain thread (or the timer thread): its own channel.
  absl::StatusOr<std::shared_ptr<ChannelHolder>> h = channels_.Acquire(*endpoint);
  absl::Status s = h.status();
  if (h.ok()) {
    {
      absl::MutexLock use(&(*h)->use);
      absl::MutexLock life(&(*h)->life);
      s = (*h)->channel ? (*h)->channel->Send(OutgoingEnvelope::Of(*letter, node).view())
                        : absl::UnavailableError("channel closed");
    }
    // A lost connection: the next send opens a new channel.
    if (absl::IsUnavailable(s)) channels_.Discard(*endpoint, *h);
  }
  return s.ok() ? s : failed(std::move(s));
}

absl::Status Router::TellRemote(wire::Kind kind, Process* sender, const std::string& name,
                                const RouteCache::Entry& route,
                                const google::protobuf::Message& message) {
  // The letter's envelope without the Letter and its payload buffer: the
  // payload is serialized straight into the connection's batch.
  POLIS_RETURN_IF_ERROR(CheckMessageSize(message.ByteSizeLong()));
  PinToIo(sender);
  const TraceContext trace = tracer_.Child(ParentOf(sender));
  OutgoingEnvelope out(kind, sender != nullptr ? sender->pid() : self_.pid, route.node, trace);
  out.To(name).Carrying(message);
  return io_.transport().Send(route.endpoint, out.view());
}

void Router::PinToIo(Process* p) {
  // Only a load on the hot path: the flag is set once, never cleared.
  if (p != nullptr && !p->pinned().load(std::memory_order_relaxed)) p->pinned().store(true);
}

void Router::FailCall(const From& from, const absl::Status& status) {
  if (from.node == self_.name) {
    if (auto slot = calls_.Take(from.ref)) slot->Complete(status);
  }
}

void Router::SendReply(const From& from, const absl::Status& status, const Message& reply,
                       const TraceContext& trace) {
  if (!from.valid()) return;
  // A call that came in on a connection (a return path) is answered on it,
  // whatever its reply_to says: a caller may leave reply_to empty, and one
  // naming this node must not complete a call of this node's own.
  if (from.return_path.empty() && (from.node == self_.name || from.node.empty())) {
    if (auto slot = calls_.Take(from.ref)) {
      if (status.ok()) {
        slot->Complete(reply);
      } else {
        slot->Complete(status);
      }
    }
    return;
  }
  // Not Tracer::Child: a reply to an untraced call stays untraced, with no
  // trace context at all (no trace id, span id, parent or flags): a W3C
  // context is whole or absent.
  TraceContext child;
  if (!trace.trace_id.empty()) {
    child = TraceContext{.trace_id = trace.trace_id,
                         .span_id = RandomId(),
                         .parent_span_id = trace.span_id,
                         .sampled = trace.sampled};
  }
  absl::Status wire_status;  // OK for a reply with a message.
  if (const absl::string_view m = status.message();
      !status.ok() && !base::IsValidUtf8(std::string_view(m.data(), m.size()))) {
    // The wire's status_message is a proto3 string: a message of raw bytes
    // would make the whole reply unparsable and the caller wait it out.
    wire_status =
        absl::Status(status.code(), base::ToValidUtf8(std::string_view(m.data(), m.size())));
    status.ForEachPayload([&wire_status](absl::string_view url, const absl::Cord& value) {
      wire_status.SetPayload(url, value);  // the details go too
    });
  } else {
    wire_status = status;
  }
  // A server replying remotely is pinned to the I/O thread like any remote
  // sender, so its next replies leave without a hand-off.
  if (scheduler_.CurrentWorker() >= 0) PinToIo(Scheduler::CurrentProcess());
  if (io_.OnIoThread()) {
    TransmitReply(from, wire_status, reply, child);
    return;
  }
  struct Answer {
    From to;
    absl::Status status;
    Message reply;
    TraceContext trace;
  };
  auto answer = std::make_shared<const Answer>(
      Answer{from, std::move(wire_status), status.ok() ? reply : Message(), child});
  io_.Post([this, answer] {
    TransmitReply(answer->to, answer->status, answer->reply, answer->trace);
  });
}

void Router::TransmitReply(const From& to, const absl::Status& status, const Message& reply,
                           const TraceContext& trace) {
  OutgoingEnvelope out(wire::KIND_REPLY, self_.pid, to.node, trace);
  out.Answering(to, status, reply);
  // A reply (or an error's details) over the size limit would be refused by
  // the transport and the caller would wait out its deadline: it gets the
  // error instead.
  absl::Status too_big;
  // Sized exactly only if a cheap upper bound of the size is over.
  const bool maybe_too_big =
      static_cast<int64_t>(bus::EncodedSizeBound(out.view())) > max_message_bytes_;
  if (const size_t size = maybe_too_big ? bus::EncodedSize(out.view()) : 0;
      static_cast<int64_t>(size) > max_message_bytes_) {
    too_big = absl::ResourceExhaustedError(absl::StrCat(
        "the reply of ", size, " bytes is over the limit of ", max_message_bytes_, " bytes"));
    out = OutgoingEnvelope(wire::KIND_REPLY, self_.pid, to.node, trace);
    out.Answering(to, too_big, Message());
  }
  absl::Status s;
  if (!to.return_path.empty()) {
    s = io_.transport().Reply(bus::ReturnPath{to.return_path}, out.view());
  } else if (auto ep = directory_.EndpointOf(to.node)) {
    s = io_.transport().Send(*ep, out.view());
  } else {
    s = absl::UnavailableError(absl::StrCat("node \"", to.node, "\" is gone"));
  }
  if (!s.ok()) POLIS_LOG(DEBUG) << "polis: reply to " << to.node << " dropped: " << s;
}

void Router::NotifyDown(const Pid& watcher, uint64_t ref, const Pid& process,
                        const std::string& name, const absl::Status& reason) {
  wire::ProcessDown down;
  down.mutable_process()->set_node(process.node);
  down.mutable_process()->set_pid(process.id);
  down.mutable_process()->set_name(name);
  down.set_monitor_ref(ref);
  down.set_status_code(static_cast<int32_t>(reason.code()));
  down.set_status_message(std::string(reason.message()));
  Inform(process, watcher, down);
}

void Router::Inform(const Pid& from, const Pid& to, const google::protobuf::Message& info) {
  const std::string& node = to.node == self_.name ? std::string() : to.node;
  LetterPtr letter = MakeLetter(wire::KIND_INFO, from, Target(to), info, nullptr);
  letter->runtime_notice = true;
  // Between nodes a notice travels as KIND_SYSTEM: the receiving node trusts
  // it only from a node peer, about that peer's own process
  // (NodeCore::OnRuntimeNotice); a KIND_INFO of the same type is a user's.
  if (!node.empty()) letter->kind = wire::KIND_SYSTEM;
  absl::Status s = Route(std::move(letter), node, nullptr);
  (void)s;  // The recipient may be gone.
}

void Router::DeliverInbound(LetterPtr letter) {
  // A message that came with no trace context (a client that sets none)
  // starts a trace here, sampled by this node.
  if (letter->trace.trace_id.empty()) letter->trace = tracer_.Root();
  absl::Status size = CheckMessageSize(letter->message.bytes().size());
  const RouteCache::Versions versions = registry_.versions();  // before any lookup
  if (size.ok() && inbound_.process && letter->to_name == inbound_.name &&
      inbound_.versions == versions) {
    inbound_.process->Deliver(std::move(letter));
    return;
  }
  absl::StatusOr<std::shared_ptr<Process>> p = size.ok() ? LocalRecipient(*letter) : size;
  if (p.ok()) {
    if (!letter->to_name.empty()) {
      inbound_.versions = versions;
      inbound_.name = letter->to_name;
      inbound_.process = *p;
    }
    (*p)->Deliver(std::move(letter));
    return;
  }
  // A caller is told of the miss; a cast or info has no one to tell.
  if (letter->kind == wire::KIND_CALL) {
    SendReply(letter->from, p.status(), Message(), letter->trace);
  }
}

bool Router::DeliverReply(const bus::EnvelopeView& envelope, std::string_view dialed) {
  bool foreign = false;
  std::shared_ptr<CallSlot> slot = calls_.TakeReply(envelope.ref, dialed, &foreign);
  if (!slot && (foreign || dialed.empty())) {
    // Not from the node the call went to: someone guessing refs. The call
    // waits on for its real reply.
    const uint64_t n = refused_replies_.fetch_add(1, std::memory_order_relaxed) + 1;
    uint64_t suppressed = 0;
    if (refused_replies_log_.Admit("reply", base::Now(), &suppressed)) {
      POLIS_LOG(WARNING) << "polis: refused a reply that did not come from the called node ("
                         << (dialed.empty() ? std::string("on the listening socket")
                                            : absl::StrCat("from ", absl::string_view(dialed.data(), dialed.size())))
                         << "); " << n << " so far" << base::Suppressed(suppressed);
    }
    return false;
  }
  if (!slot) return true;  // Late (after the deadline) or duplicate: dropped.
  slot->Complete(ReplyOf(envelope));
  return true;
}

}  // namespace polis::internal
