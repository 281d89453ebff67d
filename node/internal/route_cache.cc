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
  if (node.empty()) return nullptr;
  for (const Entry& e : Mine().entries) {
    if (e.versions == now && e.node == node) return &e.endpoint;
  }
  return nullptr;
}

namespace {

// The entry to overwrite for `name`: its stale one, else the next victim.
RouteCache::Entry& SlotFor(std::string_view name) {
  Cache& c = Mine();
  for (RouteCache::Entry& e : c.entries) {
    if (e.name == name) return e;
  }
  RouteCache::Entry& victim = c.entries[c.next];
  c.next = (c.next + 1) % kEntries;
  return victim;
}

}  // namespace

void RouteCache::StoreRemote(const Versions& then, std::string_view name, std::string_view node,
                             std::string_view endpoint) {
  Entry& e = SlotFor(name);
  e.versions = then;
  e.name.assign(name);
  e.node.assign(node);
  e.endpoint.assign(endpoint);
  e.local.reset();
}

void RouteCache::StoreLocal(const Versions& then, std::string_view name,
                            std::weak_ptr<Process> process) {
  Entry& e = SlotFor(name);
  e.versions = then;
  e.name.assign(name);
  e.node.clear();
  e.endpoint.clear();
  e.local = std::move(process);
}

}  // namespace polis::internal
