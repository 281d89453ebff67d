// node/internal/local_node.h — who this node is: the facts every part of
// the runtime stamps on what it sends.
//
// Thread-safety: set once while the node starts (endpoint: before the
// scheduler runs), read-only afterwards from any thread.
#ifndef POLIS_NODE_INTERNAL_LOCAL_NODE_H_
#define POLIS_NODE_INTERNAL_LOCAL_NODE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "bus/curve_security.h"

#include "node/message.h"

namespace polis::internal {

struct LocalNode {
  std::string name;
  Pid pid;                    // {name, 0}: the sender of what plain threads send.
  uint64_t incarnation = 0;   // Random per start; tells restarts apart.
  uint64_t instance = 0;      // Process-unique, never 0 (RouteCache::Versions::node).
  std::string endpoint;       // Where peers reach it ("" if not listening).
  bool client = false;        // Hosts no names, is not announced.
  int64_t started_unix_ns = 0;  // Wall clock at start (orders incarnations, uptime).
  int64_t max_message_bytes = 0;  // Its envelope size limit (NodeOptions), told in Hello.
  // CURVE (NodeOptions::curve): its own public key and the keys it pinned
  // for other endpoints, for the entries its Hellos list; null without.
  std::shared_ptr<bus::CurveSecurity> curve;
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_LOCAL_NODE_H_
