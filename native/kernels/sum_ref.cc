#include "kernels/simd_level.h"
#include "kernels/sum.h"

namespace claq {

float sum_f32_ref(const float* x, size_t n) {
  // Four accumulators, like the vector versions, so scalar is not a
  // latency-bound strawman in the memory-read baseline.
  float acc[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    acc[0] += x[i];
    acc[1] += x[i + 1];
    acc[2] += x[i + 2];
    acc[3] += x[i + 3];
  }
  for (; i < n; ++i) acc[0] += x[i];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

float sum_f32(const float* x, size_t n, size_t prefetch_bytes) {
  switch (active_simd_level()) {
#if defined(__x86_64__)
    case SimdLevel::kAvx512: return sum_f32_avx512(x, n, prefetch_bytes);
    case SimdLevel::kAvx2: return sum_f32_avx2(x, n, prefetch_bytes);
#endif
#if defined(__aarch64__)
    case SimdLevel::kNeon: return sum_f32_neon(x, n, prefetch_bytes);
#endif
    default: return sum_f32_ref(x, n);
  }
}

}  // namespace claq
