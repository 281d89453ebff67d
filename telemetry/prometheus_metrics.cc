// telemetry/prometheus_metrics.cc — see prometheus_metrics.h.
#include "telemetry/prometheus_metrics.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "telemetry/prometheus_text.h"

namespace polis::telemetry {
namespace {

// Whether a server gets its full set of series: the unnamed of a kind
// always, a named one once it has handled something.
bool Active(const ServerMetrics& s) {
  if (s.server.empty() || s.calls + s.casts + s.infos > 0) return true;
  for (uint64_t n : s.answered) {
    if (n > 0) return true;
  }
  return false;
}

class Writer {
 public:
  explicit Writer(const NodeMetrics& m) : m_(m) {}

  std::string Write() {
    Servers();
    Peers();
    Node();
    return out_.Take();
  }

 private:
  Labels ServerLabels(const ServerMetrics& s) const {
    return {{"node", m_.node}, {"server", s.server}, {"kind", s.kind}};
  }
  Labels PeerLabels(const PeerMetrics& p) const { return {{"node", m_.node}, {"peer", p.node}}; }

  void Servers() {
    constexpr char kProcesses[] = "polis_server_processes";
    out_.Family(kProcesses, MetricType::kGauge,
                "Live processes: 1 for a registered server; for server=\"\", the unregistered "
                "processes of that kind.");
    for (const ServerMetrics& s : m_.servers) {
      if (Active(s)) out_.Sample(kProcesses, ServerLabels(s), s.processes);
    }
    constexpr char kMessages[] = "polis_server_messages_total";
    out_.Family(kMessages, MetricType::kCounter,
                "Messages whose handler started, by message_kind (call, cast, info).");
    for (const ServerMetrics& s : m_.servers) {
      if (!Active(s)) continue;
      const std::pair<const char*, uint64_t> kinds[] = {
          {"call", s.calls}, {"cast", s.casts}, {"info", s.infos}};
      for (const auto& [kind, n] : kinds) {
        Labels l = ServerLabels(s);
        l.push_back({"message_kind", kind});
        out_.Sample(kMessages, l, n);
      }
    }
    constexpr char kMailbox[] = "polis_server_mailbox_length";
    out_.Family(kMailbox, MetricType::kGauge, "Messages waiting in the mailbox (approximate).");
    for (const ServerMetrics& s : m_.servers) {
      if (Active(s) || s.mailbox != 0) out_.Sample(kMailbox, ServerLabels(s), s.mailbox);
    }
    constexpr char kDropped[] = "polis_server_dropped_messages_total";
    out_.Family(kDropped, MetricType::kCounter,
                "Casts and infos dropped because the mailbox was full.");
    for (const ServerMetrics& s : m_.servers) {
      if (Active(s) || s.dropped != 0) out_.Sample(kDropped, ServerLabels(s), s.dropped);
    }
    constexpr char kAnswered[] = "polis_server_calls_answered_total";
    out_.Family(kAnswered, MetricType::kCounter,
                "Calls answered, by status code (the handler's reply or error, or a refusal).");
    for (const ServerMetrics& s : m_.servers) {
      if (!Active(s)) continue;
      for (int c = 0; c < kStatusCodes; ++c) {
        if (c != 0 && s.answered[c] == 0) continue;
        const std::string code = absl::StatusCodeToString(static_cast<absl::StatusCode>(c));
        Labels l = ServerLabels(s);
        l.push_back({"code", code});
        out_.Sample(kAnswered, l, s.answered[c]);
      }
    }
    constexpr char kDuration[] = "polis_server_handler_duration_seconds";
    out_.Family(kDuration, MetricType::kHistogram,
                absl::StrCat("How long handlers ran, suspended time included. Timed: every "
                             "message of a sampled trace, one in ",
                             kLatencySampleEvery, " of the others per process."));
    std::vector<double> bounds;
    for (int64_t ns : LatencyHistogram::kBoundsNs) bounds.push_back(static_cast<double>(ns) / 1e9);
    for (const ServerMetrics& s : m_.servers) {
      if (!Active(s)) continue;
      const std::vector<uint64_t> counts(s.latency.counts.begin(), s.latency.counts.end());
      out_.Histogram(kDuration, ServerLabels(s), bounds, counts,
                     static_cast<double>(s.latency.sum_ns) / 1e9);
    }
    constexpr char kRestarts[] = "polis_server_restarts_total";
    out_.Family(kRestarts, MetricType::kCounter,
                "Times the server's name was registered on this node before its current "
                "process (supervisor restarts and any re-registration).");
    for (const ServerMetrics& s : m_.servers) {
      if (s.server.empty() || (!Active(s) && s.restarts == 0)) continue;
      out_.Sample(kRestarts, ServerLabels(s), s.restarts);
    }
  }

  void Peers() {
    constexpr char kUp[] = "polis_peer_up";
    out_.Family(kUp, MetricType::kGauge,
                "1 if the member is in this node's view, 0 if it is down (being greeted again).");
    for (const PeerMetrics& p : m_.peers) {
      if (p.member) out_.Sample(kUp, PeerLabels(p), int64_t{p.up ? 1 : 0});
    }
    struct Counter {
      const char* name;
      const char* help;
      uint64_t PeerMetrics::*field;
    };
    static constexpr Counter kCounters[] = {
        {"polis_peer_received_messages_total", "Envelopes received from the peer.",
         &PeerMetrics::messages_in},
        {"polis_peer_received_bytes_total", "Bytes of the frames received from the peer.",
         &PeerMetrics::bytes_in},
        {"polis_peer_sent_messages_total", "Envelopes queued for the peer.",
         &PeerMetrics::messages_out},
        {"polis_peer_sent_bytes_total", "Bytes of the frames queued for the peer.",
         &PeerMetrics::bytes_out},
        {"polis_peer_dropped_messages_total",
         "Envelopes for the peer refused (its queue was full) or discarded (connection lost).",
         &PeerMetrics::dropped},
        {"polis_peer_refused_frames_total", "Frames from the peer that did not decode.",
         &PeerMetrics::refused},
    };
    for (const Counter& c : kCounters) {
      out_.Family(c.name, MetricType::kCounter,
                  absl::StrCat(c.help, " peer=\"\": nodes that are not members (clients)."));
      for (const PeerMetrics& p : m_.peers) out_.Sample(c.name, PeerLabels(p), p.*c.field);
    }
  }

  void Node() {
    const Labels node = {{"node", m_.node}};
    out_.Family("polis_node_processes", MetricType::kGauge, "Live processes on the node.");
    out_.Sample("polis_node_processes", node, m_.processes);
    out_.Family("polis_node_resident_memory_bytes", MetricType::kGauge,
                "Resident set size of the node's OS process.");
    out_.Sample("polis_node_resident_memory_bytes", node, m_.resident_bytes);
    out_.Family("polis_node_start_time_seconds", MetricType::kGauge,
                "When the node started, in seconds since the Unix epoch.");
    out_.Sample("polis_node_start_time_seconds", node,
                static_cast<double>(m_.started_unix_ns) / 1e9);
    out_.Family("polis_scheduler_queue_length", MetricType::kGauge,
                "Processes waiting in a scheduler worker's run queue.");
    for (size_t i = 0; i < m_.run_queues.size(); ++i) {
      const std::string worker = absl::StrCat(i);
      out_.Sample("polis_scheduler_queue_length", {{"node", m_.node}, {"worker", worker}},
                  m_.run_queues[i]);
    }
    out_.Family("polis_bad_input_total", MetricType::kCounter,
                "Frames and messages from peers the node refused, by reason (framing, version, "
                "multipart, oversized, undecodable, unknown_kind, unknown_system, refused, other).");
    for (const auto& [reason, n] : m_.bad_input) {
      out_.Sample("polis_bad_input_total", {{"node", m_.node}, {"reason", reason}}, n);
    }
    if (!m_.heartbeats_ignored.empty()) {
      out_.Family("polis_heartbeats_sent_total", MetricType::kCounter,
                  "Heartbeat datagrams sent to members.");
      out_.Sample("polis_heartbeats_sent_total", node, m_.heartbeats_sent);
      out_.Family("polis_heartbeats_accepted_total", MetricType::kCounter,
                  "Heartbeats that kept a member alive (signed with its key, newer seq).");
      out_.Sample("polis_heartbeats_accepted_total", node, m_.heartbeats_accepted);
      out_.Family("polis_heartbeats_ignored_total", MetricType::kCounter,
                  "Heartbeat datagrams dropped, by reason (unwatched, malformed, oversized, "
                  "unauthenticated: no MAC or not the sender's key, replayed: old seq, "
                  "other_incarnation).");
      for (const auto& [reason, n] : m_.heartbeats_ignored) {
        out_.Sample("polis_heartbeats_ignored_total", {{"node", m_.node}, {"reason", reason}}, n);
      }
    }
    constexpr char kPeerBadInput[] = "polis_peer_bad_input_total";
    out_.Family(kPeerBadInput, MetricType::kCounter,
                "polis_bad_input_total per peer: a member's name, key:PREFIX [comment] for an "
                "authorized key, addr:IP for an anonymous connection, other past 256 peers.");
    for (const NodeMetrics::PeerBadInput& p : m_.bad_input_by_peer) {
      for (const auto& [reason, n] : p.by_reason) {
        out_.Sample(kPeerBadInput, {{"node", m_.node}, {"peer", p.peer}, {"reason", reason}}, n);
      }
    }
    out_.Family("polis_trust_refused_total", MetricType::kCounter,
                "Envelopes the trust rules refused: a client's message or system request its role "
                "does not allow, a runtime notice not from the node it is about.");
    out_.Sample("polis_trust_refused_total", node, m_.refused_by_trust);
    out_.Family("polis_refused_replies_total", MetricType::kCounter,
                "Replies refused because they did not come from the node the call was sent to.");
    out_.Sample("polis_refused_replies_total", node, m_.refused_replies);
    out_.Family("polis_unread_reply_bytes", MetricType::kGauge,
                "Bytes of replies handed to callers' connections and not yet written out.");
    out_.Sample("polis_unread_reply_bytes", node, m_.unread_reply_bytes);
    out_.Family("polis_slow_reader_dropped_replies_total", MetricType::kCounter,
                "Replies dropped because their caller had max_unread_reply_bytes unread.");
    out_.Sample("polis_slow_reader_dropped_replies_total", node, m_.slow_reader_dropped_replies);
    out_.Family("polis_spans_recorded_total", MetricType::kCounter,
                "Spans recorded in the node's span store.");
    out_.Sample("polis_spans_recorded_total", node, m_.spans.recorded);
    out_.Family("polis_spans_dropped_total", MetricType::kCounter,
                "Spans dropped from the full span store (oldest first).");
    out_.Sample("polis_spans_dropped_total", node, m_.spans.dropped);
    out_.Family("polis_spans_stored", MetricType::kGauge, "Spans in the span store now.");
    out_.Sample("polis_spans_stored", node, m_.spans.stored);
  }

  const NodeMetrics& m_;
  PrometheusText out_;
};

}  // namespace

std::string PrometheusMetrics(const NodeMetrics& metrics) { return Writer(metrics).Write(); }

}  // namespace polis::telemetry
