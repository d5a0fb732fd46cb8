// AlignedArray's alignment, zeroing and trailing line, and the huge-page
// advice, which covers only the whole 2 MiB pages inside a range.
#include <cstdint>

#include "kernels/huge_pages.h"
#include "kernels/packed_layout.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

bool all_zero(const unsigned char* bytes, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

}  // namespace

CLAQ_TEST(aligned_array_small_is_zeroed_with_a_trailing_line) {
  AlignedArray<float> small(100);
  CHECK_EQ(reinterpret_cast<uintptr_t>(small.data()) % kPackedAlignment, uintptr_t{0});
  CHECK_EQ(small.size(), size_t{100});
  CHECK(all_zero(reinterpret_cast<const unsigned char*>(small.data()), 100 * sizeof(float) + 64));
}

CLAQ_TEST(aligned_array_large_starts_on_a_huge_page) {
  const size_t count = (size_t{3} << 20) + 5;
  AlignedArray<unsigned char> large(count);
  CHECK_EQ(reinterpret_cast<uintptr_t>(large.data()) % kHugePageBytes, uintptr_t{0});
  CHECK(all_zero(large.data(), count + 64));
  large[count - 1] = 7;  // the whole array is writable
  CHECK_EQ(large[count - 1], 7);
}

CLAQ_TEST(huge_page_advice_covers_whole_pages_only) {
  AlignedArray<unsigned char> buffer(size_t{6} << 20);
  unsigned char* base = buffer.data();

  // Less than one whole page inside: nothing to advise.
  CHECK_EQ(advise_huge_pages(base + 1, kHugePageBytes), size_t{0});
  CHECK_EQ(advise_huge_pages(base, kHugePageBytes - 1), size_t{0});

  // From one byte past a boundary, 4 MiB long: one whole page, or none where
  // the system takes no advice.
  const size_t advised = advise_huge_pages(base + 1, size_t{4} << 20);
  CHECK(advised == kHugePageBytes || advised == 0);
  const size_t aligned = advise_huge_pages(base, size_t{4} << 20);
  CHECK(aligned == (size_t{4} << 20) || aligned == 0);
}
