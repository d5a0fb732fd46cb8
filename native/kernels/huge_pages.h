// Transparent huge pages for large, long-lived arrays that kernels stream
// (packed layers). With 2 MiB pages a pass over the weights takes one TLB
// miss per 2 MiB instead of one per 4 KiB.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace claq {

constexpr size_t kHugePageBytes = size_t{2} << 20;

// Asks the kernel to back the whole 2 MiB pages inside [memory, memory +
// bytes) with huge pages when they are first touched. It is advice only.
// Returns the bytes advised, or 0 where the system takes no such advice or
// rejects it.
inline size_t advise_huge_pages(void* memory, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t begin = reinterpret_cast<uintptr_t>(memory);
  const uintptr_t first = (begin + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  const uintptr_t last = (begin + bytes) / kHugePageBytes * kHugePageBytes;
  if (last <= first) return 0;
  const size_t advised = static_cast<size_t>(last - first);
  return madvise(reinterpret_cast<void*>(first), advised, MADV_HUGEPAGE) == 0 ? advised : 0;
#else
  (void)memory;
  (void)bytes;
  return 0;
#endif
}

}  // namespace claq
