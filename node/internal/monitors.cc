// Monitors: see monitors.h.
#include "node/internal/monitors.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/internal/outgoing.h"
#include "node/internal/process.h"

namespace polis::internal {
namespace {

void SetAddress(wire::Address* a, const Pid& pid, const std::string& name, uint64_t incarnation) {
  a->set_node(pid.node);
  a->set_pid(pid.id);
  a->set_name(name);
  a->set_incarnation(incarnation);
}

}  // namespace

Monitors::Monitors(const Parts& parts)
    : self_(*parts.self),
      registry_(*parts.registry),
      directory_(*parts.directory),
      router_(*parts.router),
      io_(*parts.io) {}

// --- Watcher side ---

void Monitors::Watch(Process* watcher, uint64_t ref, const Target& target) {
  Pid pid;
  std::string name;
  if (target.is_name()) {
    name = target.name();
    if (std::optional<Pid> local = registry_.PidOf(name)) {
      pid = *local;
    } else if (std::optional<NameClaim> c = directory_.Resolve(name)) {
      pid = Pid{c->node, c->pid};
    }
  } else {
    pid = target.pid();
    if (pid.node.empty()) pid.node = self_.name;
  }
  // Tracked before any DOWN can be sent: delivery drops untracked DOWNs.
  watcher->track_monitor(ref, pid.valid() ? pid : Pid{self_.name, 0});
  if (!pid.valid()) {
    router_.NotifyDown(watcher->pid(), ref, Pid{}, name,
                       absl::NotFoundError(target.is_name()
                                               ? absl::StrCat("no server named \"", name,
                                                              "\" in the cluster")
                                               : absl::StrCat("no process ", pid.ToString())));
    return;
  }
  if (pid.node == self_.name) {
    std::shared_ptr<Process> t = registry_.Find(pid.id);
    if (t && t->AddMonitor(watcher->pid(), ref)) return;
    router_.NotifyDown(watcher->pid(), ref, pid, name,
                       absl::NotFoundError(absl::StrCat("no process ", pid.ToString())));
    return;
  }
  const uint64_t incarnation =
      Add(ref, Entry{.watcher = watcher->pid(), .node = pid.node, .target = pid, .name = name});
  if (incarnation == 0) {
    router_.NotifyDown(watcher->pid(), ref, pid, name,
                       absl::NotFoundError(absl::StrCat("no process ", pid.ToString(), ": node \"",
                                                        pid.node, "\" is not a member")));
    return;
  }
  wire::MonitorRequest req;
  SetAddress(req.mutable_watcher(), watcher->pid(), "", self_.incarnation);
  SetAddress(req.mutable_target(), pid, name, incarnation);
  req.set_ref(ref);
  SendSystem(pid.node, req, ref);
}

void Monitors::WatchNode(Process* watcher, uint64_t ref, const std::string& node) {
  watcher->track_monitor(ref, Pid{node, 0});
  if (node == self_.name) return;  // Never down while the watcher lives.
  if (Add(ref, Entry{.watcher = watcher->pid(),
                     .node = node,
                     .target = Pid{node, 0},
                     .node_only = true}) == 0) {
    NodeDownNow(watcher->pid(), ref, node,
                absl::NotFoundError(absl::StrCat("node \"", node, "\" is not a member")));
  }
}

uint64_t Monitors::Add(uint64_t ref, Entry e) {
  absl::MutexLock lock(&mu_);
  // Under mu_: a member removed after this check is told to OnNodeDown,
  // which waits for mu_ and so sees this entry.
  std::optional<Directory::Member> m = directory_.Find(e.node);
  if (!m) return 0;
  e.incarnation = m->incarnation;
  by_node_[e.node].insert(ref);
  watches_.emplace(ref, std::move(e));
  return m->incarnation;
}

void Monitors::Unwatch(uint64_t ref) {
  Entry e;
  {
    absl::MutexLock lock(&mu_);
    auto it = watches_.find(ref);
    if (it == watches_.end()) return;
    e = std::move(it->second);
    watches_.erase(it);
    if (auto n = by_node_.find(e.node); n != by_node_.end()) {
      n->second.erase(ref);
      if (n->second.empty()) by_node_.erase(n);
    }
  }
  if (e.node_only) return;
  wire::DemonitorRequest d;
  SetAddress(d.mutable_watcher(), e.watcher, "", self_.incarnation);
  d.set_ref(ref);
  SendSystem(e.node, d, 0);
}

void Monitors::Forget(uint64_t ref) {
  absl::MutexLock lock(&mu_);
  auto it = watches_.find(ref);
  if (it == watches_.end()) return;
  if (auto n = by_node_.find(it->second.node); n != by_node_.end()) {
    n->second.erase(ref);
    if (n->second.empty()) by_node_.erase(n);
  }
  watches_.erase(it);
}

void Monitors::SendSystem(const std::string& node, const google::protobuf::Message& payload,
                          uint64_t monitor_ref) {
  std::optional<std::string> ep = directory_.EndpointOf(node);
  if (!ep) return;  // Down meanwhile: OnNodeDown fires the monitor.
  auto send = [this, monitor_ref](const std::string& endpoint,
                                  const google::protobuf::Message& m) {
    absl::Status s =
        io_.transport().Send(endpoint, OutgoingEnvelope::System(self_.name, m).view());
    if (s.ok() || monitor_ref == 0) return;
    // The request did not leave (e.g. the connection's queue is full): the
    // monitor fires now with that error rather than never.
    Entry e;
    {
      absl::MutexLock lock(&mu_);
      auto it = watches_.find(monitor_ref);
      if (it == watches_.end()) return;
      e = std::move(it->second);
    }
    Forget(monitor_ref);
    router_.NotifyDown(e.watcher, monitor_ref, e.target, e.name, s);
  };
  if (io_.OnIoThread()) {
    send(*ep, payload);
    return;
  }
  std::shared_ptr<google::protobuf::Message> copy(payload.New());
  copy->CopyFrom(payload);
  io_.Post([send, ep = *std::move(ep), copy] { send(ep, *copy); });
}

void Monitors::NodeDownNow(const Pid& watcher, uint64_t ref, const std::string& node,
                           const absl::Status& why) {
  wire::NodeDown down;
  down.set_node(node);
  down.set_monitor_ref(ref);
  down.set_status_code(static_cast<int32_t>(why.code()));
  down.set_status_message(std::string(why.message()));
  router_.Inform(self_.pid, watcher, down);
}

// --- Target side ---

void Monitors::Fired(const Pid& watcher, uint64_t ref) {
  absl::MutexLock lock(&mu_);
  auto it = watched_by_.find(watcher.node);
  if (it == watched_by_.end()) return;
  it->second.erase(ref);
  if (it->second.empty()) watched_by_.erase(it);
}

bool Monitors::HandleSystem(const bus::EnvelopeView& env,
                            absl::FunctionRef<void(const absl::Status&)> bad_input,
                            absl::Status* refused) {
  auto parse = [&env, &bad_input](google::protobuf::Message& m) {
    if (m.ParseFromArray(env.payload.data(), static_cast<int>(env.payload.size()))) return true;
    bad_input(absl::DataLossError(absl::StrCat(m.GetDescriptor()->name(), " does not parse")));
    return false;
  };
  if (env.type == wire::MonitorRequest::descriptor()->full_name()) {
    wire::MonitorRequest req;
    if (parse(req)) {
      absl::Status s = HandleMonitor(req);
      if (refused != nullptr) *refused = std::move(s);
    }
    return true;
  }
  if (env.type == wire::DemonitorRequest::descriptor()->full_name()) {
    wire::DemonitorRequest req;
    if (parse(req)) HandleDemonitor(req);
    return true;
  }
  return false;
}

absl::Status Monitors::HandleMonitor(const wire::MonitorRequest& req) {
  const Pid watcher{req.watcher().node(), req.watcher().pid()};
  std::optional<Directory::Member> m = directory_.Find(watcher.node);
  if (!m || (req.watcher().incarnation() != 0 && req.watcher().incarnation() != m->incarnation)) {
    // Its node is gone (its side fired the monitor) or restarted, or never
    // was a member: no DOWN could reach the watcher.
    return absl::FailedPreconditionError(
        absl::StrCat("MonitorRequest refused: the watcher's node \"", watcher.node, "\"",
                     m ? " restarted" : " is not a member of this node's view"));
  }
  const wire::Address& t = req.target();
  std::shared_ptr<Process> p;
  if (t.incarnation() == 0 || t.incarnation() == self_.incarnation) {
    p = t.pid() != 0 ? registry_.Find(t.pid()) : registry_.FindByName(t.name());
  }
  {
    // Under mu_: if the process ends right after, Fired waits for the entry.
    absl::MutexLock lock(&mu_);
    if (p && p->AddMonitor(watcher, req.ref())) {
      watched_by_[watcher.node][req.ref()] = p->pid().id;
      return absl::OkStatus();
    }
  }
  const Pid target{self_.name, t.pid()};
  router_.NotifyDown(watcher, req.ref(), target, t.name(),
                     absl::NotFoundError(t.pid() != 0 ? absl::StrCat("no process ",
                                                                     target.ToString())
                                                      : absl::StrCat("no server named \"",
                                                                     t.name(), "\" on node ",
                                                                     self_.name)));
  return absl::OkStatus();  // Answered with a ProcessDown, as the protocol says.
}

void Monitors::HandleDemonitor(const wire::DemonitorRequest& req) {
  uint64_t pid = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = watched_by_.find(req.watcher().node());
    if (it == watched_by_.end()) return;
    auto r = it->second.find(req.ref());
    if (r == it->second.end()) return;
    pid = r->second;
    it->second.erase(r);
    if (it->second.empty()) watched_by_.erase(it);
  }
  if (std::shared_ptr<Process> p = registry_.Find(pid)) p->RemoveMonitor(req.ref());
}

// --- Both ---

void Monitors::OnNodeDown(const std::string& node, uint64_t incarnation,
                          const absl::Status& why) {
  std::vector<std::pair<uint64_t, Entry>> fire;
  absl::flat_hash_map<uint64_t, uint64_t> held;  // ref → local pid.
  {
    absl::MutexLock lock(&mu_);
    if (auto n = by_node_.find(node); n != by_node_.end()) {
      for (uint64_t ref : n->second) {
        auto w = watches_.find(ref);
        if (w == watches_.end() || w->second.incarnation != incarnation) continue;
        fire.emplace_back(ref, std::move(w->second));
        watches_.erase(w);
      }
      for (const auto& [ref, e] : fire) n->second.erase(ref);
      if (n->second.empty()) by_node_.erase(n);
    }
    if (auto w = watched_by_.find(node); w != watched_by_.end()) {
      held.swap(w->second);
      watched_by_.erase(w);
    }
  }
  const absl::Status down = why.code() == absl::StatusCode::kUnavailable
                                ? why
                                : absl::UnavailableError(why.message());
  for (const auto& [ref, e] : fire) {
    if (e.node_only) {
      NodeDownNow(e.watcher, ref, node, down);
    } else {
      router_.NotifyDown(e.watcher, ref, e.target, e.name, down);
    }
  }
  for (const auto& [ref, pid] : held) {
    if (std::shared_ptr<Process> p = registry_.Find(pid)) p->RemoveMonitor(ref);
  }
}

size_t Monitors::WatchedFrom(const std::string& node) const {
  absl::MutexLock lock(&mu_);
  auto it = watched_by_.find(node);
  return it == watched_by_.end() ? 0 : it->second.size();
}

size_t Monitors::Watching() const {
  absl::MutexLock lock(&mu_);
  return watches_.size();
}

}  // namespace polis::internal
