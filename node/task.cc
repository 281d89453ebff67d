#include "node/task.h"

#include <cstdlib>
#include <new>

namespace polis::internal {
namespace {

// Frames up to kMaxPooled bytes are recycled through per-thread free lists
// in 64-byte size classes. A frame freed on another thread than the one that
// allocated it simply joins that thread's list: frames are plain memory.
constexpr std::size_t kClass = 64;
constexpr std::size_t kMaxPooled = 1024;
constexpr std::size_t kClasses = kMaxPooled / kClass;
constexpr std::size_t kMaxPerClass = 256;

struct FreeNode {
  FreeNode* next;
};

struct Pool {
  FreeNode* heads[kClasses] = {};
  std::size_t counts[kClasses] = {};
  ~Pool() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (FreeNode* n = heads[c]) {
        heads[c] = n->next;
        ::operator delete(n);
      }
    }
  }
};

Pool& LocalPool() {
  thread_local Pool pool;
  return pool;
}

}  // namespace

void* AllocateFrame(std::size_t size) {
  if (size > kMaxPooled) return ::operator new(size);
  std::size_t c = (size - 1) / kClass;
  Pool& pool = LocalPool();
  if (FreeNode* n = pool.heads[c]) {
    pool.heads[c] = n->next;
    --pool.counts[c];
    return n;
  }
  return ::operator new((c + 1) * kClass);
}

void FreeFrame(void* p, std::size_t size) noexcept {
  if (size > kMaxPooled) {
    ::operator delete(p);
    return;
  }
  std::size_t c = (size - 1) / kClass;
  Pool& pool = LocalPool();
  if (pool.counts[c] >= kMaxPerClass) {
    ::operator delete(p);
    return;
  }
  auto* n = static_cast<FreeNode*>(p);
  n->next = pool.heads[c];
  pool.heads[c] = n;
  ++pool.counts[c];
}

}  // namespace polis::internal
