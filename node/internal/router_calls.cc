// Router, calls and timers: blocking calls from plain threads (local, or
// remote over the thread's own channel), calls from processes (completed
// through their CallSlot), SendAfter and CancelTimer.
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "node/internal/outgoing.h"
#include "node/internal/process.h"
#include "node/internal/router.h"

namespace polis::internal {

absl::Status CallTimedOut(const Target& target, absl::Duration timeout) {
  return absl::DeadlineExceededError(absl::StrCat("call to ", target.ToString(),
                                                  " timed out after ",
                                                  absl::FormatDuration(timeout)));
}

absl::StatusOr<Message> Router::CallFromThread(const Target& target, Message request,
                                               absl::Duration timeout, wire::Kind kind) {
  const TraceContext* parent = base::CurrentTrace();
  if (self_.client) {
    // A client node (polis call) keeps no span anyone could read: its
    // request is a direct child of the caller's context (a traceparent's
    // span, so the trace links to the system that passed it in).
    const TraceContext root =
        parent != nullptr && !parent->trace_id.empty() ? *parent : tracer_.Root();
    return CallFromThreadUnder(root, target, std::move(request), timeout, kind);
  }
  const TraceContext client = tracer_.CallerSpan(parent);
  if (kind != wire::KIND_CALL || !client.sampled) {
    return CallFromThreadUnder(client, target, std::move(request), timeout, kind);
  }
  const std::string* type = request.interned_type();  // Outlives the request.
  const int64_t start_ns = base::NowUnixNanos();
  absl::StatusOr<Message> r = CallFromThreadUnder(client, target, std::move(request), timeout, kind);
  absl::StatusOr<std::string> node = Resolve(target);
  tracer_.RecordSpan(wire::SPAN_KIND_REPLY, client, start_ns, self_.pid, target, node.ok() ? *node : std::string(), type,
                      r.status());
  return r;
}

absl::StatusOr<Message> Router::CallFromThreadUnder(const TraceContext& client,
                                                    const Target& target, Message request,
                                                    absl::Duration timeout, wire::Kind kind) {
  if (scheduler_.CurrentWorker() >= 0) {
    return absl::FailedPreconditionError(
        "a blocking Call from inside a handler would block a scheduler thread; use "
        "co_await Call<Reply>(...) in the handler");
  }
  POLIS_RETURN_IF_ERROR(CheckMessageSize(request.bytes().size()));
  const absl::Time deadline = base::Now() + timeout;
  POLIS_ASSIGN_OR_RETURN(std::string node, Resolve(target));
  const uint64_t ref = calls_.NextRef();
  LetterPtr letter = MakeLetter(kind, self_.pid, target, std::move(request), &client);
  letter->from = From{self_.name, 0, ref, "", deadline};
  if (!node.empty()) return CallOverChannel(target, node, std::move(letter), timeout);

  auto slot = std::make_shared<CallSlot>(ref, "", nullptr);
  calls_.Add(slot);
  absl::Status s = Route(std::move(letter), "", nullptr);
  if (!s.ok()) {
    calls_.Take(ref);
    return s;
  }
  if (slot->WaitUntil(deadline)) return slot->Take();
  // Unless settled concurrently (then that outcome).
  return calls_.Settle(slot, CallTimedOut(target, timeout));
}

absl::StatusOr<Message> Router::CallOverChannel(const Target& target, const std::string& node,
                                                LetterPtr letter, absl::Duration timeout) {
  const uint64_t ref = letter->from.ref;
  const absl::Time deadline = letter->from.deadline;
  std::optional<std::string> endpoint = directory_.EndpointOf(node);
  if (!endpoint) return absl::UnavailableError(absl::StrCat("node \"", node, "\" is down"));
  POLIS_ASSIGN_OR_RETURN(std::shared_ptr<ChannelHolder> holder, channels_.Acquire(*endpoint));
  std::weak_ptr<ChannelHolder> weak = holder;
  auto slot = std::make_shared<CallSlot>(ref, node, [weak] {
    if (auto h = weak.lock()) h->Wake();
  });
  slot->set_endpoint(*endpoint);  // The channel's one peer.
  calls_.Add(slot);
  // The node may have left the view since it was resolved: its calls were
  // failed (Membership removes it from the directory, then fails them), and
  // this one, added too late for that, would wait out its deadline.
  if (!directory_.Known(node) && calls_.Take(ref)) {
    return absl::UnavailableError(absl::StrCat("node \"", node, "\" is down"));
  }
  absl::ReleasableMutexLock use(&holder->use);
  bus::Channel* ch;
  {
    absl::MutexLock life(&holder->life);
    ch = holder->channel.get();
  }
  if (ch == nullptr) {
    calls_.Take(ref);
    return absl::UnavailableError("node is shutting down");
  }
  if (absl::Status s = ch->Send(OutgoingEnvelope::Of(*letter, node).view()); !s.ok()) {
    calls_.Take(ref);
    if (absl::IsUnavailable(s)) {
      use.Release();
      channels_.Discard(*endpoint, holder);
    }
    return s;
  }
  while (!slot->done()) {
    absl::StatusOr<std::optional<bus::EnvelopeView>> in = ch->Recv(deadline);
    if (!in.ok()) {
      // The connection is gone; a node restarted at this endpoint gets a
      // new channel.
      use.Release();
      channels_.Discard(*endpoint, holder);
      // A peer that went away is often noticed twice at once: here, and by
      // membership, which may have taken the call out of the table and not
      // yet completed it. Settle waits for that outcome (UNAVAILABLE too)
      // rather than read an empty one.
      return calls_.Settle(
          slot, absl::Status(in.status().code(), absl::StrCat("node \"", node, "\" is down: ",
                                                             in.status().message())));
    }
    if (in->has_value() && (*in)->kind == wire::KIND_REPLY) (void)DeliverReply(**in, *endpoint);
    if (!slot->done() && base::Now() >= deadline && calls_.Take(ref)) {
      return CallTimedOut(target, timeout);
    }
  }
  return slot->Take();
}

void Router::CallFromProcess(Process* caller, const Target& target, Message request,
                             absl::Duration timeout, std::shared_ptr<CallSlot> slot,
                             wire::Kind kind, const TraceContext& client) {
  const absl::Time deadline = base::Now() + timeout;
  if (io_.OnIoThread()) {
    if (const RouteCache::Entry* e = CachedRemote(target)) {
      CallRemote(caller, *e, target.name(), request, timeout, deadline, std::move(slot), kind,
                 client);
      return;
    }
  }
  absl::StatusOr<std::string> node = Resolve(target);
  if (!node.ok()) {
    slot->Complete(node.status());
    return;
  }
  slot->set_target_node(*node);  // So a peer-down fails it at once.
  if (!node->empty()) {
    // The reply must come back from there (CallTable::TakeReply).
    const std::string* ep = RouteCache::EndpointOf(registry_.versions(), *node);
    if (ep != nullptr) {
      slot->set_endpoint(*ep);
    } else if (std::optional<std::string> looked_up = directory_.EndpointOf(*node)) {
      slot->set_endpoint(std::move(*looked_up));
    }
  }
  const uint64_t ref = calls_.Add(std::move(slot), deadline);  // Gives the call its ref.
  LetterPtr letter = MakeLetter(kind, caller->pid(), target, std::move(request), &client);
  letter->from = From{self_.name, caller->pid().id, ref, "", deadline};
  absl::Status s = Route(std::move(letter), *node, caller);
  if (!s.ok()) {
    if (auto taken = calls_.Take(ref)) taken->Complete(s);
  }
}

void Router::CallRemote(Process* caller, const RouteCache::Entry& route, const std::string& name,
                        const Message& request, absl::Duration timeout, absl::Time deadline,
                        std::shared_ptr<CallSlot> slot, wire::Kind kind,
                        const TraceContext& client) {
  if (absl::Status s = CheckMessageSize(request.bytes().size()); !s.ok()) {
    slot->Complete(std::move(s));
    return;
  }
  // The letter's envelope without the Letter.
  const TraceContext trace = tracer_.Child(&client);
  slot->set_target_node(route.node);  // So a peer-down fails it at once.
  slot->set_endpoint(route.endpoint);   // And only a reply from there completes it.
  PinToIo(caller);
  const uint64_t ref = calls_.Add(std::move(slot), deadline);  // Gives the call its ref.
  OutgoingEnvelope out(kind, caller->pid(), route.node, trace);
  out.To(name).Carrying(request).ExpectingReply(
      ref, self_.name, caller->pid().id, deadline,
      deadline < absl::InfiniteFuture() ? timeout : absl::InfiniteDuration());
  if (absl::Status s = io_.transport().Send(route.endpoint, out.view()); !s.ok()) {
    if (auto taken = calls_.Take(ref)) taken->Complete(std::move(s));
  }
}

absl::StatusOr<TimerRef> Router::SendAfter(absl::Duration delay, const Target& target,
                                           Message message, Process* owner) {
  POLIS_RETURN_IF_ERROR(CheckMessageSize(message.bytes().size()));
  if (delay < absl::ZeroDuration()) delay = absl::ZeroDuration();
  Pid sender = owner ? owner->pid() : self_.pid;
  std::weak_ptr<Process> weak_owner;
  if (owner) weak_owner = owner->shared_from_this();
  auto id = std::make_shared<uint64_t>(0);
  // The timer is a span of the trace that set it (from now until it
  // fires); the info it sends is that span's child.
  const TraceContext timer = tracer_.Child(ParentOf(owner));
  const int64_t set_ns = base::NowUnixNanos();
  auto fire = [this, target, message = std::move(message), sender, weak_owner, id, timer,
               set_ns]() mutable {
    if (auto o = weak_owner.lock()) o->RemoveTimer(*id);
    if (timer.sampled) {
      tracer_.RecordSpan(wire::SPAN_KIND_TIMER, timer, set_ns, sender, target, std::string(),
                         message.interned_type(), absl::OkStatus());
    }
    absl::StatusOr<std::string> node = Resolve(target);
    if (!node.ok()) {
      POLIS_LOG(DEBUG) << "polis: send_after to " << target.ToString()
                       << " dropped: " << node.status();
      return;
    }
    absl::Status s =
        Route(MakeLetter(wire::KIND_INFO, sender, target, std::move(message), &timer), *node,
              nullptr);
    if (!s.ok()) {
      POLIS_LOG(DEBUG) << "polis: send_after to " << target.ToString() << " dropped: " << s;
    }
  };
  *id = timers_.Schedule(base::Now() + delay, std::move(fire));
  if (owner) owner->AddTimer(*id);
  return TimerRef{*id};
}

bool Router::CancelTimer(TimerRef timer, Process* owner) {
  if (!timer.valid()) return false;
  if (owner != nullptr && !owner->RemoveTimer(timer.id)) return false;
  return timers_.Cancel(timer.id);
}

}  // namespace polis::internal
