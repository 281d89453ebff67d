// tools/malloc_tuning.h — keeps glibc from handing big buffers back to the
// kernel after every message, for the programs polis itself ships (`polis`
// and polis::NodeMain). Never called by the libraries a user links.
//
// Why: a message of a few hundred KiB or more is malloc'd and freed several
// times on its way (the payload, the letter, the frame, libzmq's receive
// buffer). glibc's defaults serve such blocks with mmap (or trim the heap
// top once 2x the last mmap'd size is free), so every message faults its
// pages in again; on a paravirtualised VM a page fault is dear. A 4 MiB call
// took ~45 ms instead of ~3 ms for raw ZeroMQ (WORKSPACE.md, "Large
// messages"). With this: blocks below 32 MiB come from the heap, and up to
// 64 MiB of free heap top per malloc arena is kept for the next message.
//
// Thread-safety: call once, at the start of main, before other threads.
//
// Example:
//   int main(int argc, char** argv) {
//     polis::tools::KeepLargeBuffers();
//     ...
//   }
#ifndef POLIS_TOOLS_MALLOC_TUNING_H_
#define POLIS_TOOLS_MALLOC_TUNING_H_

#include <cstddef>

namespace polis::tools {

// glibc serves allocations below this from its heaps, not from mmap (32 MiB
// is the largest value glibc accepts on 64-bit).
inline constexpr size_t kMmapThresholdBytes = size_t{32} << 20;
// Free memory at the top of a heap is returned to the kernel only beyond
// this (per arena).
inline constexpr size_t kTrimThresholdBytes = size_t{64} << 20;

// Sets both thresholds with mallopt (glibc only; elsewhere does nothing).
// Returns false if glibc refused either (the defaults then stay).
bool KeepLargeBuffers();

}  // namespace polis::tools

#endif  // POLIS_TOOLS_MALLOC_TUNING_H_
