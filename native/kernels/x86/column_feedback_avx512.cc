#include <immintrin.h>

#include "kernels/column_feedback.h"

namespace claq {

// One pass over the rows, 16 at a time: the error of a chunk stays in a
// register for all targets.
void column_feedback_f32_avx512(const float* w, const float* q, float inverse_diagonal, int64_t rows,
                                const float* factors, int64_t count, float* targets,
                                int64_t target_stride, float* error) {
  const __m512 scale = _mm512_set1_ps(inverse_diagonal);
  for (int64_t i = 0; i < rows; i += 16) {
    // A masked load and store touch only the rows left in the last chunk.
    const __mmask16 mask = rows - i >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << (rows - i)) - 1);
    const __m512 difference = _mm512_sub_ps(_mm512_maskz_loadu_ps(mask, w + i), _mm512_maskz_loadu_ps(mask, q + i));
    const __m512 e = _mm512_mul_ps(difference, scale);
    _mm512_mask_storeu_ps(error + i, mask, e);

    for (int64_t j = 0; j < count; ++j) {
      float* target = targets + j * target_stride + i;
      const __m512 updated = _mm512_fnmadd_ps(_mm512_set1_ps(factors[j]), e, _mm512_maskz_loadu_ps(mask, target));
      _mm512_mask_storeu_ps(target, mask, updated);
    }
  }
}

}  // namespace claq
