// AVX2+FMA GEMM micro-kernel, 6 rows x 16 columns: 12 ymm accumulators, two
// ymm of B and one broadcast of A, 15 of the 16 registers. Contract in
// kernels/gemm.h.
#include <immintrin.h>

#include "kernels/gemm.h"

namespace claq {

void gemm_f32_6x16_avx2(int64_t kc, const float* a_packed, const float* b_packed, float alpha,
                        float beta, float* c, int64_t ldc) {
  constexpr int kRows = 6;
  __m256 acc_lo[kRows];
  __m256 acc_hi[kRows];
#pragma GCC unroll 6
  for (int i = 0; i < kRows; ++i) {
    acc_lo[i] = _mm256_setzero_ps();
    acc_hi[i] = _mm256_setzero_ps();
  }

  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b_lo = _mm256_load_ps(b_packed);
    const __m256 b_hi = _mm256_load_ps(b_packed + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kRows; ++i) {
      const __m256 a = _mm256_broadcast_ss(a_packed + i);
      acc_lo[i] = _mm256_fmadd_ps(a, b_lo, acc_lo[i]);
      acc_hi[i] = _mm256_fmadd_ps(a, b_hi, acc_hi[i]);
    }
    a_packed += kRows;
    b_packed += 16;
  }

  const __m256 alpha_v = _mm256_set1_ps(alpha);
  if (beta == 0.0f) {
#pragma GCC unroll 6
    for (int i = 0; i < kRows; ++i) {
      _mm256_storeu_ps(c + i * ldc, _mm256_mul_ps(alpha_v, acc_lo[i]));
      _mm256_storeu_ps(c + i * ldc + 8, _mm256_mul_ps(alpha_v, acc_hi[i]));
    }
    return;
  }
  const __m256 beta_v = _mm256_set1_ps(beta);
#pragma GCC unroll 6
  for (int i = 0; i < kRows; ++i) {
    float* row = c + i * ldc;
    const __m256 old_lo = _mm256_mul_ps(beta_v, _mm256_loadu_ps(row));
    const __m256 old_hi = _mm256_mul_ps(beta_v, _mm256_loadu_ps(row + 8));
    _mm256_storeu_ps(row, _mm256_fmadd_ps(alpha_v, acc_lo[i], old_lo));
    _mm256_storeu_ps(row + 8, _mm256_fmadd_ps(alpha_v, acc_hi[i], old_hi));
  }
}

}  // namespace claq
