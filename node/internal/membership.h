// node/internal/membership.h — who is in the cluster, and what this node
// tells the others about itself.
//
// A node greets every node it learns of with a Hello (its name,
// incarnation, wire version, endpoint, and its view of the cluster: every
// node with its endpoint and names), so one seed is enough to build a full
// mesh. Changes to the names registered here go to every peer as
// NamesChanged deltas (this class is the registry's NamesListener). A peer
// that says Goodbye, or whose connection the transport reports lost, is
// removed from the Directory with its names, and every call waiting on it
// fails with UNAVAILABLE at once; a peer that comes back under a new
// incarnation fails the calls made to the old one. A client node (polis
// call) is answered with the directory on its own connection and is never
// announced.
//
// Thread-safety: Join, Peers and OnNamesChanged from any thread; Start from
// the starting thread; the rest on the I/O thread (it owns the transport).
//
// Example (the node's wiring):
//   Membership m(&self, seeds, &directory, &registry, &calls, &io);
//   registry.set_listener(&m);
//   m.Start();                                   // Hello to every seed
//   ... I/O thread: if (!m.HandleSystem(env, from)) { /* not membership */ }
#ifndef POLIS_NODE_INTERNAL_MEMBERSHIP_H_
#define POLIS_NODE_INTERNAL_MEMBERSHIP_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bus/envelope.h"
#include "bus/transport.h"
#include "node/internal/call_slot.h"
#include "node/internal/directory.h"
#include "node/internal/io_thread.h"
#include "node/internal/local_node.h"
#include "node/internal/registry.h"

namespace polis::internal {

class Membership : public NamesListener {
 public:
  // Every pointer must outlive this.
  Membership(const LocalNode* self, std::vector<std::string> seeds, Directory* directory,
             const Registry* registry, CallTable* calls, IoThread* io);

  // Greets every seed (on the I/O thread, soon). Without seeds the node
  // counts as joined at once.
  void Start();
  // Waits until the handshake with at least one seed finished. UNAVAILABLE
  // if none answered within `timeout`.
  absl::Status Join(absl::Duration timeout);
  // Names of the nodes this node is connected to.
  std::vector<std::string> Peers() const { return directory_->ConnectedNodes(); }

  // NamesListener: tells every peer (posted to the I/O thread).
  void OnNamesChanged(std::vector<std::string> added, std::vector<std::string> removed) override;

  // --- I/O thread ---
  // Handles a Hello, NamesChanged or Goodbye that arrived on `from`; false
  // if `env` is none of them. A payload that does not parse is reported
  // through `bad_input` (DATA_LOSS) and dropped.
  bool HandleSystem(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                    bus::InboundHandler& bad_input);
  // The transport lost the connection to `endpoint`.
  void OnPeerDown(const std::string& endpoint, const absl::Status& why);
  // Says Goodbye to every peer and flushes the transport (node shutdown).
  void SayGoodbye();

 private:
  // Hello to `endpoint`, or as the answer on `reply_path` (a client's).
  void SendHello(const std::string& endpoint, const bus::ReturnPath* reply_path);
  void HandleHello(const wire::Hello& hello, const bus::ReturnPath& from,
                   bus::InboundHandler& bad_input);
  // Removes `node` and fails every call waiting on it.
  void NodeDown(const std::string& node, const absl::Status& why);
  // Sends `payload` as a system message to every known peer.
  void Broadcast(const google::protobuf::Message& payload);

  const LocalNode* const self_;
  const std::vector<std::string> seeds_;
  Directory* const directory_;
  const Registry* const registry_;
  CallTable* const calls_;
  IoThread* const io_;
  // Peers greeted since their connection was (re)made. I/O thread only.
  absl::flat_hash_set<std::string> hello_sent_;

  absl::Mutex join_mu_;
  bool joined_ ABSL_GUARDED_BY(join_mu_) = false;
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_MEMBERSHIP_H_
