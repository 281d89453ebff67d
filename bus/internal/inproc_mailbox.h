// bus/internal/inproc_mailbox.h — the receive side of an InProcTransport or
// InProcChannel, and the process-wide registry that finds them.
//
// A Mailbox is a queue of encoded frames (and peer-down notices) guarded by a
// mutex, with a wake flag; its owner waits on it. Senders find a mailbox by
// endpoint (transports that called Listen) or by id (the ReturnPath token of
// anything that sent). A mailbox remembers who sent to it, so that when it
// closes (its transport destroyed or killed) each sender learns "peer down".
//
// Thread-safety: Mailbox and the registry functions are thread-safe. Lock
// order: never hold the registry lock and a mailbox lock together.
//
// Example:
//   auto box = Mailbox::Make();
//   POLIS_RETURN_IF_ERROR(RegisterEndpoint("inproc://a", box));
//   std::shared_ptr<Mailbox> peer = FindByEndpoint("inproc://b");
//   if (peer) peer->Push(InProcItem::Frame(std::move(bytes), box->token()));
#ifndef POLIS_BUS_INTERNAL_INPROC_MAILBOX_H_
#define POLIS_BUS_INTERNAL_INPROC_MAILBOX_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bus/peer.h"
#include "bus/transport.h"

namespace polis::bus::internal {

struct InProcItem {
  std::string frame;        // an encoded frame (bus/frame_codec.h) ...
  ReturnPath from;          // ... and where replies to it go
  // A frame's Sender as the receiver reports it (the sending transport's
  // InProcTransportOptions::sender_role/sender_key, a test seam).
  PeerRole role = PeerRole::kAnonymous;
  const AuthorizedKey* key = nullptr;
  bool peer_down = false;   // or: the peer at `endpoint` is gone
  // peer_down: the peer's endpoint. A frame that is a Reply: the replier's
  // listening endpoint (the one the receiver dialed: Sender::dialed).
  std::string endpoint;
  uint64_t peer_id = 0;     // peer_down only: the mailbox that went away
  absl::Status why;         // peer_down only

  static InProcItem Frame(std::string frame, ReturnPath from) {
    InProcItem item;
    item.frame = std::move(frame);
    item.from = std::move(from);
    return item;
  }
  static InProcItem PeerDown(std::string endpoint, uint64_t peer_id, absl::Status why) {
    InProcItem item;
    item.peer_down = true;
    item.endpoint = std::move(endpoint);
    item.peer_id = peer_id;
    item.why = std::move(why);
    return item;
  }
};

class Mailbox {
 public:
  // A new open mailbox with a process-unique id, findable by that id.
  static std::shared_ptr<Mailbox> Make();
  ~Mailbox();  // no longer findable by id

  uint64_t id() const { return id_; }
  // The ReturnPath naming this mailbox.
  ReturnPath token() const;

  // Queues `item` and wakes the owner. False (item dropped) once closed.
  bool Push(InProcItem item);
  // Records that `sender` sends here (once per id). False once closed.
  bool AddSender(const std::shared_ptr<Mailbox>& sender);
  // Waits until an item is queued, Wake() is called, or `deadline`; then
  // appends every queued item to `*out` and clears the wake flag.
  void Wait(absl::Time deadline, std::deque<InProcItem>* out);
  void Wake();
  // Refuses further items, drops queued ones, and returns the senders still
  // alive (once; later calls return none).
  std::vector<std::shared_ptr<Mailbox>> Close();

  // Test hook: while set, the owner's sends and everything sent to it are
  // silently dropped.
  std::atomic<bool> partitioned{false};

 private:
  explicit Mailbox(uint64_t id) : id_(id) {}

  const uint64_t id_;
  absl::Mutex mu_;
  std::deque<InProcItem> items_ ABSL_GUARDED_BY(mu_);
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<uint64_t, std::weak_ptr<Mailbox>> senders_ ABSL_GUARDED_BY(mu_);
};

// Makes `box` findable at `endpoint`. UNAVAILABLE if taken.
absl::Status RegisterEndpoint(const std::string& endpoint, std::shared_ptr<Mailbox> box);
// Removes `endpoint` if it still names `box`.
void UnregisterEndpoint(const std::string& endpoint, const Mailbox* box);
// The mailbox at `endpoint`, or null.
std::shared_ptr<Mailbox> FindByEndpoint(const std::string& endpoint);
// The mailbox a ReturnPath token names, or null if gone or malformed.
std::shared_ptr<Mailbox> FindByToken(const ReturnPath& path);
// A process-unique number, for "inproc://name-*" endpoints.
uint64_t NextUniqueId();

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_INPROC_MAILBOX_H_
