#include <immintrin.h>

#include "kernels/row_dot.h"
#include "kernels/row_dot_rows.h"

namespace claq {
namespace {

// Writes y[t * ldy] = row . x[t] for `count` token rows of x.
struct Dot {
  template <int count>
  static void dot(const float* row, int64_t depth, const float* x, float* y, int64_t ldy) {
    __m512 acc[count];
    for (int t = 0; t < count; ++t) acc[t] = _mm512_setzero_ps();

    int64_t k = 0;
    for (; k + 16 <= depth; k += 16) {
      const __m512 weights = _mm512_loadu_ps(row + k);
      for (int t = 0; t < count; ++t) {
        acc[t] = _mm512_fmadd_ps(weights, _mm512_loadu_ps(x + t * depth + k), acc[t]);
      }
    }
    // Masked loads read only the tail lanes.
    if (k < depth) {
      const __mmask16 mask = static_cast<__mmask16>((1u << (depth - k)) - 1);
      const __m512 weights = _mm512_maskz_loadu_ps(mask, row + k);
      for (int t = 0; t < count; ++t) {
        acc[t] = _mm512_fmadd_ps(weights, _mm512_maskz_loadu_ps(mask, x + t * depth + k), acc[t]);
      }
    }
    for (int t = 0; t < count; ++t) y[t * ldy] = _mm512_reduce_add_ps(acc[t]);
  }
};

}  // namespace

void row_dot_f32_avx512(const float* w, int64_t depth, int64_t row_begin, int64_t row_end,
                        const float* x, int64_t tokens, float* y, int64_t ldy) {
  row_dot_rows<Dot>(w, depth, row_begin, row_end, x, tokens, y, ldy);
}

}  // namespace claq
