// Large uninitialised buffers for the quantizer's work matrices (the damped
// Hessian, U, the transposed weights, the codes). Their contents start
// undefined because each is written in full before it is read.
//
// On Linux the buffer is 2 MiB aligned and advised for transparent huge
// pages, because page faults dominate the cost of fresh memory in a VM. On
// the Zen 5 build machine (THP mode "madvise") allocating and touching 64 MiB
// took 32 ms of CPU with 4 KiB pages and 4 ms with huge pages. The advice is
// only a hint: without THP the buffer behaves like plain memory.
// NOTE: the first such fault in a process may wait for the kernel to compact
// memory; that took 140 ms once in the same measurement.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace claq {

template <typename T>
class WorkBuffer {
 public:
  WorkBuffer() = default;

  explicit WorkBuffer(int64_t count) {
    const size_t bytes = static_cast<size_t>(count > 0 ? count : 1) * sizeof(T);
    constexpr size_t kHugePage = size_t{2} << 20;
    const size_t alignment = bytes >= kHugePage ? kHugePage : 64;
    const size_t rounded = (bytes + alignment - 1) / alignment * alignment;
    void* memory = std::aligned_alloc(alignment, rounded);
    if (memory == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (alignment == kHugePage) madvise(memory, rounded, MADV_HUGEPAGE);
#endif
    data_.reset(static_cast<T*>(memory));
  }

  T* get() const { return data_.get(); }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
};

}  // namespace claq
