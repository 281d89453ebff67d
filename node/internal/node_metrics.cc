// NodeCore::Metrics — the snapshot behind Node::Metrics (node/metrics.h):
// servers from the registry (named ones each, unnamed ones summed per
// kind), peers from membership and the transport's traffic table, the
// node's own figures from the scheduler, /proc and the tracer.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/notification.h"
#include "node/internal/node_core.h"
#include "node/internal/process.h"

namespace polis::internal {
namespace {

// How long Metrics waits for the I/O thread to list the members.
constexpr absl::Duration kMembersTimeout = absl::Seconds(1);

void CollectServers(const Registry& registry, NodeMetrics* m) {
  std::vector<ServerMetrics> retired;
  const std::vector<std::shared_ptr<Process>> live = registry.ProcessesAndRetired(&retired);
  m->processes = static_cast<int64_t>(live.size());
  absl::flat_hash_map<std::string, ServerMetrics> kinds;
  for (ServerMetrics& r : retired) {
    std::string kind = r.kind;
    kinds[kind] = std::move(r);
  }
  // A process dying meanwhile is still counted here (it is not yet in
  // `retired`): skipping it would make its kind's sums go down.
  for (const std::shared_ptr<Process>& p : live) {
    ServerMetrics s;
    s.kind = p->kind();
    s.processes = 1;
    s.mailbox = p->mailbox_length();
    s.dropped = p->dropped();
    if (const ProcessStats* stats = p->stats()) stats->AddTo(&s);
    std::string name = p->name();
    if (name.empty()) {
      ServerMetrics& kind = kinds[s.kind];
      kind.kind = s.kind;
      kind.Add(s);
      continue;
    }
    s.restarts = std::max(0, registry.Registrations(name) - 1);
    s.server = std::move(name);
    m->servers.push_back(std::move(s));
  }
  std::sort(m->servers.begin(), m->servers.end(),
            [](const ServerMetrics& a, const ServerMetrics& b) { return a.server < b.server; });
  const size_t named = m->servers.size();
  for (auto& [kind, s] : kinds) m->servers.push_back(std::move(s));
  std::sort(m->servers.begin() + named, m->servers.end(),
            [](const ServerMetrics& a, const ServerMetrics& b) { return a.kind < b.kind; });
}

}  // namespace

NodeMetrics NodeCore::Metrics() {
  NodeMetrics m;
  m.node = self_.name;
  m.started_unix_ns = self_.started_unix_ns;
  m.refused_by_trust = refused_by_trust();
  m.refused_replies = refused_replies();
  if (transport_) {
    const bus::SlowReaderStats slow = transport_->SlowReaders();  // Thread-safe.
    m.unread_reply_bytes = slow.unread_reply_bytes;
    m.slow_reader_dropped_replies = slow.dropped_replies;
  }
  m.resident_bytes = ResidentMemoryBytes();
  m.spans = facade_->trace_stats();
  for (size_t r = 0; r < kBadInputReasons; ++r) {  // Every reason, even before Start.
    const auto reason = static_cast<BadInputReason>(r);
    m.bad_input.emplace_back(BadInputReasonName(reason), trust_ ? trust_->bad_input(reason) : 0);
  }
  if (trust_) {
    for (const PeerRefusals::Entry& e : trust_->ByPeer()) {
      NodeMetrics::PeerBadInput& p = m.bad_input_by_peer.emplace_back();
      p.peer = e.peer;
      for (size_t r = 0; r < kBadInputReasons; ++r) {
        if (e.by_reason[r] == 0) continue;
        p.by_reason.emplace_back(BadInputReasonName(static_cast<BadInputReason>(r)), e.by_reason[r]);
      }
    }
  }
  if (!scheduler_ || stopped_) return m;  // Not started, or shut down.
  for (int i = 0; i < scheduler_->size(); ++i) {
    m.run_queues.push_back(static_cast<int64_t>(scheduler_->queued(i)));
  }
  CollectServers(*registry_, &m);

  // Members and their state are the I/O thread's. From a worker (a
  // handler) it cannot be waited for: the peers then show traffic only.
  // The heartbeat counters are read there too (detector_ is the I/O
  // thread's until it stops).
  struct Members {
    absl::Notification done;
    wire::NodeInfo info;
    std::optional<bus::HeartbeatCounters> heartbeat;
  };
  auto members = std::make_shared<Members>();
  if (!OnWorker()) {
    io_->Post([this, members] {
      membership_->FillMembers(&members->info);
      if (detector_ != nullptr) members->heartbeat = detector_->counters();
      members->done.Notify();
    });
    members->done.WaitForNotificationWithTimeout(kMembersTimeout);
  }
  if (members->done.HasBeenNotified() && members->heartbeat) {
    const bus::HeartbeatCounters& c = *members->heartbeat;
    m.heartbeats_sent = c.beats_sent;
    m.heartbeats_accepted = c.beats_accepted;
    m.heartbeats_ignored = {{"unwatched", c.ignored_unwatched},
                            {"malformed", c.ignored_malformed},
                            {"oversized", c.ignored_oversized},
                            {"unauthenticated", c.ignored_unauthenticated},
                            {"replayed", c.ignored_replayed},
                            {"other_incarnation", c.beats_other_incarnation}};
  }
  std::map<std::string, PeerMetrics> peers;
  if (members->done.HasBeenNotified()) {
    for (const wire::MemberInfo& mi : members->info.members()) {
      PeerMetrics& p = peers[mi.node()];
      p.node = mi.node();
      p.endpoint = mi.endpoint();
      p.member = true;
      p.up = mi.state() == "up";
    }
  }
  for (const bus::PeerTraffic& t : transport_->Traffic()) {
    PeerMetrics& p = peers[t.node];
    p.node = t.node;
    p.messages_in += t.messages_in;
    p.bytes_in += t.bytes_in;
    p.messages_out += t.messages_out;
    p.bytes_out += t.bytes_out;
    p.dropped += t.dropped;
    p.refused += t.refused;
  }
  for (auto& [node, p] : peers) m.peers.push_back(std::move(p));  // "" sorts first.
  return m;
}

}  // namespace polis::internal
