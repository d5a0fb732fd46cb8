// AVX-512 GEMM micro-kernel, 12 rows x 32 columns: 24 zmm accumulators, two
// zmm of B and one broadcast of A per row, 30 of the 32 registers. Two FMA
// pipes with 4-cycle latency need at least 8 independent chains; 24 leave
// room for load latency. Contract in kernels/gemm.h.
#include <immintrin.h>

#include "kernels/gemm.h"

namespace claq {

void gemm_f32_12x32_avx512(int64_t kc, const float* a_packed, const float* b_packed, float alpha,
                           float beta, float* c, int64_t ldc) {
  constexpr int kRows = 12;
  __m512 acc_lo[kRows];
  __m512 acc_hi[kRows];
#pragma GCC unroll 12
  for (int i = 0; i < kRows; ++i) {
    acc_lo[i] = _mm512_setzero_ps();
    acc_hi[i] = _mm512_setzero_ps();
  }

  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b_lo = _mm512_load_ps(b_packed);
    const __m512 b_hi = _mm512_load_ps(b_packed + 16);
#pragma GCC unroll 12
    for (int i = 0; i < kRows; ++i) {
      const __m512 a = _mm512_set1_ps(a_packed[i]);
      acc_lo[i] = _mm512_fmadd_ps(a, b_lo, acc_lo[i]);
      acc_hi[i] = _mm512_fmadd_ps(a, b_hi, acc_hi[i]);
    }
    a_packed += kRows;
    b_packed += 32;
  }

  const __m512 alpha_v = _mm512_set1_ps(alpha);
  if (beta == 0.0f) {
#pragma GCC unroll 12
    for (int i = 0; i < kRows; ++i) {
      _mm512_storeu_ps(c + i * ldc, _mm512_mul_ps(alpha_v, acc_lo[i]));
      _mm512_storeu_ps(c + i * ldc + 16, _mm512_mul_ps(alpha_v, acc_hi[i]));
    }
    return;
  }
  const __m512 beta_v = _mm512_set1_ps(beta);
#pragma GCC unroll 12
  for (int i = 0; i < kRows; ++i) {
    float* row = c + i * ldc;
    const __m512 old_lo = _mm512_mul_ps(beta_v, _mm512_loadu_ps(row));
    const __m512 old_hi = _mm512_mul_ps(beta_v, _mm512_loadu_ps(row + 16));
    _mm512_storeu_ps(row, _mm512_fmadd_ps(alpha_v, acc_lo[i], old_lo));
    _mm512_storeu_ps(row + 16, _mm512_fmadd_ps(alpha_v, acc_hi[i], old_hi));
  }
}

}  // namespace claq
