// NodeInfo: what a node says about itself (see introspection.h), and the
// NodeCore's part — Info (asked here or of a member) and the answer to a
// NodeInfoRequest from the wire.
#include "node/internal/introspection.h"

#include <algorithm>
#include <memory>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/status_macros.h"
#include "node/internal/node_core.h"
#include "node/internal/process.h"

namespace polis::internal {

wire::NodeInfo CollectNodeInfo(const Membership& membership, const Registry& registry) {
  wire::NodeInfo info;
  *info.mutable_self() = membership.SelfEntry();
  membership.FillMembers(&info);
  std::sort(info.mutable_members()->begin(), info.mutable_members()->end(),
            [](const wire::MemberInfo& a, const wire::MemberInfo& b) {
              return std::tie(a.node(), a.endpoint()) < std::tie(b.node(), b.endpoint());
            });
  FillServers(registry, &info);
  return info;
}

void FillServers(const Registry& registry, wire::NodeInfo* info) {
  const size_t first = info->servers_size();
  for (const std::shared_ptr<Process>& p : registry.Processes()) {
    if (p->dead()) continue;
    wire::ServerInfo* s = info->add_servers();
    s->set_name(p->name());
    s->set_pid(p->pid().id);
    s->set_kind(p->kind());
    s->set_mailbox(p->mailbox_length());
    s->set_dropped(p->dropped());
    if (!s->name().empty()) s->set_restarts(std::max(0, registry.Registrations(s->name()) - 1));
  }
  std::sort(info->mutable_servers()->begin() + first, info->mutable_servers()->end(),
            [](const wire::ServerInfo& a, const wire::ServerInfo& b) {
              return std::forward_as_tuple(a.name(), a.pid()) <
                     std::forward_as_tuple(b.name(), b.pid());
            });
}

absl::StatusOr<wire::NodeInfo> NodeCore::Info(const std::string& node, absl::Duration timeout) {
  if (OnWorker()) {
    return absl::FailedPreconditionError(
        "Node::Info would block a scheduler thread; call it from a plain thread");
  }
  if (!node.empty() && node != self_.name) {
    // Pid 0 on `node`: the node itself, which answers a system call by type.
    POLIS_ASSIGN_OR_RETURN(
        Message m,
        router_->CallFromThread(Target(Pid{node, 0}), Message::From(wire::NodeInfoRequest()),
                                timeout, wire::KIND_SYSTEM));
    return m.As<wire::NodeInfo>();
  }
  // Membership's view is the I/O thread's: collected there.
  auto slot = std::make_shared<CallSlot>(0, "", nullptr);
  io_->Post(
      [this, slot] { slot->Complete(Message::From(NodeInfoWithBadInput())); });
  if (!slot->WaitUntil(base::Now() + timeout)) {
    return absl::DeadlineExceededError(absl::StrCat(
        "node ", self_.name, " did not describe itself within ", absl::FormatDuration(timeout)));
  }
  POLIS_ASSIGN_OR_RETURN(Message m, slot->Take());
  return m.As<wire::NodeInfo>();
}

absl::StatusOr<wire::SpanQueryReply> NodeCore::QuerySpans(const std::string& node,
                                                          const wire::SpanQuery& query,
                                                          absl::Duration timeout) {
  if (OnWorker()) {
    return absl::FailedPreconditionError(
        "Node::QuerySpans would block a scheduler thread; call it from a plain thread");
  }
  if (node.empty() || node == self_.name) return tracer_->Query(query);  // Thread-safe.
  POLIS_ASSIGN_OR_RETURN(Message m, router_->CallFromThread(Target(Pid{node, 0}),
                                                            Message::From(query), timeout,
                                                            wire::KIND_SYSTEM));
  return m.As<wire::SpanQueryReply>();
}

void NodeCore::HandleSpanQuery(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                               absl::Time received) {
  LetterPtr l = FromView(env, from, received);
  wire::SpanQuery query;
  if (!query.ParseFromString(l->message.bytes())) {
    router_->SendReply(l->from, absl::InvalidArgumentError("SpanQuery: unparsable payload"),
                       Message(), l->trace);
    return;
  }
  // On the I/O thread: a scan of the store (65,536 spans: about a
  // millisecond), bounded by the reply's span limit.
  router_->SendReply(l->from, absl::OkStatus(), Message::From(tracer_->Query(query)), l->trace);
}

void NodeCore::HandleNodeInfo(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                              absl::Time received) {
  LetterPtr l = FromView(env, from, received);
  router_->SendReply(l->from, absl::OkStatus(), Message::From(NodeInfoWithBadInput()), l->trace);
}

// On the I/O thread (detector_'s user until it stops).
wire::NodeInfo NodeCore::NodeInfoWithBadInput() {
  wire::NodeInfo info = CollectNodeInfo(*membership_, *registry_);
  if (detector_ != nullptr) {
    const bus::HeartbeatCounters c = detector_->counters();
    wire::HeartbeatInfo* hb = info.mutable_heartbeat();
    hb->set_address(detector_->address());
    hb->set_beats_sent(c.beats_sent);
    hb->set_send_failures(c.send_failures);
    hb->set_beats_accepted(c.beats_accepted);
    hb->set_beats_other_incarnation(c.beats_other_incarnation);
    hb->set_ignored_unwatched(c.ignored_unwatched);
    hb->set_ignored_malformed(c.ignored_malformed);
    hb->set_ignored_oversized(c.ignored_oversized);
    hb->set_ignored_unauthenticated(c.ignored_unauthenticated);
    hb->set_ignored_replayed(c.ignored_replayed);
    hb->set_self_pauses(c.self_pauses);
  }
  auto add = [](auto* counts, BadInputReason reason, uint64_t n) {
    if (n == 0) return;
    wire::BadInputCount* c = counts->Add();
    c->set_reason(BadInputReasonName(reason));
    c->set_count(n);
  };
  for (size_t r = 0; r < kBadInputReasons; ++r) {
    const auto reason = static_cast<BadInputReason>(r);
    add(info.mutable_bad_input(), reason, trust_->bad_input(reason));
  }
  for (const PeerRefusals::Entry& e : trust_->ByPeer()) {
    wire::PeerBadInput* p = info.add_bad_input_by_peer();
    p->set_peer(e.peer);
    for (size_t r = 0; r < kBadInputReasons; ++r) {
      add(p->mutable_counts(), static_cast<BadInputReason>(r), e.by_reason[r]);
    }
  }
  return info;
}

}  // namespace polis::internal
