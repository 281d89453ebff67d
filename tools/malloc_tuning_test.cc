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
// Bytes glibc holds in mmap'd blocks right now.
size_t MmappedBytes() { return mallinfo2().hblkhd; }

TEST(MallocTuningTest, GlibcAcceptsBothThresholds) { EXPECT_TRUE(KeepLargeBuffers()); }

TEST(MallocTuningTest, AFourMebibyteBlockComesFromTheHeapNotFromMmap) {
  ASSERT_TRUE(KeepLargeBuffers());
  const size_t before = MmappedBytes();
  void* block = std::malloc(size_t{4} << 20);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, size_t{4} << 20);
  EXPECT_EQ(MmappedBytes(), before);
  std::free(block);
}

TEST(MallocTuningTest, AFreedFourMebibyteBlockIsKeptForTheNext) {
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
