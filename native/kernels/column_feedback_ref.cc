#include "kernels/column_feedback.h"
#include "kernels/simd_level.h"

namespace claq {

void column_feedback_f32_ref(const float* w, const float* q, float inverse_diagonal, int64_t rows,
                             const float* factors, int64_t count, float* targets,
                             int64_t target_stride, float* error) {
  for (int64_t i = 0; i < rows; ++i) error[i] = (w[i] - q[i]) * inverse_diagonal;
  for (int64_t j = 0; j < count; ++j) {
    const float factor = factors[j];
    float* target = targets + j * target_stride;
    for (int64_t i = 0; i < rows; ++i) target[i] -= factor * error[i];
  }
}

ColumnFeedbackFn select_column_feedback_f32() {
  switch (active_simd_level()) {
#if defined(__x86_64__)
    case SimdLevel::kAvx512: return column_feedback_f32_avx512;
    case SimdLevel::kAvx2: return column_feedback_f32_avx2;
#endif
#if defined(__aarch64__)
    case SimdLevel::kNeon: return column_feedback_f32_neon;
#endif
    default: return column_feedback_f32_ref;
  }
}

}  // namespace claq
