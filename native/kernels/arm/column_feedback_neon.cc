#include <arm_neon.h>

#include "kernels/column_feedback.h"

namespace claq {

// One pass over the rows, 4 at a time: the error of a chunk stays in a
// register for all targets. The last rows take the scalar steps.
void column_feedback_f32_neon(const float* w, const float* q, float inverse_diagonal, int64_t rows,
                              const float* factors, int64_t count, float* targets,
                              int64_t target_stride, float* error) {
  int64_t i = 0;
  for (; i + 4 <= rows; i += 4) {
    const float32x4_t e = vmulq_n_f32(vsubq_f32(vld1q_f32(w + i), vld1q_f32(q + i)), inverse_diagonal);
    vst1q_f32(error + i, e);
    for (int64_t j = 0; j < count; ++j) {
      float* target = targets + j * target_stride + i;
      vst1q_f32(target, vfmsq_n_f32(vld1q_f32(target), e, factors[j]));
    }
  }
  for (; i < rows; ++i) {
    const float e = (w[i] - q[i]) * inverse_diagonal;
    error[i] = e;
    for (int64_t j = 0; j < count; ++j) targets[j * target_stride + i] -= factors[j] * e;
  }
}

}  // namespace claq
