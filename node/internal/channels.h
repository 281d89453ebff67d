// node/internal/channels.h — per-thread connections for plain threads.
//
// A plain (non-scheduler) thread that calls a remote server sends on its
// own bus::Channel and receives the reply on it, so the reply does not pass
// through the node's I/O thread (no extra thread hand-off). ChannelPool
// keeps one Channel per (thread, peer endpoint) and closes them all when
// the node shuts down. A channel whose connection was lost is discarded and
// opened again on next use.
//
// Thread-safety: Acquire from any thread (it returns that thread's own
// channel); CloseAll from the shutting-down thread. A thread's channels are
// closed by that thread when it exits, or by CloseAll.
#ifndef POLIS_NODE_INTERNAL_CHANNELS_H_
#define POLIS_NODE_INTERNAL_CHANNELS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "bus/transport.h"

namespace polis::internal {

// One thread's channel to one peer. `use` is held by the owning thread while
// it sends or receives; CloseAll takes it to close the channel safely.
struct ChannelHolder {
  absl::Mutex use;
  absl::Mutex life;  // Guards `channel` existence for Wake from other threads.
  std::unique_ptr<bus::Channel> channel ABSL_GUARDED_BY(life);
  bool closed ABSL_GUARDED_BY(life) = false;
  // The pool's generation this holder was last checked against (owning
  // thread only; see ChannelPool::PeerDown).
  uint64_t generation = 0;

  void Wake() {
    absl::MutexLock lock(&life);
    if (channel) channel->Wake();
  }
};

class ChannelPool {
 public:
  explicit ChannelPool(bus::Transport* transport);
  ~ChannelPool();

  // The calling thread's channel to `endpoint`, opened on first use.
  // UNAVAILABLE after CloseAll.
  absl::StatusOr<std::shared_ptr<ChannelHolder>> Acquire(const std::string& endpoint);
  // The calling thread's channel to `endpoint` reported its connection lost
  // (UNAVAILABLE): a channel never recovers from that, so forget it; the
  // next Acquire opens a new one (to a node restarted at that endpoint, or
  // one that comes back). `holder` is the one that failed; nothing happens
  // if the thread already has another. Call without holding its mutexes;
  // the channel is closed when the last reference to `holder` goes.
  void Discard(const std::string& endpoint, const std::shared_ptr<ChannelHolder>& holder);
  // Any thread: the node at `endpoint` was declared down. Every thread's
  // channel to it opened before now is replaced on its next Acquire (its
  // connection may be stale — a frozen peer's — without having failed yet),
  // so the first call after the node rejoins goes out on a fresh one.
  void PeerDown(const std::string& endpoint);
  void CloseAll();

 private:
  bus::Transport* const transport_;
  const uint64_t uid_;
  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::weak_ptr<ChannelHolder>> all_ ABSL_GUARDED_BY(mu_);
  // Bumped by every PeerDown; a holder that saw the current value needs no
  // lock to be reused.
  std::atomic<uint64_t> generation_{0};
  absl::flat_hash_map<std::string, uint64_t> down_at_ ABSL_GUARDED_BY(mu_);
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_CHANNELS_H_
