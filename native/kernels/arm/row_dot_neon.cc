#include <arm_neon.h>

#include "kernels/row_dot.h"

namespace claq {
namespace {

// Tokens per pass over a row: each 4-float chunk of W is loaded once and
// multiplied into this many accumulators.
constexpr int kTokens = 4;

// y[t] = row . x[t] for `count` <= kTokens tokens.
template <int count>
void dot_tokens(const float* row, int64_t depth, const float* x, float* y, int64_t ldy) {
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

}  // namespace

void row_dot_f32_neon(const float* w, int64_t depth, int64_t row_begin, int64_t row_end,
                      const float* x, int64_t tokens, float* y, int64_t ldy) {
  // The row loop is the outer one, so a row stays in cache for all token
  // groups.
  for (int64_t o = row_begin; o < row_end; ++o) {
    const float* row = w + o * depth;
    for (int64_t t = 0; t < tokens; t += kTokens) {
      const float* token = x + t * depth;
      float* out = y + t * ldy + o;
      switch (tokens - t) {
        case 1: dot_tokens<1>(row, depth, token, out, ldy); break;
        case 2: dot_tokens<2>(row, depth, token, out, ldy); break;
        case 3: dot_tokens<3>(row, depth, token, out, ldy); break;
        default: dot_tokens<kTokens>(row, depth, token, out, ldy); break;
      }
    }
  }
}

}  // namespace claq
