#include <immintrin.h>

#include "kernels/row_dot.h"
#include "kernels/row_dot_rows.h"

namespace claq {
namespace {

// Writes y[t * ldy] = row . x[t] for `count` token rows of x.
struct Dot {
  template <int count>
  static void dot(const float* row, int64_t depth, const float* x, float* y, int64_t ldy) {
    __m256 acc[count];
    for (int t = 0; t < count; ++t) acc[t] = _mm256_setzero_ps();

    int64_t k = 0;
    for (; k + 8 <= depth; k += 8) {
      const __m256 weights = _mm256_loadu_ps(row + k);
      for (int t = 0; t < count; ++t) {
        acc[t] = _mm256_fmadd_ps(weights, _mm256_loadu_ps(x + t * depth + k), acc[t]);
      }
    }
    for (int t = 0; t < count; ++t) {
      const __m128 half = _mm_add_ps(_mm256_castps256_ps128(acc[t]), _mm256_extractf128_ps(acc[t], 1));
      const __m128 pair = _mm_add_ps(half, _mm_movehl_ps(half, half));
      float sum = _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 1)));
      for (int64_t tail = k; tail < depth; ++tail) sum += row[tail] * x[t * depth + tail];
      y[t * ldy] = sum;
    }
  }
};

}  // namespace

void row_dot_f32_avx2(const float* w, int64_t depth, int64_t row_begin, int64_t row_end,
                      const float* x, int64_t tokens, float* y, int64_t ldy) {
  row_dot_rows<Dot>(w, depth, row_begin, row_end, x, tokens, y, ldy);
}

}  // namespace claq
