#include "node/internal/registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/utf8.h"
#include "base/status_macros.h"
#include "node/internal/process.h"

namespace polis::internal {

absl::Status CheckUtf8Name(absl::string_view what, const std::string& name) {
  if (base::IsValidUtf8(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(what, " is not valid UTF-8"));
}

Registry::Registry(const LocalNode* self, Directory* cluster)
    : self_(self), cluster_(cluster) {}

absl::Status Registry::CheckFree(const std::string& name) const {
  if (names_.contains(name) || cluster_->NodeOfName(name)) {
    return absl::AlreadyExistsError(absl::StrCat("a server named \"", name, "\" already exists"));
  }
  return absl::OkStatus();
}

void Registry::Tell() {
  cluster_->NoteLocalChange();
  if (listener_ != nullptr) listener_->OnNamesChanged();
}

void Registry::Hold(const std::string& name, uint64_t pid) {
  const Held held{pid, absl::ToUnixNanos(absl::Now())};
  names_[name] = held;
  ++registrations_[name];
  wire::NameEntry e;
  e.set_name(name);
  e.set_pid(pid);
  e.set_registered_unix_ns(held.registered_unix_ns);
  changes_.push_back(NameChange{name, std::move(e)});
  NamesChanged();
}

absl::StatusOr<std::shared_ptr<Process>> Registry::Create(
    const std::string& name, absl::FunctionRef<std::shared_ptr<Process>(const Pid&)> make) {
  POLIS_RETURN_IF_ERROR(CheckUtf8Name("Spawn: server name", name));
  std::shared_ptr<Process> p;
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return absl::FailedPreconditionError("node is shutting down");
    if (!name.empty()) POLIS_RETURN_IF_ERROR(CheckFree(name));
    const Pid pid{self_->name, next_pid_++};
    p = make(pid);
    processes_.emplace(pid.id, p);
    if (!name.empty()) Hold(name, pid.id);
  }
  if (!name.empty()) Tell();
  return p;
}

std::shared_ptr<Process> Registry::Find(uint64_t pid) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = processes_.find(pid);
  return it == processes_.end() ? nullptr : it->second;
}

std::shared_ptr<Process> Registry::FindByName(const std::string& name) const {
  // Versions first: a change after this point makes what is stored stale.
  const RouteCache::Versions now = versions();
  if (const RouteCache::Entry* e = RouteCache::Find(now, name); e != nullptr && e->node.empty()) {
    if (std::shared_ptr<Process> p = e->local.lock()) return p;
  }
  std::shared_ptr<Process> p;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = names_.find(name);
    if (it == names_.end()) return nullptr;
    auto pit = processes_.find(it->second.pid);
    if (pit == processes_.end()) return nullptr;
    p = pit->second;
  }
  RouteCache::StoreLocal(now, name, p);
  return p;
}

bool Registry::HasName(const std::string& name) const {
  absl::ReaderMutexLock lock(&mu_);
  return names_.contains(name);
}

std::optional<Pid> Registry::PidOf(const std::string& name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = names_.find(name);
  if (it == names_.end()) return std::nullopt;
  return Pid{self_->name, it->second.pid};
}

void Registry::Forget(const Process& p) {
  std::string name = p.name();
  {
    absl::MutexLock lock(&mu_);
    if (processes_.erase(p.pid().id) > 0 && name.empty() && p.stats() != nullptr) {
      ServerMetrics& kind = retired_[p.kind()];
      kind.kind = p.kind();
      p.stats()->AddTo(&kind);
    }
    if (!name.empty()) {
      auto it = names_.find(name);
      if (it != names_.end() && it->second.pid == p.pid().id) {
        names_.erase(it);
        Released(name);
      } else {
        name.clear();
      }
    }
  }
  if (!name.empty()) Tell();
}

absl::Status Registry::Register(const std::string& name, const Pid& pid) {
  if (name.empty()) return absl::InvalidArgumentError("Register: empty name");
  POLIS_RETURN_IF_ERROR(CheckUtf8Name("Register: name", name));
  if (pid.node != self_->name) return absl::InvalidArgumentError("Register: not a local process");
  {
    absl::MutexLock lock(&mu_);
    POLIS_RETURN_IF_ERROR(CheckFree(name));
    auto it = processes_.find(pid.id);
    if (it == processes_.end() || it->second->dead()) {
      return absl::NotFoundError(absl::StrCat("no process ", pid.ToString()));
    }
    Process& p = *it->second;
    if (!p.name().empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat(pid.ToString(), " is already registered as \"", p.name(), "\""));
    }
    Hold(name, pid.id);
    p.set_name(name);
  }
  Tell();
  return absl::OkStatus();
}

absl::Status Registry::Unregister(const std::string& name) {
  {
    absl::MutexLock lock(&mu_);
    auto it = names_.find(name);
    if (it == names_.end()) {
      return absl::NotFoundError(absl::StrCat("no server named \"", name, "\" on this node"));
    }
    auto p = processes_.find(it->second.pid);
    if (p != processes_.end()) p->second->set_name("");
    names_.erase(it);
    Released(name);
  }
  Tell();
  return absl::OkStatus();
}

std::vector<std::string> Registry::Names() const {
  std::vector<std::string> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [n, pid] : names_) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<wire::NameEntry> Registry::NameEntries() const {
  std::vector<wire::NameEntry> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    out.reserve(names_.size());
    for (const auto& [n, held] : names_) {
      wire::NameEntry& e = out.emplace_back();
      e.set_name(n);
      e.set_pid(held.pid);
      e.set_registered_unix_ns(held.registered_unix_ns);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const wire::NameEntry& a, const wire::NameEntry& b) { return a.name() < b.name(); });
  return out;
}

std::optional<Pid> Registry::YieldTo(const std::string& name, const NameClaim& claim) {
  Pid loser;
  {
    absl::MutexLock lock(&mu_);
    auto it = names_.find(name);
    if (it == names_.end()) return std::nullopt;
    const NameClaim mine{self_->name, self_->incarnation, it->second.pid,
                         it->second.registered_unix_ns};
    if (!ClaimWins(claim, mine)) return std::nullopt;
    loser = Pid{self_->name, it->second.pid};
    auto p = processes_.find(it->second.pid);
    if (p != processes_.end()) p->second->set_name("");
    names_.erase(it);
    Released(name);
  }
  Tell();
  return loser;
}

std::vector<Registry::NameChange> Registry::TakeNameChanges() {
  std::vector<NameChange> out;
  absl::MutexLock lock(&mu_);
  out.swap(changes_);
  return out;
}

int32_t Registry::Registrations(const std::string& name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = registrations_.find(name);
  return it == registrations_.end() ? 0 : it->second;
}

size_t Registry::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return processes_.size();
}

std::vector<std::shared_ptr<Process>> Registry::Processes() const {
  std::vector<std::shared_ptr<Process>> out;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [pid, p] : processes_) out.push_back(p);
  return out;
}

std::vector<std::shared_ptr<Process>> Registry::ProcessesAndRetired(
    std::vector<ServerMetrics>* retired) const {
  std::vector<std::shared_ptr<Process>> out;
  absl::ReaderMutexLock lock(&mu_);
  out.reserve(processes_.size());
  for (const auto& [pid, p] : processes_) out.push_back(p);
  retired->clear();
  for (const auto& [kind, counts] : retired_) retired->push_back(counts);
  return out;
}

std::vector<std::shared_ptr<Process>> Registry::BeginShutdown() {
  std::vector<std::shared_ptr<Process>> out;
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    for (const auto& [pid, p] : processes_) out.push_back(p);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a->pid().id > b->pid().id; });
  return out;
}

void Registry::Clear() {
  absl::MutexLock lock(&mu_);
  processes_.clear();
  names_.clear();
  changes_.clear();
}

}  // namespace polis::internal
