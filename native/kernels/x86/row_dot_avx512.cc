#include <immintrin.h>

#include "kernels/row_dot.h"

namespace claq {
namespace {

// Tokens per pass over a row: each 16-float chunk of W is loaded once and
// multiplied into this many accumulators.
constexpr int kTokens = 4;

// y[t] = row . x[t] for `count` <= kTokens tokens.
template <int count>
void dot_tokens(const float* row, int64_t depth, const float* x, float* y, int64_t ldy) {
  __m512 acc[count];
  for (int t = 0; t < count; ++t) acc[t] = _mm512_setzero_ps();

  int64_t k = 0;
  for (; k + 16 <= depth; k += 16) {
    const __m512 weights = _mm512_loadu_ps(row + k);
    for (int t = 0; t < count; ++t) acc[t] = _mm512_fmadd_ps(weights, _mm512_loadu_ps(x + t * depth + k), acc[t]);
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

}  // namespace

void row_dot_f32_avx512(const float* w, int64_t depth, int64_t row_begin, int64_t row_end,
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
