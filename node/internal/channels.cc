#include "node/internal/channels.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace polis::internal {
namespace {

std::atomic<uint64_t> next_uid{1};

// The calling thread's channels, keyed by pool uid and endpoint. On thread
// exit each still-open channel is closed here, on its own thread.
struct ThreadChannels {
  absl::flat_hash_map<std::pair<uint64_t, std::string>, std::shared_ptr<ChannelHolder>> map;
  ~ThreadChannels() {
    for (auto& [key, h] : map) {
      absl::MutexLock use(&h->use);
      absl::MutexLock life(&h->life);
      h->channel.reset();
      h->closed = true;
    }
  }
};

ThreadChannels& Local() {
  thread_local ThreadChannels channels;
  return channels;
}

}  // namespace

ChannelPool::ChannelPool(bus::Transport* transport)
    : transport_(transport), uid_(next_uid.fetch_add(1)) {}

ChannelPool::~ChannelPool() { CloseAll(); }

absl::StatusOr<std::shared_ptr<ChannelHolder>> ChannelPool::Acquire(const std::string& endpoint) {
  ThreadChannels& local = Local();
  auto key = std::make_pair(uid_, endpoint);
  auto it = local.map.find(key);
  // A closed holder is found closed by its user (channel == nullptr).
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  if (it != local.map.end()) {
    std::shared_ptr<ChannelHolder>& h = it->second;
    if (h->generation == generation) return h;
    bool stale;
    {
      absl::MutexLock lock(&mu_);
      auto d = down_at_.find(endpoint);
      stale = d != down_at_.end() && d->second > h->generation;
    }
    if (!stale) {
      h->generation = generation;
      return h;
    }
    std::shared_ptr<ChannelHolder> old = h;
    Discard(endpoint, old);
  }
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::UnavailableError("node is shutting down");
  absl::StatusOr<std::unique_ptr<bus::Channel>> ch = transport_->OpenChannel(endpoint);
  if (!ch.ok()) return ch.status();
  auto holder = std::make_shared<ChannelHolder>();
  holder->generation = generation;
  {
    absl::MutexLock life(&holder->life);
    holder->channel = std::move(*ch);
  }
  all_.push_back(holder);
  local.map.emplace(key, holder);
  return holder;
}

void ChannelPool::Discard(const std::string& endpoint,
                          const std::shared_ptr<ChannelHolder>& holder) {
  ThreadChannels& local = Local();
  auto it = local.map.find(std::make_pair(uid_, endpoint));
  if (it == local.map.end() || it->second != holder) return;
  local.map.erase(it);
  absl::MutexLock lock(&mu_);
  all_.erase(std::remove_if(all_.begin(), all_.end(),
                            [&](const std::weak_ptr<ChannelHolder>& w) {
                              return w.expired() || w.lock() == holder;
                            }),
             all_.end());
}

void ChannelPool::PeerDown(const std::string& endpoint) {
  absl::MutexLock lock(&mu_);
  down_at_[endpoint] = generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

void ChannelPool::CloseAll() {
  std::vector<std::weak_ptr<ChannelHolder>> all;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    all.swap(all_);
  }
  for (auto& w : all) {
    std::shared_ptr<ChannelHolder> h = w.lock();
    if (!h) continue;
    h->Wake();
    absl::MutexLock use(&h->use);
    absl::MutexLock life(&h->life);
    h->channel.reset();
    h->closed = true;
  }
}

}  // namespace polis::internal
