// Large uninitialised buffers for the quantizer's work matrices (the weight
// copy, U, the transposed weights, the codes). Their contents start
// undefined because each is written in full before it is read.
//
// Buffers of 2 MiB and more come from a small process-wide cache
// (work_memory.h): quantizing a model runs the same shapes layer after layer,
// and fresh memory costs a page fault per 4 KiB. On the Zen 5 build machine
// the faults of one 4096 x 4096 layer's buffers cost about 60 ms of a 0.5 s
// quantization. Transparent huge pages are not requested: with the kernel's
// default "madvise" defrag setting a fault then waits for memory compaction,
// which took 130 to 140 ms in two of three calls of `npm run bench:quantize`.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#include "core/work_memory.h"

namespace claq {

template <typename T>
class WorkBuffer {
 public:
  WorkBuffer() = default;

  explicit WorkBuffer(int64_t count)
      : bytes_(static_cast<size_t>(count > 0 ? count : 1) * sizeof(T)) {
    void* memory = acquire_work_memory(bytes_);
    if (memory == nullptr) throw std::bad_alloc();
    data_.reset(static_cast<T*>(memory));
    data_.get_deleter().bytes = bytes_;
  }

  T* get() const { return data_.get(); }

 private:
  struct Release {
    size_t bytes = 0;
    void operator()(T* p) const { release_work_memory(p, bytes); }
  };
  size_t bytes_ = 0;
  std::unique_ptr<T, Release> data_;
};

}  // namespace claq
