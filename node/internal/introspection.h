// node/internal/introspection.h — what a node says about itself when asked
// (polis nodes, polis ps): a wire::NodeInfo with its own entry, its view of
// the members, and every process it hosts.
//
// The question is a KIND_SYSTEM call carrying a NodeInfoRequest, addressed
// to the node itself (pid 0, no name; bus/WIRE.md). The runtime answers it
// on the I/O thread, like a DescribeRequest; no process is involved. The
// NodeCore's side (NodeCore::Info, NodeCore::HandleNodeInfo) lives in
// introspection.cc too, to keep node_core.cc to its wiring.
//
// Thread-safety: CollectNodeInfo on the I/O thread only (it reads
// Membership's I/O-thread state); FillServers from any thread.
//
// Example (the I/O thread, answering a NodeInfoRequest):
//   wire::NodeInfo info = CollectNodeInfo(membership, registry);
//   router.SendReply(letter->from, absl::OkStatus(), Message::From(info), letter->trace);
#ifndef POLIS_NODE_INTERNAL_INTROSPECTION_H_
#define POLIS_NODE_INTERNAL_INTROSPECTION_H_

#include "node/internal/membership.h"
#include "node/internal/registry.h"
#include "polis/envelope.pb.h"

namespace polis::internal {

// This node's NodeInfo: `self` (as last announced), the members sorted by
// node name (FillMembers: "up" ones and former members being retried,
// "down"), and the servers (FillServers). I/O thread only.
wire::NodeInfo CollectNodeInfo(const Membership& membership, const Registry& registry);

// Adds a ServerInfo for every live process in `registry`, sorted by name
// then pid (unregistered processes, name "", first). `mailbox` is
// approximate (Mailbox::ApproximateSize); `restarts` is how many times the
// name was registered here before the current holder (0 if unnamed).
void FillServers(const Registry& registry, wire::NodeInfo* info);

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_INTROSPECTION_H_
