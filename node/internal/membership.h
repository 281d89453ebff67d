// node/internal/membership.h — who is in the cluster, how this node finds
// them again, and what it tells them about itself.
//
// Joining. A node greets every endpoint it knows of with a Hello (its own
// entry with its names, the members it has reached, its heartbeat address).
// A node becomes a member of this node's view (the Directory) only when its
// own Hello arrives; members another node lists are only endpoints to try.
// So one seed is enough to build a full mesh, and no one enters a view on
// hearsay (a Hello listing 20,000 nodes at an endpoint that does not answer
// adds one contact, which is dropped after it failed a few times).
//
// Staying joined. Endpoints to greet ("contacts") are the seeds (tried for
// ever), former members (tried for `forget_after` after they went down) and
// endpoints other members listed (dropped after kReferredAttempts failed
// tries). Each is greeted again with back-off (kFirstRetry, doubling up to
// `max_retry`) until its node is a member. So a node started before its
// seed joins when the seed comes up, and the two sides of a partition or a
// pause merge by themselves once they can reach each other.
//
// Failure detection. Members are watched by a FailureDetector (heartbeat
// datagrams on their own socket and thread, bus/heartbeat.h) and by the
// transport (a connection lost). A member that is silent for the detector's
// timeout, whose connection drops, or that says Goodbye is removed with its
// names; every call waiting on it fails with UNAVAILABLE at once and the
// MembershipObserver hears OnNodeDown (monitors fire). A Hello from a
// node's newer incarnation (later start time) replaces the old one (calls
// to it fail, OnNodeDown then OnNodeUp); a Hello or delta from an older
// incarnation is ignored.
//
// Names. The names registered here go to every member as numbered
// NamesChanged deltas (computed on the I/O thread from the registry, so
// they leave in order); a member that sees a gap asks for the full entry.
// When a member's claim to a name registered here wins by the conflict
// rule (directory.h), the registry yields it and the observer hears
// OnNameLost (the process gets a NameLost info).
//
// Clients. A client node (NodeOptions::client) is never a member. Its
// Hello asks a node for the view; with `subscribe` (every client node does)
// that node keeps pushing the view on the client's connection whenever it
// changes, and the client renews the subscription every kClientRenew. A
// Hello with client=true is a client's whatever its `node` field says (even
// this node's own name): it is always answered.
//
// Wire versions. A Hello whose wire_version is not bus::kWireVersion is
// counted as bad input ("version") and admits nothing; the connection stays
// (every frame is judged on its own version). If it came from a client or
// asks for an answer, the node answers on its connection with a Hello of
// only node, incarnation and wire_version: the version it speaks.
//
// Thread-safety: Join, Peers, OnNamesChanged and the FailureDetector
// callbacks from any thread; Start from the starting thread; the rest on
// the I/O thread (it owns the transport).
//
// Example (the node's wiring):
//   Membership m(parts, options);
//   registry.set_listener(&m);
//   m.Start();                                   // greets every seed
//   ... I/O thread: if (!m.HandleSystem(env, from, proved_key, report)) { /* not membership */ }
#ifndef POLIS_NODE_INTERNAL_MEMBERSHIP_H_
#define POLIS_NODE_INTERNAL_MEMBERSHIP_H_

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bus/envelope.h"
#include "bus/heartbeat.h"
#include "bus/transport.h"
#include "node/internal/call_slot.h"
#include "node/internal/directory.h"
#include "node/internal/io_thread.h"
#include "node/internal/local_node.h"
#include "node/internal/registry.h"
#include "node/internal/timer_queue.h"

namespace polis::internal {

// Told of changes to the membership, on the I/O thread.
class MembershipObserver {
 public:
  virtual ~MembershipObserver() = default;
  virtual void OnNodeUp(const std::string& node, uint64_t incarnation) = 0;
  // `why` is UNAVAILABLE (down, cut off, restarted, or left).
  virtual void OnNodeDown(const std::string& node, uint64_t incarnation,
                          const std::string& endpoint, const absl::Status& why) = 0;
  // `loser` (a local process) no longer holds `name`: `winner` does.
  virtual void OnNameLost(const Pid& loser, const std::string& name,
                          const NameClaim& winner) = 0;
};

// The failure detector as membership uses it (bus::Heartbeater in a node
// that listens on tcp:// or ipc://; none otherwise). Thread-safe.
class FailureDetector {
 public:
  virtual ~FailureDetector() = default;
  // Where peers send heartbeats, and the key this node signs them with
  // (both go into a Hello to a node, never to a client).
  virtual const std::string& address() const = 0;
  virtual std::string_view key() const = 0;
  // Watches a member that told `address` and `key` in its own Hello.
  virtual void Watch(const std::string& endpoint, uint64_t incarnation,
                     const std::string& address, std::string_view key) = 0;
  virtual void Unwatch(const std::string& endpoint) = 0;
  // Since the member was last heard (-1 ms if never) and its clock offset.
  virtual absl::Duration SinceHeard(const std::string& endpoint) const = 0;
  virtual absl::Duration ClockOffset(const std::string& endpoint) const = 0;
  // The detector's totals (heartbeats sent, accepted, refused by reason).
  virtual bus::HeartbeatCounters counters() const = 0;
};

struct MembershipOptions {
  // Seed endpoints (resolved: tcp://, ipc://, inproc://).
  std::vector<std::string> seeds;
  // Longest wait between two greetings of an endpoint that does not answer.
  absl::Duration max_retry = absl::Seconds(2);
  // How long a member that went down is still greeted.
  absl::Duration forget_after = absl::Minutes(10);
};

class Membership : public NamesListener {
 public:
  struct Parts {
    const LocalNode* self;
    Directory* directory;
    Registry* registry;
    CallTable* calls;
    IoThread* io;
    TimerQueue* timers;
    MembershipObserver* observer;
  };
  // Every pointer must outlive this.
  Membership(Parts parts, MembershipOptions options);
  ~Membership() override;

  // Greets every seed and starts the retry tick (on the I/O thread, soon).
  // Without seeds the node counts as joined at once.
  void Start();
  // Stops the tick (before the I/O thread stops).
  void Stop();
  // Set once before Start; may stay null (no heartbeats: in-process nodes).
  void set_detector(FailureDetector* d) { detector_ = d; }
  // Waits until the handshake with at least one seed finished. UNAVAILABLE
  // if none answered within `timeout`.
  absl::Status Join(absl::Duration timeout);
  // Names of the members.
  std::vector<std::string> Peers() const { return directory_->ConnectedNodes(); }

  // NamesListener: the names here changed; tells the members (posted).
  void OnNamesChanged() override;
  // Any thread: the detector's verdicts (posted to the I/O thread).
  void OnSilent(const std::string& endpoint, uint64_t incarnation, absl::Duration silent_for);
  void OnHeard(const std::string& endpoint, uint64_t incarnation, uint64_t names_version);

  // --- I/O thread ---
  // Replaces the seeds (a DNS seed re-resolved).
  void SetSeeds(std::vector<std::string> seeds);
  // Handles a Hello, NamesChanged, Members or Goodbye that arrived on `from`; false
  // if `env` is none of them. A payload that does not parse is reported
  // through `bad_input` (DATA_LOSS) and dropped. `proved_key`: the CURVE
  // key the sender proved ("" anonymous; membership_gate.h ProvedKey),
  // bound to the member a Hello makes. The caller has already refused what
  // the trust gate refuses (trust.h CheckMembership: a node speaks only for
  // itself).
  bool HandleSystem(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                    std::string_view proved_key,
                    absl::FunctionRef<void(const absl::Status&)> bad_input);
  // Pins CURVE keys for the contacts a membership message from `sender`
  // leads to (TrustGate::MembershipAdmission): `pin` ({endpoint, key}, a
  // member's Hello on the listening socket: the key it proved) always;
  // `listed` (the members its Hello lists) only from a node key, and only
  // keys this node's authorized keys call `node` (a client trusts the node
  // it authenticated), never over a key already pinned. No-op without CURVE.
  void PinKeys(const bus::Sender& sender, const std::pair<std::string, std::string>& pin,
               const std::vector<std::pair<std::string, std::string>>& listed);
  // The transport lost the connection to `endpoint`.
  void OnPeerDown(const std::string& endpoint, const absl::Status& why);
  // Says Goodbye to every member and flushes the transport (node shutdown).
  // A client only flushes: it was never a member.
  void SayGoodbye();
  // This node's view as NodeInfo members (polis nodes).
  void FillMembers(wire::NodeInfo* info) const;
  // This node's own entry (names as last announced).
  wire::NodeEntry SelfEntry() const;
  // The directory's entries, each with the CURVE key pinned for it.
  std::vector<wire::NodeEntry> Snapshot(bool with_names) const;
  // Any thread: the names_version last announced (heartbeats carry it).
  uint64_t names_version() const {
    return announced_version_seen_.load(std::memory_order_acquire);
  }

 private:
  struct Contact {
    enum class Source { kSeed, kFormer, kReferred };
    Source source = Source::kReferred;
    std::string node;  // The node it led to, once known.
    absl::Time next_try;
    absl::Duration backoff;
    int failures = 0;
    absl::Time expires = absl::InfiniteFuture();
  };
  struct Subscriber {
    bus::ReturnPath path;
    absl::Time expires;
  };

  void Tick();
  void ScheduleTick();
  void AddContact(const std::string& endpoint, Contact::Source source);
  // Hello to `endpoint` (reply_requested: the receiver answers), or as the
  // answer on `reply_path` (a client's).
  void SendHello(const std::string& endpoint, bool reply_requested, const std::string& answering);
  void AnswerClient(const wire::Hello& hello, const bus::ReturnPath& from);
  // To a Hello of a wire version this node does not speak: a Hello on
  // `from` with only node, incarnation and wire_version (no view, no self).
  void AnswerVersion(const bus::ReturnPath& from);
  void HandleHello(const wire::Hello& hello, const bus::ReturnPath& from,
                   std::string_view proved_key,
                   absl::FunctionRef<void(const absl::Status&)> bad_input);
  void HandleNamesChanged(const wire::NamesChanged& nc);
  // The names `entries` of member `node` are now claimed: yields ours that lose.
  void ResolveConflicts(const std::string& node, uint64_t incarnation,
                        const google::protobuf::RepeatedPtrField<wire::NameEntry>& entries);
  // Sends what changed in the registry's names since the last announcement.
  void SyncNames();
  void PushView();
  // Removes member `node` and fails every call waiting on it. `retry`: keep
  // greeting it (it did not say Goodbye).
  void NodeDown(const std::string& node, const absl::Status& why, bool retry);
  void Broadcast(const google::protobuf::Message& payload);
  void MarkJoined();

  const LocalNode* const self_;
  Directory* const directory_;
  Registry* const registry_;
  CallTable* const calls_;
  IoThread* const io_;
  TimerQueue* const timers_;
  MembershipObserver* const observer_;
  const MembershipOptions options_;
  FailureDetector* detector_ = nullptr;

  // I/O thread only.
  absl::flat_hash_map<std::string, Contact> contacts_;
  absl::flat_hash_map<std::string, wire::NameEntry> announced_;
  uint64_t announced_version_ = 1;
  std::vector<Subscriber> subscribers_;
  // The names_version our last Hello to each endpoint carried.
  absl::flat_hash_map<std::string, uint64_t> hello_version_sent_;
  // Which members (MembersDigest) our last Hello to each endpoint listed.
  absl::flat_hash_map<std::string, uint64_t> hello_members_sent_;
  // Members whose heartbeats announce newer names than we have, since when.
  absl::flat_hash_map<std::string, absl::Time> names_lag_;
  bool view_dirty_ = false;
  std::string client_primary_;  // A client's subscribed node endpoint.
  absl::Time client_renew_at_;
  absl::Time client_view_at_;
  absl::Time gossip_at_;

  std::atomic<bool> names_dirty_{false};
  std::atomic<uint64_t> announced_version_seen_{1};
  absl::Mutex tick_mu_;
  uint64_t tick_timer_ ABSL_GUARDED_BY(tick_mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(tick_mu_) = false;

  absl::Mutex join_mu_;
  bool joined_ ABSL_GUARDED_BY(join_mu_) = false;
  // Why a seed's connection last failed (a refused CURVE handshake says
  // so), for Join's error.
  std::string last_seed_error_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_MEMBERSHIP_H_
