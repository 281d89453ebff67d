// NodeCore, I/O side: what runs on the I/O thread (worker 0) — inbound
// envelopes, the Hello handshake and membership, name gossip.
#include "absl/strings/str_cat.h"
#include "bus/log.h"
#include "bus/status_macros.h"
#include "node/internal/node_core.h"
#include "node/internal/process.h"

namespace polis::internal {
namespace {

constexpr uint32_t kWireVersion = 1;

wire::Envelope SystemEnvelope(const std::string& from_node,
                              const google::protobuf::Message& payload) {
  wire::Envelope env;
  env.set_version(kWireVersion);
  env.set_kind(wire::KIND_SYSTEM);
  env.set_type(payload.GetDescriptor()->full_name());
  payload.SerializeToString(env.mutable_payload());
  env.mutable_sender()->set_node(from_node);
  return env;
}

}  // namespace

void NodeCore::PostIo(std::function<void()> fn) {
  if (OnIoThread()) {
    fn();
    return;
  }
  bool first;
  {
    absl::MutexLock lock(&io_mu_);
    first = io_tasks_.empty();
    io_tasks_.push_back(std::move(fn));
    io_pending_.store(true);
  }
  // One wake-up per batch: the I/O thread drains every task it finds.
  if (first) WakeIo();
}

void NodeCore::RunPostedIo() {
  if (!io_pending_.load()) return;
  {
    absl::MutexLock lock(&io_mu_);
    io_running_.swap(io_tasks_);
    io_pending_.store(false);
  }
  for (auto& fn : io_running_) fn();
  io_running_.clear();
}

bool NodeCore::OnIoThread() const { return scheduler_ && scheduler_->CurrentWorker() == 0; }

void NodeCore::WakeIo() {
  if (transport_) transport_->Wake();
}

void NodeCore::IoRound(absl::Duration block) {
  const bool ran = io_pending_.load();
  RunPostedIo();
  transport_->Poll(ran ? absl::ZeroDuration() : block, *this);
  inbound_.process.reset();  // A server that ends meanwhile is not kept.
}

void NodeCore::OnBadInput(const absl::Status& why) {
  POLIS_LOG(WARNING) << "polis: node " << name_ << " dropped bad input: " << why;
}

void NodeCore::OnEnvelope(const bus::EnvelopeView& envelope, const bus::ReturnPath& from,
                          absl::Time received) {
  switch (envelope.kind) {
    case wire::KIND_REPLY: {
      std::shared_ptr<CallSlot> slot = calls_.Take(envelope.ref);
      if (!slot) return;  // Late (after the deadline) or duplicate: dropped.
      slot->Complete(ReplyOf(envelope));
      return;
    }
    case wire::KIND_SYSTEM:
      HandleSystem(envelope, from, received);
      return;
    case wire::KIND_CALL:
    case wire::KIND_CAST:
    case wire::KIND_INFO:
      DeliverInbound(FromView(envelope, from, received));
      return;
    default:
      OnBadInput(absl::InvalidArgumentError(
          absl::StrCat("envelope of unknown kind ", static_cast<int>(envelope.kind))));
  }
}

void NodeCore::DeliverInbound(LetterPtr letter) {
  absl::Status size = CheckMessageSize(letter->message.bytes().size());
  const RouteCache::Versions versions = route_versions();  // before any lookup
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

void NodeCore::HandleSystem(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                            absl::Time received) {
  const std::string_view type = env.type;
  auto parse = [&env](google::protobuf::Message& m) {
    return m.ParseFromArray(env.payload.data(), static_cast<int>(env.payload.size()));
  };
  if (type == wire::Hello::descriptor()->full_name()) {
    wire::Hello hello;
    if (!parse(hello)) {
      OnBadInput(absl::DataLossError("Hello does not parse"));
      return;
    }
    HandleHello(hello, from);
  } else if (type == wire::NamesChanged::descriptor()->full_name()) {
    wire::NamesChanged nc;
    if (!parse(nc)) {
      OnBadInput(absl::DataLossError("NamesChanged does not parse"));
      return;
    }
    directory_.AddNames(nc.node(), {nc.added().begin(), nc.added().end()});
    directory_.RemoveNames(nc.node(), {nc.removed().begin(), nc.removed().end()});
  } else if (type == wire::Goodbye::descriptor()->full_name()) {
    wire::Goodbye bye;
    if (!parse(bye)) {
      OnBadInput(absl::DataLossError("Goodbye does not parse"));
      return;
    }
    NodeDown(bye.node(), absl::UnavailableError(absl::StrCat("node \"", bye.node(),
                                                             "\" shut down")));
  } else if (type == wire::DescribeRequest::descriptor()->full_name()) {
    LetterPtr l = FromView(env, from, received);
    absl::StatusOr<wire::ServerDescription> d = Describe(l->to_name, absl::ZeroDuration());
    SendReply(l->from, d.status(), d.ok() ? Message::From(*d) : Message(), l->trace);
  } else {
    OnBadInput(absl::InvalidArgumentError(
        absl::StrCat("unknown system message \"", std::string(type), "\"")));
  }
}

void NodeCore::SendHello(const std::string& endpoint, const bus::ReturnPath* reply_path) {
  wire::Hello hello;
  hello.set_node(name_);
  hello.set_incarnation(incarnation_);
  hello.set_wire_version(kWireVersion);
  hello.set_endpoint(endpoint_);
  hello.set_client(options_.client);
  wire::NodeEntry* self = hello.add_nodes();
  self->set_node(name_);
  self->set_endpoint(endpoint_);
  self->set_incarnation(incarnation_);
  for (const std::string& n : RegisteredNames()) self->add_names(n);
  for (wire::NodeEntry& e : directory_.Snapshot()) *hello.add_nodes() = std::move(e);
  wire::Envelope env = SystemEnvelope(name_, hello);
  absl::Status s = reply_path ? transport_->Reply(*reply_path, env)
                              : transport_->Send(endpoint, env);
  if (!s.ok()) {
    // A client that left before our answer is normal; a peer is not.
    if (reply_path) {
      POLIS_LOG(DEBUG) << "polis: Hello answer to a client dropped: " << s;
    } else {
      POLIS_LOG(WARNING) << "polis: Hello to " << endpoint << " failed: " << s;
    }
    return;
  }
  if (!reply_path) hello_sent_.insert(endpoint);
}

void NodeCore::HandleHello(const wire::Hello& hello, const bus::ReturnPath& from) {
  if (hello.wire_version() != kWireVersion) {
    OnBadInput(absl::FailedPreconditionError(
        absl::StrCat("node \"", hello.node(), "\" speaks wire version ", hello.wire_version(),
                     ", this node speaks ", kWireVersion)));
    return;
  }
  if (hello.node() == name_) {
    if (hello.incarnation() != incarnation_) {
      POLIS_LOG(ERROR) << "polis: another node is also named \"" << name_ << "\" (at "
                 << hello.endpoint() << "); ignoring it";
    }
    return;
  }
  if (hello.client()) {
    // A short-lived client: answer on its connection with the directory.
    SendHello("", &from);
    return;
  }
  for (const wire::NodeEntry& entry : hello.nodes()) {
    if (entry.node() == name_ || entry.endpoint().empty()) continue;
    // The sender's own entry is authoritative; others' views of third
    // nodes only add nodes we do not know yet.
    if (entry.node() != hello.node() && directory_.Known(entry.node())) continue;
    const bool is_new = !directory_.Known(entry.node());
    std::optional<uint64_t> previous = directory_.Upsert(entry);
    if (previous) {
      // It restarted: calls to the old incarnation will never be answered.
      for (auto& s : calls_.TakeForNode(entry.node())) {
        s->Complete(absl::UnavailableError(absl::StrCat("node \"", entry.node(), "\" restarted")));
      }
      hello_sent_.erase(entry.endpoint());
    }
    // Answer a node we did not know even if we greeted it before: names we
    // registered since our first Hello (while it was not yet in our
    // directory, so no NamesChanged reached it) travel in this one.
    const bool sender_is_new = is_new && entry.node() == hello.node();
    if (sender_is_new || !hello_sent_.contains(entry.endpoint())) {
      SendHello(entry.endpoint(), nullptr);
    }
  }
  absl::MutexLock lock(&join_mu_);
  joined_ = true;
}

void NodeCore::BroadcastNames(std::vector<std::string> added, std::vector<std::string> removed) {
  if (options_.client || !scheduler_) return;
  PostIo([this, added = std::move(added), removed = std::move(removed)] {
    wire::NamesChanged nc;
    nc.set_node(name_);
    nc.set_incarnation(incarnation_);
    for (const std::string& n : added) nc.add_added(n);
    for (const std::string& n : removed) nc.add_removed(n);
    wire::Envelope env = SystemEnvelope(name_, nc);
    for (const wire::NodeEntry& e : directory_.Snapshot()) {
      if (!e.endpoint().empty()) (void)transport_->Send(e.endpoint(), env);
    }
  });
}

void NodeCore::OnPeerDown(const std::string& endpoint, const absl::Status& why) {
  std::optional<std::string> node = directory_.NodeAt(endpoint);
  hello_sent_.erase(endpoint);
  if (node) NodeDown(*node, why);
}

void NodeCore::NodeDown(const std::string& node, const absl::Status& why) {
  std::optional<std::string> endpoint = directory_.EndpointOf(node);
  if (!directory_.Remove(node)) return;
  POLIS_LOG(INFO) << "polis: node " << name_ << " lost peer " << node << ": " << why;
  for (auto& s : calls_.TakeForNode(node)) {
    s->Complete(absl::UnavailableError(absl::StrCat("node \"", node, "\" is down: ", why.message())));
  }
  if (endpoint) {
    hello_sent_.erase(*endpoint);
    transport_->Disconnect(*endpoint);
  }
}

absl::Status NodeCore::Join(absl::Duration timeout) {
  absl::MutexLock lock(&join_mu_);
  if (join_mu_.AwaitWithTimeout(absl::Condition(&joined_), timeout)) return absl::OkStatus();
  std::string seeds;
  for (const std::string& s : options_.seeds) absl::StrAppend(&seeds, seeds.empty() ? "" : ", ", s);
  return absl::UnavailableError(absl::StrCat("no seed answered within ",
                                             absl::FormatDuration(timeout), " (", seeds, ")"));
}

absl::StatusOr<wire::ServerDescription> NodeCore::Describe(const std::string& name,
                                                           absl::Duration timeout) {
  if (std::shared_ptr<Process> p = FindLocalByName(name)) {
    wire::ServerDescription d = p->behaviour().Describe();
    d.set_name(name);
    if (d.kind().empty()) d.set_kind(p->kind());
    return d;
  }
  if (timeout == absl::ZeroDuration()) {
    return absl::NotFoundError(absl::StrCat("no server named \"", name, "\" on node ", name_));
  }
  POLIS_ASSIGN_OR_RETURN(
      Message m, CallFromThread(Target(name), Message::From(wire::DescribeRequest()), timeout,
                                wire::KIND_SYSTEM));
  return m.As<wire::ServerDescription>();
}

}  // namespace polis::internal
