// Portable micro-kernel. Its results are the reference for the SIMD kernels.
#include "kernels/gemm.h"

namespace claq {

void gemm_f32_4x8_ref(int64_t kc, const float* a_packed, const float* b_packed, float alpha,
                      float beta, float* c, int64_t ldc) {
  constexpr int kRows = 4;
  constexpr int kCols = 8;
  float acc[kRows][kCols] = {};
  for (int64_t p = 0; p < kc; ++p) {
    const float* a = a_packed + p * kRows;
    const float* b = b_packed + p * kCols;
    for (int i = 0; i < kRows; ++i) {
      for (int j = 0; j < kCols; ++j) acc[i][j] += a[i] * b[j];
    }
  }

  for (int i = 0; i < kRows; ++i) {
    float* row = c + i * ldc;
    for (int j = 0; j < kCols; ++j) {
      row[j] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * row[j];
    }
  }
}

}  // namespace claq
