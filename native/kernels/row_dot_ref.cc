#include "kernels/row_dot.h"
#include "kernels/simd_level.h"

namespace claq {

void row_dot_f32_ref(const float* w, int64_t depth, int64_t row_begin, int64_t row_end,
                     const float* x, int64_t tokens, float* y, int64_t ldy) {
  for (int64_t o = row_begin; o < row_end; ++o) {
    const float* row = w + o * depth;
    for (int64_t t = 0; t < tokens; ++t) {
      const float* token = x + t * depth;
      // Four partial sums, like the vector versions.
      float acc[4] = {0, 0, 0, 0};
      int64_t k = 0;
      for (; k + 4 <= depth; k += 4) {
        for (int lane = 0; lane < 4; ++lane) acc[lane] += row[k + lane] * token[k + lane];
      }
      for (; k < depth; ++k) acc[0] += row[k] * token[k];
      y[t * ldy + o] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
  }
}

RowDotFn select_row_dot_f32() {
  switch (active_simd_level()) {
#if defined(__x86_64__)
    case SimdLevel::kAvx512: return row_dot_f32_avx512;
    case SimdLevel::kAvx2: return row_dot_f32_avx2;
#endif
#if defined(__aarch64__)
    case SimdLevel::kNeon: return row_dot_f32_neon;
#endif
    default: return row_dot_f32_ref;
  }
}

}  // namespace claq
