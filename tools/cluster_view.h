// tools/cluster_view.h — the cluster as `polis nodes` and `polis ps` see
// it: every node's own NodeInfo, gathered through a seed.
//
// GatherCluster joins as a short-lived client node (as `polis call` does).
// The seed answers the client with its view of the members; each of them
// is then asked for its NodeInfo (Node::Info), all at once, one thread per
// node, so a node that does not answer costs the timeout once, not once per
// node. The seed's own NodeInfo says how the seed sees each member (state,
// last heard) and lists former members it still greets ("down"), which the
// client's view leaves out; those are reported without asking them.
//
// Which answer is the seed's: the node whose advertised endpoint is the
// seed string; if the seed was given by another name (a DNS name, another
// address of the host), the first node by name that answered.
//
// Thread-safety: GatherCluster is thread-safe (each run has its own node).
//
// Example:
//   absl::StatusOr<ClusterView> v = GatherCluster("tcp://127.0.0.1:7101", absl::Seconds(5));
//   for (const NodeReport& n : v->nodes) { if (n.info.ok()) ... n.info->servers() ... }
#ifndef POLIS_TOOLS_CLUSTER_VIEW_H_
#define POLIS_TOOLS_CLUSTER_VIEW_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "polis/envelope.pb.h"

namespace polis::tools {

// One node of the cluster.
struct NodeReport {
  std::string node;
  bool is_seed = false;
  // How the seed sees it (for the seed itself: its own entry, state "up",
  // last_heard_ms -1).
  wire::MemberInfo seen;
  // Its own answer, or why there is none: UNAVAILABLE (down, or not in the
  // client's view), DEADLINE_EXCEEDED (did not answer in time).
  absl::StatusOr<wire::NodeInfo> info;
};

struct ClusterView {
  std::string seed_node;
  std::vector<NodeReport> nodes;  // Sorted by node name.
};

// Asks the cluster at `seed`. The whole run ends within `timeout` (plus the
// client node's shutdown). Errors: UNAVAILABLE if the seed does not answer
// the client's handshake within `timeout`; the seed's own error if no node
// answered the NodeInfo request. A member that does not answer is not an
// error: its NodeReport carries the status.
absl::StatusOr<ClusterView> GatherCluster(const std::string& seed, absl::Duration timeout);

// The assembly step of GatherCluster, without sockets: `answers` are the
// nodes of the client's view, sorted by name, with what each said. The
// first error (UNAVAILABLE if there are no answers) if none answered.
// Exposed for tests.
using NodeAnswers = std::vector<std::pair<std::string, absl::StatusOr<wire::NodeInfo>>>;
absl::StatusOr<ClusterView> AssembleView(const std::string& seed, NodeAnswers answers);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_CLUSTER_VIEW_H_
