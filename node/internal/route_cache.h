// node/internal/route_cache.h — per-thread memo of where names live.
//
// Sending to a server by name needs a lookup under the registry's shared
// lock (a local server), and for a remote one the node that hosts the name
// and that node's endpoint under the directory's lock. A thread that sends
// to the same few names over and over (a client loop, a process casting to
// a sink, the I/O thread delivering a stream) keeps the answers here
// instead, valid for as long as neither the local registry nor the
// directory has changed: both carry a version number that every change
// bumps, and an entry records the versions it was looked up under. A hit
// costs a few string compares and no lock.
//
// Thread-safety: each thread has its own cache (thread_local); nothing is
// shared. Entries of different nodes in one process are told apart by the
// node's instance number, never reused within a process.
//
// Example:
//   RouteCache::Versions now = core.route_versions();
//   if (const RouteCache::Entry* e = RouteCache::Find(now, "counter")) {
//     if (e->node.empty()) Deliver(e->local.lock()); else Send(e->node, e->endpoint);
//   }
#ifndef POLIS_NODE_INTERNAL_ROUTE_CACHE_H_
#define POLIS_NODE_INTERNAL_ROUTE_CACHE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace polis::internal {

class Process;

class RouteCache {
 public:
  struct Versions {
    uint64_t node = 0;       // NodeCore instance (process-unique, never 0)
    uint64_t names = 0;      // its local registry's version
    uint64_t directory = 0;  // its directory's version
    bool operator==(const Versions&) const = default;
  };
  struct Entry {
    Versions versions;
    std::string name;               // a server name
    std::string node;               // the remote node hosting it; "" if local
    std::string endpoint;           // where that node listens (remote)
    std::weak_ptr<Process> local;   // the local server (local)
  };

  // The entry for `name` looked up under exactly `now`, or null.
  static const Entry* Find(const Versions& now, std::string_view name);
  // The endpoint of remote `node` from any entry looked up under `now`, or
  // null.
  static const std::string* EndpointOf(const Versions& now, std::string_view node);
  // Remembers a lookup made under `then` (read before the lookup began):
  // `name` lives on remote `node` at `endpoint`, or is the local `process`.
  static void StoreRemote(const Versions& then, std::string_view name, std::string_view node,
                          std::string_view endpoint);
  static void StoreLocal(const Versions& then, std::string_view name,
                         std::weak_ptr<Process> process);
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_ROUTE_CACHE_H_
