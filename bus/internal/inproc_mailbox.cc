// bus/internal/inproc_mailbox.cc — see inproc_mailbox.h.
#include "bus/internal/inproc_mailbox.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/clock.h"

namespace polis::bus::internal {
namespace {

struct Registry {
  absl::Mutex mu;
  absl::flat_hash_map<std::string, std::shared_ptr<Mailbox>> by_endpoint ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<uint64_t, std::weak_ptr<Mailbox>> by_id ABSL_GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* registry = new Registry;  // never destroyed: used until exit
  return *registry;
}

std::atomic<uint64_t> next_id{1};

}  // namespace

uint64_t NextUniqueId() { return next_id.fetch_add(1, std::memory_order_relaxed); }

std::shared_ptr<Mailbox> Mailbox::Make() {
  std::shared_ptr<Mailbox> box(new Mailbox(NextUniqueId()));
  Registry& r = GetRegistry();
  absl::MutexLock lock(&r.mu);
  r.by_id[box->id()] = box;
  return box;
}

Mailbox::~Mailbox() {
  Registry& r = GetRegistry();
  absl::MutexLock lock(&r.mu);
  r.by_id.erase(id_);
}

ReturnPath Mailbox::token() const {
  ReturnPath path;
  path.token.assign(reinterpret_cast<const char*>(&id_), sizeof(id_));
  return path;
}

bool Mailbox::Push(InProcItem item) {
  absl::MutexLock lock(&mu_);
  if (closed_) return false;
  items_.push_back(std::move(item));
  return true;
}

bool Mailbox::AddSender(const std::shared_ptr<Mailbox>& sender) {
  absl::MutexLock lock(&mu_);
  if (closed_) return false;
  senders_.try_emplace(sender->id(), sender);
  return true;
}

void Mailbox::Wait(absl::Time deadline, std::deque<InProcItem>* out) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !items_.empty() || woken_; };
  // A zero timeout must not sleep (not even an expired futex wait: on
  // these VMs that syscall costs tens of microseconds).
  if (!ready() && deadline > base::Now()) mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
  woken_ = false;
  if (out->empty()) {
    out->swap(items_);
  } else {
    for (InProcItem& item : items_) out->push_back(std::move(item));
    items_.clear();
  }
}

void Mailbox::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

std::vector<std::shared_ptr<Mailbox>> Mailbox::Close() {
  std::vector<std::shared_ptr<Mailbox>> alive;
  absl::MutexLock lock(&mu_);
  if (closed_) return alive;
  closed_ = true;
  items_.clear();
  for (auto& [id, weak] : senders_) {
    if (auto sender = weak.lock()) alive.push_back(std::move(sender));
  }
  senders_.clear();
  return alive;
}

absl::Status RegisterEndpoint(const std::string& endpoint, std::shared_ptr<Mailbox> box) {
  Registry& r = GetRegistry();
  absl::MutexLock lock(&r.mu);
  if (!r.by_endpoint.try_emplace(endpoint, std::move(box)).second) {
    return absl::UnavailableError(absl::StrCat("endpoint ", endpoint, " is already in use"));
  }
  return absl::OkStatus();
}

void UnregisterEndpoint(const std::string& endpoint, const Mailbox* box) {
  std::shared_ptr<Mailbox> removed;  // released after the lock: ~Mailbox takes it
  Registry& r = GetRegistry();
  absl::MutexLock lock(&r.mu);
  auto it = r.by_endpoint.find(endpoint);
  if (it != r.by_endpoint.end() && it->second.get() == box) {
    removed = std::move(it->second);
    r.by_endpoint.erase(it);
  }
}

std::shared_ptr<Mailbox> FindByEndpoint(const std::string& endpoint) {
  Registry& r = GetRegistry();
  absl::MutexLock lock(&r.mu);
  auto it = r.by_endpoint.find(endpoint);
  return it == r.by_endpoint.end() ? nullptr : it->second;
}

std::shared_ptr<Mailbox> FindByToken(const ReturnPath& path) {
  uint64_t id;
  if (path.token.size() != sizeof(id)) return nullptr;
  std::memcpy(&id, path.token.data(), sizeof(id));
  Registry& r = GetRegistry();
  absl::MutexLock lock(&r.mu);
  auto it = r.by_id.find(id);
  return it == r.by_id.end() ? nullptr : it->second.lock();
}

}  // namespace polis::bus::internal
