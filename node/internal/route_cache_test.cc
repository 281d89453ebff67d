// node/internal/route_cache_test.cc — RouteCache: validity by versions, per thread.
#include "node/internal/route_cache.h"

#include <memory>
#include <thread>

#include "gtest/gtest.h"

namespace polis::internal {
namespace {

using Versions = RouteCache::Versions;

TEST(RouteCacheTest, AnEntryIsFoundOnlyUnderTheVersionsItWasMadeUnder) {
  const Versions v{101, 1, 1};
  RouteCache::StoreRemote(v, "counter", "b", "tcp://10.0.0.2:7000");
  const RouteCache::Entry* e = RouteCache::Find(v, "counter");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->node, "b");
  EXPECT_EQ(e->endpoint, "tcp://10.0.0.2:7000");
  ASSERT_NE(RouteCache::EndpointOf(v, "b"), nullptr);
  EXPECT_EQ(*RouteCache::EndpointOf(v, "b"), "tcp://10.0.0.2:7000");
  EXPECT_EQ(RouteCache::Find(v, "other"), nullptr);
  EXPECT_EQ(RouteCache::Find(Versions{101, 2, 1}, "counter"), nullptr);  // registry changed
  EXPECT_EQ(RouteCache::Find(Versions{101, 1, 2}, "counter"), nullptr);  // directory changed
  EXPECT_EQ(RouteCache::Find(Versions{102, 1, 1}, "counter"), nullptr);  // another node
  EXPECT_EQ(RouteCache::EndpointOf(Versions{101, 1, 2}, "b"), nullptr);
}

TEST(RouteCacheTest, StoringANameAgainReplacesItsStaleEntry) {
  RouteCache::StoreRemote(Versions{201, 1, 1}, "kv", "b", "tcp://b:1");
  RouteCache::StoreRemote(Versions{201, 1, 2}, "kv", "c", "tcp://c:1");
  EXPECT_EQ(RouteCache::Find(Versions{201, 1, 1}, "kv"), nullptr);
  ASSERT_NE(RouteCache::Find(Versions{201, 1, 2}, "kv"), nullptr);
  EXPECT_EQ(RouteCache::Find(Versions{201, 1, 2}, "kv")->node, "c");
}

TEST(RouteCacheTest, KeepsSeveralNamesAndEvictsTheOldest) {
  const Versions v{301, 1, 1};
  for (int i = 0; i < 4; ++i) {
    RouteCache::StoreRemote(v, "n" + std::to_string(i), "node", "tcp://x:" + std::to_string(i));
  }
  for (int i = 0; i < 4; ++i) EXPECT_NE(RouteCache::Find(v, "n" + std::to_string(i)), nullptr);
  RouteCache::StoreRemote(v, "n4", "node", "tcp://x:4");
  int found = 0;
  for (int i = 0; i <= 4; ++i) found += RouteCache::Find(v, "n" + std::to_string(i)) != nullptr;
  EXPECT_EQ(found, 4);
  EXPECT_NE(RouteCache::Find(v, "n4"), nullptr);
}

TEST(RouteCacheTest, ALocalEntryHasNoNodeAndReplacesARemoteOne) {
  const Versions v{501, 3, 1};
  RouteCache::StoreRemote(v, "moved", "b", "tcp://b:1");
  // A handle that shares `owner`'s lifetime stands in for a server.
  auto owner = std::make_shared<int>(7);
  RouteCache::StoreLocal(v, "moved", std::shared_ptr<Process>(owner, nullptr));
  const RouteCache::Entry* e = RouteCache::Find(v, "moved");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->node.empty());
  EXPECT_FALSE(e->local.expired());
  EXPECT_EQ(RouteCache::EndpointOf(v, "b"), nullptr);  // the remote entry is gone
  EXPECT_EQ(RouteCache::EndpointOf(v, ""), nullptr);   // local entries have none
  owner.reset();
  EXPECT_TRUE(RouteCache::Find(v, "moved")->local.expired());  // holds no server alive
}

TEST(RouteCacheTest, EachThreadHasItsOwn) {
  const Versions v{401, 1, 1};
  RouteCache::StoreRemote(v, "mine", "b", "tcp://b:1");
  bool seen_there = true;
  std::thread([&] { seen_there = RouteCache::Find(v, "mine") != nullptr; }).join();
  EXPECT_FALSE(seen_there);
  EXPECT_NE(RouteCache::Find(v, "mine"), nullptr);
}

}  // namespace
}  // namespace polis::internal
