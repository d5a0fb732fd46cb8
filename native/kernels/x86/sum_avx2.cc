#include <immintrin.h>

#include "kernels/sum.h"

namespace claq {

// A prefetch never faults, so it may run past the end.
float sum_f32_avx2(const float* x, size_t n, size_t prefetch_bytes) {
  // Four independent accumulators hide the 3-4 cycle add latency.
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  const char* bytes = reinterpret_cast<const char*>(x);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    if (prefetch_bytes != 0) {
      _mm_prefetch(bytes + 4 * i + prefetch_bytes, _MM_HINT_T0);
      _mm_prefetch(bytes + 4 * i + 64 + prefetch_bytes, _MM_HINT_T0);
    }
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));

  const __m256 total = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
  __m128 half = _mm_add_ps(_mm256_castps256_ps128(total), _mm256_extractf128_ps(total, 1));
  half = _mm_add_ps(half, _mm_movehl_ps(half, half));
  half = _mm_add_ss(half, _mm_movehdup_ps(half));
  float sum = _mm_cvtss_f32(half);
  for (; i < n; ++i) sum += x[i];
  return sum;
}

}  // namespace claq
