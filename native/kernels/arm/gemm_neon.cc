// NEON GEMM micro-kernel, 8 rows x 12 columns: 24 q-register accumulators,
// three of B and two of A (lane-indexed FMA), 29 of the 32 registers.
// Contract in kernels/gemm.h.
#include <arm_neon.h>

#include "kernels/gemm.h"

namespace claq {

void gemm_f32_8x12_neon(int64_t kc, const float* a_packed, const float* b_packed, float alpha,
                        float beta, float* c, int64_t ldc) {
  constexpr int kRows = 8;
  float32x4_t acc[kRows][3];
  for (int i = 0; i < kRows; ++i) {
    for (int j = 0; j < 3; ++j) acc[i][j] = vdupq_n_f32(0.0f);
  }

  for (int64_t p = 0; p < kc; ++p) {
    const float32x4_t b0 = vld1q_f32(b_packed);
    const float32x4_t b1 = vld1q_f32(b_packed + 4);
    const float32x4_t b2 = vld1q_f32(b_packed + 8);
    const float32x4_t a_lo = vld1q_f32(a_packed);
    const float32x4_t a_hi = vld1q_f32(a_packed + 4);
#define CLAQ_GEMM_NEON_ROW(i, a, lane)                      \
  acc[i][0] = vfmaq_laneq_f32(acc[i][0], b0, a, lane);      \
  acc[i][1] = vfmaq_laneq_f32(acc[i][1], b1, a, lane);      \
  acc[i][2] = vfmaq_laneq_f32(acc[i][2], b2, a, lane);
    CLAQ_GEMM_NEON_ROW(0, a_lo, 0)
    CLAQ_GEMM_NEON_ROW(1, a_lo, 1)
    CLAQ_GEMM_NEON_ROW(2, a_lo, 2)
    CLAQ_GEMM_NEON_ROW(3, a_lo, 3)
    CLAQ_GEMM_NEON_ROW(4, a_hi, 0)
    CLAQ_GEMM_NEON_ROW(5, a_hi, 1)
    CLAQ_GEMM_NEON_ROW(6, a_hi, 2)
    CLAQ_GEMM_NEON_ROW(7, a_hi, 3)
#undef CLAQ_GEMM_NEON_ROW
    a_packed += kRows;
    b_packed += 12;
  }

  for (int i = 0; i < kRows; ++i) {
    float* row = c + i * ldc;
    for (int j = 0; j < 3; ++j) {
      float32x4_t value = vmulq_n_f32(acc[i][j], alpha);
      if (beta != 0.0f) value = vfmaq_n_f32(value, vld1q_f32(row + 4 * j), beta);
      vst1q_f32(row + 4 * j, value);
    }
  }
}

}  // namespace claq
