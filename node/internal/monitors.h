// node/internal/monitors.h — monitors that cross nodes: a process here
// watching a process or a node elsewhere, and processes here watched from
// elsewhere.
//
// Watcher side. Watch(p, ref, target) resolves `target` (a pid, or a name:
// registered here, else the directory's winning claim). A local target gets
// a plain Process::AddMonitor. A target on a member node is recorded (ref →
// watcher, node, the member's incarnation, target) and a MonitorRequest goes
// to that node, which answers with a ProcessDown when the target ends (or at
// once, NOT_FOUND, if it does not exist). A target nowhere, or on a node that
// is not a member, gets ProcessDown NOT_FOUND at once. WatchNode records a
// node monitor (NodeDown NOT_FOUND at once for a non-member). When a member
// goes down (OnNodeDown: crashed, cut off, left, or restarted — a monitor
// is on the incarnation it was placed on) every monitor on it fires, with
// UNAVAILABLE. The watcher tracks the reference (Process::track_monitor;
// a node monitor as Pid{node, 0}); a DOWN for a reference it no longer
// tracks is dropped at delivery (process.cc), so Demonitor is final even
// for a DOWN already in flight.
//
// Target side. HandleSystem takes MonitorRequest / DemonitorRequest (I/O
// thread): the local process gets the remote watcher as a monitor, and the
// existing death path (ProcessHost::NotifyDown → Router) sends ProcessDown
// to the remote watcher. An index by watcher node lets OnNodeDown remove
// the monitors of a node that went away (no leak); Fired drops an entry
// once its DOWN was sent.
//
// Thread-safety: Watch, WatchNode, Unwatch, Forget from the watching
// process's runner; Fired from any thread; HandleSystem and OnNodeDown on
// the I/O thread. One mutex; it is taken before a Process's own (never
// while that is held).
//
// Example (NodeCore's wiring):
//   Monitors monitors({.self = &self_, .registry = ..., .directory = ...,
//                      .router = ..., .io = ...});
//   monitors.Watch(p, ref, Target("db"));             // in ProcessContext::Monitor
//   if (monitors.HandleSystem(env, report)) return;   // I/O thread
//   monitors.OnNodeDown(node, incarnation, why);      // MembershipObserver
#ifndef POLIS_NODE_INTERNAL_MONITORS_H_
#define POLIS_NODE_INTERNAL_MONITORS_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "bus/envelope.h"
#include "bus/transport.h"
#include "google/protobuf/message.h"
#include "node/internal/directory.h"
#include "node/internal/io_thread.h"
#include "node/internal/local_node.h"
#include "node/internal/registry.h"
#include "node/internal/router.h"
#include "node/message.h"

namespace polis::internal {

class Process;

class Monitors {
 public:
  // Every pointer must outlive this.
  struct Parts {
    const LocalNode* self;
    Registry* registry;
    const Directory* directory;
    Router* router;
    IoThread* io;
  };
  explicit Monitors(const Parts& parts);

  // --- Watcher side (the watcher's runner) ---
  // `watcher` monitors `target` under `ref` (see the file comment).
  void Watch(Process* watcher, uint64_t ref, const Target& target);
  // `watcher` monitors node `node` under `ref`. The own node never fires.
  void WatchNode(Process* watcher, uint64_t ref, const std::string& node);
  // Cancels remote monitor `ref` (a process or node monitor): tells the
  // target node for a process monitor still pending. No-op if unknown.
  void Unwatch(uint64_t ref);
  // The watcher received the DOWN of remote monitor `ref`: forgets it
  // (nothing is sent).
  void Forget(uint64_t ref);

  // --- Target side ---
  // Any thread: the DOWN for remote watcher `watcher`'s monitor `ref` was
  // sent (the watched process ended).
  void Fired(const Pid& watcher, uint64_t ref);
  // I/O thread: handles a MonitorRequest or DemonitorRequest; false if
  // `env` is neither. One that does not parse goes to `bad_input`. A
  // MonitorRequest whose watcher's node is not a member (or restarted) is
  // refused: `*refused` (if given) is set to FAILED_PRECONDITION, for the
  // caller to answer an envelope that has a ref; else left OK.
  bool HandleSystem(const bus::EnvelopeView& env,
                    absl::FunctionRef<void(const absl::Status&)> bad_input,
                    absl::Status* refused = nullptr);

  // I/O thread: member `node` (incarnation `incarnation`) went down with
  // `why`: its monitors fire; monitors it held here go.
  void OnNodeDown(const std::string& node, uint64_t incarnation, const absl::Status& why);

  // For tests: remote monitors held here by processes of `node`, and
  // placed from here on processes or nodes elsewhere.
  size_t WatchedFrom(const std::string& node) const;
  size_t Watching() const;

 private:
  struct Entry {
    Pid watcher;
    std::string node;
    uint64_t incarnation = 0;
    Pid target;        // {node, 0} for a node monitor.
    std::string name;  // Target's name if monitored by name.
    bool node_only = false;
  };

  // OK, or FAILED_PRECONDITION: the watcher's node is not a member.
  absl::Status HandleMonitor(const wire::MonitorRequest& req);
  void HandleDemonitor(const wire::DemonitorRequest& req);
  // Sends system message `payload` to member `node` (from the I/O thread,
  // or posted to it). If it cannot leave, monitor `monitor_ref` (unless 0)
  // fires with the transport's error.
  void SendSystem(const std::string& node, const google::protobuf::Message& payload,
                  uint64_t monitor_ref);
  void NodeDownNow(const Pid& watcher, uint64_t ref, const std::string& node,
                   const absl::Status& why);
  // Adds `e` under `ref` on its node's current incarnation (returned);
  // 0 (nothing added) if its node is not a member.
  uint64_t Add(uint64_t ref, Entry e);

  const LocalNode& self_;
  Registry& registry_;
  const Directory& directory_;
  Router& router_;
  IoThread& io_;

  mutable absl::Mutex mu_;
  // Watcher side: monitors placed from here on other nodes, and their refs
  // by node.
  absl::flat_hash_map<uint64_t, Entry> watches_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::flat_hash_set<uint64_t>> by_node_ ABSL_GUARDED_BY(mu_);
  // Target side: watcher node → (ref → local pid watched).
  absl::flat_hash_map<std::string, absl::flat_hash_map<uint64_t, uint64_t>> watched_by_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_MONITORS_H_
