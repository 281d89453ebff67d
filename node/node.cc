#include "node/node.h"

#include "absl/strings/str_cat.h"
#include "node/internal/call_slot.h"
#include "node/internal/node_core.h"
#include "node/internal/process.h"

namespace polis {

absl::StatusOr<std::unique_ptr<Node>> Node::Create(NodeOptions options) {
  std::unique_ptr<Node> node(new Node(nullptr));
  node->core_ = std::make_unique<internal::NodeCore>(node.get(), std::move(options));
  absl::Status s = node->core_->Start();
  if (!s.ok()) return s;
  return node;
}

Node::Node(std::unique_ptr<internal::NodeCore> core) : core_(std::move(core)) {}

Node::~Node() { Shutdown(); }

void Node::Shutdown() {
  if (core_) core_->Shutdown();
}

const std::string& Node::name() const { return core_->name(); }
const std::string& Node::endpoint() const { return core_->endpoint(); }
uint64_t Node::incarnation() const { return core_->incarnation(); }

absl::Status Node::Join(absl::Duration timeout) { return core_->membership().Join(timeout); }
std::vector<std::string> Node::Peers() const { return core_->membership().Peers(); }

absl::StatusOr<Pid> Node::Spawn(std::unique_ptr<Behaviour> behaviour, SpawnOptions options) {
  if (core_->OnWorker()) {
    return absl::FailedPreconditionError(
        "Node::Spawn would block a scheduler thread; inside a handler use "
        "co_await context().Spawn(...)");
  }
  auto slot = std::make_shared<internal::CallSlot>(0, "", nullptr);
  absl::StatusOr<std::shared_ptr<internal::Process>> p =
      core_->CreateProcess(std::move(behaviour), options, slot);
  if (!p.ok()) return p.status();
  Pid pid = (*p)->pid();
  p->reset();
  slot->WaitUntil(absl::InfiniteFuture());
  absl::StatusOr<Message> r = slot->Take();
  if (!r.ok()) return r.status();
  return pid;
}

absl::Status Node::Stop(const Target& target, absl::Status reason, absl::Duration timeout) {
  if (core_->OnWorker()) {
    return absl::FailedPreconditionError(
        "Node::Stop would block a scheduler thread; inside a handler use "
        "co_await context().StopProcess(...)");
  }
  auto slot = std::make_shared<internal::CallSlot>(0, "", nullptr);
  absl::Status s = core_->StopProcess(target, std::move(reason), timeout, slot);
  if (!s.ok()) return s;
  slot->WaitUntil(absl::InfiniteFuture());
  return slot->Take().status();
}

absl::Status Node::Register(const std::string& name, const Pid& pid) {
  return core_->registry().Register(name, pid);
}
absl::Status Node::Unregister(const std::string& name) {
  return core_->registry().Unregister(name);
}
absl::StatusOr<Pid> Node::WhereIs(const std::string& name) const { return core_->WhereIs(name); }

absl::StatusOr<Pid> Node::AwaitName(const std::string& name, absl::Duration timeout) const {
  return core_->AwaitName(name, timeout);
}
std::vector<std::string> Node::RegisteredNames() const { return core_->registry().Names(); }

absl::StatusOr<Message> Node::CallRaw(const Target& target,
                                      const google::protobuf::Message& request,
                                      absl::Duration timeout) {
  return core_->router().CallFromThread(target, Message::From(request), timeout, wire::KIND_CALL);
}

absl::Status Node::Cast(const Target& target, const google::protobuf::Message& message) {
  return core_->router().Tell(wire::KIND_CAST, nullptr, target, message);
}

absl::Status Node::Send(const Target& target, const google::protobuf::Message& message) {
  return core_->router().Tell(wire::KIND_INFO, nullptr, target, message);
}

absl::StatusOr<TimerRef> Node::SendAfter(absl::Duration delay, const Target& target,
                                         const google::protobuf::Message& message) {
  return core_->router().SendAfter(delay, target, Message::From(message), nullptr);
}

bool Node::CancelTimer(TimerRef timer) { return core_->router().CancelTimer(timer, nullptr); }

absl::StatusOr<wire::ServerDescription> Node::Describe(const std::string& name,
                                                       absl::Duration timeout) {
  return core_->Describe(name, timeout);
}

absl::StatusOr<wire::NodeInfo> Node::Info(const std::string& node, absl::Duration timeout) {
  return core_->Info(node, timeout);
}

TraceContext Node::StartTrace() const { return core_->tracer().Root(); }

absl::StatusOr<wire::SpanQueryReply> Node::QuerySpans(const std::string& node,
                                                      const wire::SpanQuery& query,
                                                      absl::Duration timeout) {
  return core_->QuerySpans(node, query, timeout);
}

std::vector<wire::Span> Node::ReadSpans(SpanCursor* cursor, size_t max) {
  return core_->tracer().Read(cursor, max);
}

SpanCursor Node::NewSpanCursor() const { return core_->tracer().NewCursor(); }

TraceStats Node::trace_stats() const { return core_->tracer().Stats(); }

}  // namespace polis
