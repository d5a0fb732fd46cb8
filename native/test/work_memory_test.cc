// The work-buffer cache: large blocks come back for the same size, small
// ones bypass it, the limit holds, trim empties it, and the vectors of
// WorkAllocator use it.
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/work_allocator.h"
#include "core/work_buffer.h"
#include "core/work_memory.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

constexpr size_t kMiB = size_t{1} << 20;

}  // namespace

CLAQ_TEST(work_memory_reuses_a_freed_block_of_the_same_size) {
  trim_work_memory();
  void* first = acquire_work_memory(5 * kMiB);
  CHECK(first != nullptr);
  CHECK_EQ(reinterpret_cast<uintptr_t>(first) % kCachedBlockMinimum, uintptr_t{0});
  std::memset(first, 0x5a, 5 * kMiB);
  release_work_memory(first, 5 * kMiB);
  CHECK_EQ(cached_work_memory(), 6 * kMiB);  // rounded up to whole 2 MiB

  // 5.5 MiB rounds to the same 6 MiB block; 2 MiB would waste two thirds.
  void* small = acquire_work_memory(2 * kMiB);
  CHECK(small != first);
  void* again = acquire_work_memory(5 * kMiB + kMiB / 2);
  CHECK(again == first);
  CHECK_EQ(cached_work_memory(), size_t{0});
  release_work_memory(again, 5 * kMiB + kMiB / 2);
  release_work_memory(small, 2 * kMiB);
  CHECK_EQ(cached_work_memory(), 8 * kMiB);

  CHECK_EQ(trim_work_memory(), 8 * kMiB);
  CHECK_EQ(cached_work_memory(), size_t{0});
}

CLAQ_TEST(work_memory_small_blocks_bypass_the_cache) {
  trim_work_memory();
  void* block = acquire_work_memory(1000);
  CHECK(block != nullptr);
  CHECK_EQ(reinterpret_cast<uintptr_t>(block) % 64, uintptr_t{0});
  std::memset(block, 1, 1000);
  release_work_memory(block, 1000);
  CHECK_EQ(cached_work_memory(), size_t{0});
}

CLAQ_TEST(work_memory_cache_stays_within_its_limit) {
  trim_work_memory();
  const size_t block = 64 * kMiB;
  std::vector<void*> blocks;
  for (size_t held = 0; held <= kWorkMemoryCacheLimit; held += block) {
    blocks.push_back(acquire_work_memory(block));
    CHECK(blocks.back() != nullptr);
  }
  for (void* memory : blocks) release_work_memory(memory, block);
  CHECK(cached_work_memory() <= kWorkMemoryCacheLimit);
  CHECK_EQ(cached_work_memory(), kWorkMemoryCacheLimit / block * block);
  trim_work_memory();
}

CLAQ_TEST(work_buffer_returns_its_block_to_the_cache) {
  trim_work_memory();
  float* seen = nullptr;
  {
    WorkBuffer<float> buffer(3 * kMiB / sizeof(float));
    seen = buffer.get();
    buffer.get()[0] = 1.0f;
  }
  CHECK_EQ(cached_work_memory(), 4 * kMiB);
  WorkBuffer<float> reused(3 * kMiB / sizeof(float));
  CHECK(reused.get() == seen);
  trim_work_memory();
}

CLAQ_TEST(work_vector_memory_returns_to_the_cache) {
  trim_work_memory();
  const uint8_t* seen = nullptr;
  {
    WorkVector<uint8_t> codes(3 * kMiB, 7);
    seen = codes.data();
    CHECK_EQ(codes[3 * kMiB - 1], uint8_t{7});
  }
  CHECK_EQ(cached_work_memory(), 4 * kMiB);

  // A vector of a similar size takes the same block, value-initialised.
  WorkVector<uint8_t> next(3 * kMiB + 1000);
  CHECK(next.data() == seen);
  CHECK_EQ(next[5], uint8_t{0});
  CHECK_EQ(cached_work_memory(), size_t{0});

  // Small vectors bypass the cache, like small work buffers.
  { WorkVector<float> small(100, 1.5f); }
  CHECK_EQ(cached_work_memory(), size_t{0});
  trim_work_memory();
}

CLAQ_TEST(work_memory_frees_blocks_released_after_a_trim) {
  void* block = acquire_work_memory(3 * kMiB);
  CHECK(block != nullptr);
  trim_work_memory();

  // Like a result collected after the idle trim: nothing is kept.
  release_work_memory(block, 3 * kMiB);
  CHECK_EQ(cached_work_memory(), size_t{0});

  // The next acquire makes the cache keep blocks again.
  void* next = acquire_work_memory(3 * kMiB);
  release_work_memory(next, 3 * kMiB);
  CHECK_EQ(cached_work_memory(), 4 * kMiB);
  trim_work_memory();
}
