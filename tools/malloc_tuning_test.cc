#include "tools/malloc_tuning.h"

#include <cstdlib>
#include <cstring>

#include "gtest/gtest.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace polis::tools {
namespace {

#if defined(__GLIBC__)
// Under a sanitizer (ASan's allocator replaces glibc's: mallopt and
// mallinfo2 do nothing there) these tests have nothing to check.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define POLIS_SKIP_UNDER_SANITIZER() GTEST_SKIP() << "the sanitizer's allocator replaces glibc's"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define POLIS_SKIP_UNDER_SANITIZER() GTEST_SKIP() << "the sanitizer's allocator replaces glibc's"
#endif
#endif
#ifndef POLIS_SKIP_UNDER_SANITIZER
#define POLIS_SKIP_UNDER_SANITIZER() (void)0
#endif

// Bytes glibc holds in mmap'd blocks right now.
size_t MmappedBytes() { return mallinfo2().hblkhd; }

TEST(MallocTuningTest, GlibcAcceptsBothThresholds) {
  POLIS_SKIP_UNDER_SANITIZER();
  EXPECT_TRUE(KeepLargeBuffers());
}

TEST(MallocTuningTest, AFourMebibyteBlockComesFromTheHeapNotFromMmap) {
  POLIS_SKIP_UNDER_SANITIZER();
  ASSERT_TRUE(KeepLargeBuffers());
  const size_t before = MmappedBytes();
  void* block = std::malloc(size_t{4} << 20);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, size_t{4} << 20);
  EXPECT_EQ(MmappedBytes(), before);
  std::free(block);
}

TEST(MallocTuningTest, AFreedFourMebibyteBlockIsKeptForTheNext) {
  POLIS_SKIP_UNDER_SANITIZER();
  ASSERT_TRUE(KeepLargeBuffers());
  void* first = std::malloc(size_t{4} << 20);
  ASSERT_NE(first, nullptr);
  std::memset(first, 1, size_t{4} << 20);
  std::free(first);
  // Not trimmed: the heap still holds the freed block's pages.
  EXPECT_GE(mallinfo2().fordblks, size_t{4} << 20);
}
#endif

}  // namespace
}  // namespace polis::tools
