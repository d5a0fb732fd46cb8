#include <arm_neon.h>

#include "kernels/row_dot.h"
#include "kernels/row_dot_rows.h"

namespace claq {
namespace {

// Writes y[t * ldy] = row . x[t] for `count` token rows of x.
struct Dot {
  template <int count>
  static void dot(const float* row, int64_t depth, const float* x, float* y, int64_t ldy) {
    float32x4_t acc[count];
    for (int t = 0; t < count; ++t) acc[t] = vdupq_n_f32(0);

    int64_t k = 0;
    for (; k + 4 <= depth; k += 4) {
      const float32x4_t weights = vld1q_f32(row + k);
      for (int t = 0; t < count; ++t) acc[t] = vfmaq_f32(acc[t], weights, vld1q_f32(x + t * depth + k));
    }
    for (int t = 0; t < count; ++t) {
      float sum = vaddvq_f32(acc[t]);
      for (int64_t tail = k; tail < depth; ++tail) sum += row[tail] * x[t * depth + tail];
      y[t * ldy] = sum;
    }
  }
};

}  // namespace

void row_dot_f32_neon(const float* w, int64_t depth, int64_t row_begin, int64_t row_end,
                      const float* x, int64_t tokens, float* y, int64_t ldy) {
  row_dot_rows<Dot>(w, depth, row_begin, row_end, x, tokens, y, ldy);
}

}  // namespace claq
