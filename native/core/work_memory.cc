#include "core/work_memory.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace claq {
namespace {

struct CachedBlock {
  void* memory;
  size_t capacity;  // rounded size, what the block can hold
};

struct Cache {
  std::mutex mutex;
  std::vector<CachedBlock> blocks;
  size_t bytes = 0;
  // Set by a trim, cleared by the next acquire: blocks released in between
  // (a result collected long after the last quantization) are freed at once.
  bool idle = false;
};

Cache& cache() {
  static Cache* instance = new Cache();  // never destroyed: released blocks may arrive at exit
  return *instance;
}

size_t rounded_capacity(size_t bytes) {
  return (bytes + kCachedBlockMinimum - 1) / kCachedBlockMinimum * kCachedBlockMinimum;
}

// Takes the smallest cached block that holds `capacity` without wasting more
// than a quarter of it, or returns null. Either way the cache is in use again.
void* take_cached(size_t capacity) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.idle = false;
  auto best = c.blocks.end();
  for (auto it = c.blocks.begin(); it != c.blocks.end(); ++it) {
    const bool fits = it->capacity >= capacity && it->capacity - capacity <= capacity / 4;
    if (fits && (best == c.blocks.end() || it->capacity < best->capacity)) best = it;
  }
  if (best == c.blocks.end()) return nullptr;

  void* memory = best->memory;
  c.bytes -= best->capacity;
  c.blocks.erase(best);
  return memory;
}

}  // namespace

void* acquire_work_memory(size_t bytes) {
  if (bytes < kCachedBlockMinimum) return std::aligned_alloc(64, (bytes + 63) / 64 * 64);

  const size_t capacity = rounded_capacity(bytes);
  void* memory = take_cached(capacity);
  if (memory != nullptr) return memory;
  memory = std::aligned_alloc(kCachedBlockMinimum, capacity);
  if (memory == nullptr && trim_work_memory() > 0) {
    memory = std::aligned_alloc(kCachedBlockMinimum, capacity);
  }
  return memory;
}

void release_work_memory(void* memory, size_t bytes) {
  if (memory == nullptr) return;
  if (bytes < kCachedBlockMinimum) {
    std::free(memory);
    return;
  }

  const size_t capacity = rounded_capacity(bytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (!c.idle && c.bytes + capacity <= kWorkMemoryCacheLimit) {
      c.blocks.push_back({memory, capacity});
      c.bytes += capacity;
      return;
    }
  }
  std::free(memory);
}

size_t trim_work_memory() {
  std::vector<CachedBlock> blocks;
  {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    blocks.swap(c.blocks);
    c.bytes = 0;
    c.idle = true;
  }
  size_t freed = 0;
  for (const CachedBlock& block : blocks) {
    std::free(block.memory);
    freed += block.capacity;
  }
  return freed;
}

size_t cached_work_memory() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.bytes;
}

}  // namespace claq
