// node/internal/route_cache.cc — see route_cache.h.
#include "node/internal/route_cache.h"

namespace polis::internal {
namespace {

// A few entries: a thread rarely sends to more names than this in a loop,
// and a linear search over them beats hashing the name.
constexpr int kEntries = 4;

struct Cache {
  RouteCache::Entry entries[kEntries];
  int next = 0;  // round-robin victim
};

Cache& Mine() {
  thread_local Cache cache;
  return cache;
}

}  // namespace

const RouteCache::Entry* RouteCache::Find(const Versions& now, std::string_view name) {
  for (const Entry& e : Mine().entries) {
    if (e.versions == now && e.name == name) return &e;
  }
  return nullptr;
}

const std::string* RouteCache::EndpointOf(const Versions& now, std::string_view node) {
  for (const Entry& e : Mine().entries) {
    if (e.versions == now && e.node == node) return &e.endpoint;
  }
  return nullptr;
}

void RouteCache::Store(const Versions& then, std::string_view name, std::string_view node,
                       std::string_view endpoint) {
  Cache& c = Mine();
  Entry* slot = &c.entries[c.next];
  for (Entry& e : c.entries) {
    if (e.name == name) slot = &e;  // replace a stale entry for this name
  }
  if (slot == &c.entries[c.next]) c.next = (c.next + 1) % kEntries;
  slot->versions = then;
  slot->name.assign(name);
  slot->node.assign(node);
  slot->endpoint.assign(endpoint);
}

}  // namespace polis::internal
