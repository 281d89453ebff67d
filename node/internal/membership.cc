#include "node/internal/membership.h"

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "node/internal/outgoing.h"

namespace polis::internal {

Membership::Membership(const LocalNode* self, std::vector<std::string> seeds,
                       Directory* directory, const Registry* registry, CallTable* calls,
                       IoThread* io)
    : self_(self),
      seeds_(std::move(seeds)),
      directory_(directory),
      registry_(registry),
      calls_(calls),
      io_(io) {}

void Membership::Start() {
  if (seeds_.empty()) {
    absl::MutexLock lock(&join_mu_);
    joined_ = true;
  }
  for (const std::string& seed : seeds_) {
    io_->Post([this, seed] { SendHello(seed, nullptr); });
  }
}

absl::Status Membership::Join(absl::Duration timeout) {
  absl::MutexLock lock(&join_mu_);
  if (join_mu_.AwaitWithTimeout(absl::Condition(&joined_), timeout)) return absl::OkStatus();
  std::string seeds;
  for (const std::string& s : seeds_) absl::StrAppend(&seeds, seeds.empty() ? "" : ", ", s);
  return absl::UnavailableError(absl::StrCat("no seed answered within ",
                                             absl::FormatDuration(timeout), " (", seeds, ")"));
}

void Membership::OnNamesChanged(std::vector<std::string> added,
                                std::vector<std::string> removed) {
  if (self_->client) return;
  io_->Post([this, added = std::move(added), removed = std::move(removed)] {
    wire::NamesChanged nc;
    nc.set_node(self_->name);
    nc.set_incarnation(self_->incarnation);
    for (const std::string& n : added) nc.add_added(n);
    for (const std::string& n : removed) nc.add_removed(n);
    Broadcast(nc);
  });
}

void Membership::Broadcast(const google::protobuf::Message& payload) {
  const OutgoingEnvelope out = OutgoingEnvelope::System(self_->name, payload);
  for (const wire::NodeEntry& e : directory_->Snapshot()) {
    if (!e.endpoint().empty()) (void)io_->transport().Send(e.endpoint(), out.view());
  }
}

void Membership::SayGoodbye() {
  wire::Goodbye g;
  g.set_node(self_->name);
  g.set_incarnation(self_->incarnation);
  Broadcast(g);
  io_->transport().Flush();
}

bool Membership::HandleSystem(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                              bus::InboundHandler& bad_input) {
  const std::string_view type = env.type;
  auto parse = [&env, &bad_input](google::protobuf::Message& m) {
    if (m.ParseFromArray(env.payload.data(), static_cast<int>(env.payload.size()))) return true;
    bad_input.OnBadInput(
        absl::DataLossError(absl::StrCat(m.GetDescriptor()->name(), " does not parse")));
    return false;
  };
  if (type == wire::Hello::descriptor()->full_name()) {
    wire::Hello hello;
    if (parse(hello)) HandleHello(hello, from, bad_input);
  } else if (type == wire::NamesChanged::descriptor()->full_name()) {
    wire::NamesChanged nc;
    if (parse(nc)) {
      directory_->AddNames(nc.node(), {nc.added().begin(), nc.added().end()});
      directory_->RemoveNames(nc.node(), {nc.removed().begin(), nc.removed().end()});
    }
  } else if (type == wire::Goodbye::descriptor()->full_name()) {
    wire::Goodbye bye;
    if (parse(bye)) {
      NodeDown(bye.node(),
               absl::UnavailableError(absl::StrCat("node \"", bye.node(), "\" shut down")));
    }
  } else {
    return false;
  }
  return true;
}

void Membership::SendHello(const std::string& endpoint, const bus::ReturnPath* reply_path) {
  wire::Hello hello;
  hello.set_node(self_->name);
  hello.set_incarnation(self_->incarnation);
  hello.set_wire_version(bus::kWireVersion);
  hello.set_endpoint(self_->endpoint);
  hello.set_client(self_->client);
  wire::NodeEntry* me = hello.add_nodes();
  me->set_node(self_->name);
  me->set_endpoint(self_->endpoint);
  me->set_incarnation(self_->incarnation);
  for (const std::string& n : registry_->Names()) me->add_names(n);
  for (wire::NodeEntry& e : directory_->Snapshot()) *hello.add_nodes() = std::move(e);
  const OutgoingEnvelope out = OutgoingEnvelope::System(self_->name, hello);
  absl::Status s = reply_path ? io_->transport().Reply(*reply_path, out.view())
                              : io_->transport().Send(endpoint, out.view());
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

void Membership::HandleHello(const wire::Hello& hello, const bus::ReturnPath& from,
                             bus::InboundHandler& bad_input) {
  if (hello.wire_version() != bus::kWireVersion) {
    bad_input.OnBadInput(absl::FailedPreconditionError(
        absl::StrCat("node \"", hello.node(), "\" speaks wire version ", hello.wire_version(),
                     ", this node speaks ", bus::kWireVersion)));
    return;
  }
  if (hello.node() == self_->name) {
    if (hello.incarnation() != self_->incarnation) {
      POLIS_LOG(ERROR) << "polis: another node is also named \"" << self_->name << "\" (at "
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
    if (entry.node() == self_->name || entry.endpoint().empty()) continue;
    // The sender's own entry is authoritative; others' views of third
    // nodes only add nodes we do not know yet.
    if (entry.node() != hello.node() && directory_->Known(entry.node())) continue;
    const bool is_new = !directory_->Known(entry.node());
    std::optional<uint64_t> previous = directory_->Upsert(entry);
    if (previous) {
      // It restarted: calls to the old incarnation will never be answered.
      for (auto& s : calls_->TakeForNode(entry.node())) {
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

void Membership::OnPeerDown(const std::string& endpoint, const absl::Status& why) {
  std::optional<std::string> node = directory_->NodeAt(endpoint);
  hello_sent_.erase(endpoint);
  if (node) NodeDown(*node, why);
}

void Membership::NodeDown(const std::string& node, const absl::Status& why) {
  std::optional<std::string> endpoint = directory_->EndpointOf(node);
  if (!directory_->Remove(node)) return;
  POLIS_LOG(INFO) << "polis: node " << self_->name << " lost peer " << node << ": " << why;
  for (auto& s : calls_->TakeForNode(node)) {
    s->Complete(
        absl::UnavailableError(absl::StrCat("node \"", node, "\" is down: ", why.message())));
  }
  if (endpoint) {
    hello_sent_.erase(*endpoint);
    io_->transport().Disconnect(*endpoint);
  }
}

}  // namespace polis::internal
