// sum_f32 at every supported level against a float64 sum. Tolerance: float32
// partial sums of n values in [-1, 1) round with relative error about
// n * 2^-24 of the absolute sum, so 1e-6 * n * max|x| bounds every length here.
#include <cstring>
#include <vector>

#include "kernels/simd_level.h"
#include "kernels/sum.h"
#include "test/test_framework.h"

using namespace claq;

CLAQ_TEST(sum_f32_matches_float64_at_every_level_and_length) {
  test::Rng rng(7);
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    for (size_t n : {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 1000}) {
      std::vector<float> x(n);
      double expected = 0;
      for (float& v : x) {
        v = static_cast<float>(rng.uniform() * 2 - 1);
        expected += v;
      }
      const float plain = sum_f32(x.data(), n);
      CHECK_NEAR(plain, expected, 1e-6 * (n + 1));

      // Prefetching changes the speed only: the same sum to the bit.
      for (size_t prefetch_bytes : {64, 1024, 8192}) {
        const float prefetched = sum_f32(x.data(), n, prefetch_bytes);
        CHECK_EQ(std::memcmp(&prefetched, &plain, sizeof(float)), 0);
      }
    }
  }
  set_simd_level(original);
}
