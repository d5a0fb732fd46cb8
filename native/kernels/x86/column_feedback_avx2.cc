#include <immintrin.h>

#include "kernels/column_feedback.h"

namespace claq {

// One pass over the rows, 8 at a time: the error of a chunk stays in a
// register for all targets. The last rows take the scalar steps.
void column_feedback_f32_avx2(const float* w, const float* q, float inverse_diagonal, int64_t rows,
                              const float* factors, int64_t count, float* targets,
                              int64_t target_stride, float* error) {
  const __m256 scale = _mm256_set1_ps(inverse_diagonal);
  int64_t i = 0;
  for (; i + 8 <= rows; i += 8) {
    const __m256 e = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(q + i)), scale);
    _mm256_storeu_ps(error + i, e);
    for (int64_t j = 0; j < count; ++j) {
      float* target = targets + j * target_stride + i;
      _mm256_storeu_ps(target, _mm256_fnmadd_ps(_mm256_set1_ps(factors[j]), e, _mm256_loadu_ps(target)));
    }
  }
  for (; i < rows; ++i) {
    const float e = (w[i] - q[i]) * inverse_diagonal;
    error[i] = e;
    for (int64_t j = 0; j < count; ++j) targets[j * target_stride + i] -= factors[j] * e;
  }
}

}  // namespace claq
