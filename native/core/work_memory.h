// Memory for WorkBuffer, with a bounded cache of freed large blocks so that
// the next quantization of the same shapes skips the page faults of fresh
// memory. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace claq {

// Blocks of at least this size are cached; smaller ones go to the allocator.
constexpr size_t kCachedBlockMinimum = size_t{2} << 20;

// Maximum bytes of freed blocks kept for reuse.
constexpr size_t kWorkMemoryCacheLimit = size_t{768} << 20;

// Returns `bytes` of uninitialised memory aligned to 64 bytes (2 MiB for
// cached sizes), or null when out of memory. A cached block is reused when
// its size is within a quarter above the request.
void* acquire_work_memory(size_t bytes);

// Takes back a block from acquire_work_memory, with the size requested.
// Large blocks stay in the cache while it has room, unless no block was
// acquired since the last trim: then every block is freed at once.
void release_work_memory(void* memory, size_t bytes);

// Frees every cached block, and every block released after it until the
// next acquire. Returns the bytes freed.
size_t trim_work_memory();

// Bytes the cache contains now.
size_t cached_work_memory();

}  // namespace claq
