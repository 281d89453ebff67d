#include "tools/malloc_tuning.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace polis::tools {

bool KeepLargeBuffers() {
#if defined(__GLIBC__)
  // Setting either also turns off glibc's dynamic mmap threshold, which
  // would otherwise move with the sizes freed.
  const bool mmap_ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmapThresholdBytes)) == 1;
  const bool trim_ok = mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTrimThresholdBytes)) == 1;
  return mmap_ok && trim_ok;
#else
  return true;
#endif
}

}  // namespace polis::tools
