// telemetry/prometheus_metrics.h — a node's metrics (node/metrics.h) as
// Prometheus's text format: the body of GET /metrics (metrics_server.h).
//
// Every series carries `node` (this node's name). The families, their types
// and labels (WORKSPACE.md, "Metrics", has the table and what each means):
//   per server (labels server, kind):
//     polis_server_processes                gauge
//     polis_server_messages_total           counter   + message_kind (call|cast|info)
//     polis_server_mailbox_length           gauge
//     polis_server_calls_answered_total     counter   + code ("OK", "NOT_FOUND", ...)
//     polis_server_handler_duration_seconds histogram (sampled: node/metrics.h)
//     polis_server_restarts_total           counter   (named servers only)
//   per peer (label peer; "" = non-members, e.g. clients):
//     polis_peer_up                         gauge     (members only)
//     polis_peer_received_messages_total, polis_peer_received_bytes_total,
//     polis_peer_sent_messages_total, polis_peer_sent_bytes_total,
//     polis_peer_dropped_messages_total, polis_peer_refused_frames_total
//   per node:
//     polis_node_processes, polis_node_resident_memory_bytes,
//     polis_node_start_time_seconds         gauges
//     polis_scheduler_queue_length          gauge     + worker
//     polis_bad_input_total                 counter   + reason
//     polis_peer_bad_input_total            counter   + peer, reason (refusals per
//                                           peer, non-members included: at most 256
//                                           peers, node/internal/peer_refusals.h)
//     polis_spans_recorded_total, polis_spans_dropped_total  counters
//     polis_spans_stored                    gauge
//
// Cardinality: one label set per named server, one per server kind for
// the unnamed processes (server=""), one per member; a named server that
// has not handled a message yet gets its restarts and mailbox only if they
// are not zero (100,000 idle named servers add nothing), and answers by
// code only for the codes it has answered with (OK always).
//
// Thread-safety: a pure function.
//
// Example:
//   std::string body = PrometheusMetrics(node->Metrics());
#ifndef POLIS_TELEMETRY_PROMETHEUS_METRICS_H_
#define POLIS_TELEMETRY_PROMETHEUS_METRICS_H_

#include <string>

#include "node/metrics.h"

namespace polis::telemetry {

std::string PrometheusMetrics(const NodeMetrics& metrics);

}  // namespace polis::telemetry

#endif  // POLIS_TELEMETRY_PROMETHEUS_METRICS_H_
