#include <immintrin.h>

#include "kernels/column_feedback.h"

namespace claq {

// Writes the error first, then updates one target at a time. Column k and
// its targets lie a column apart, a multiple of 4 KiB when rows is a multiple
// of 1024. One pass over the rows that updated every target per chunk of 16
// rows kept up to 16 lines in one L1 set, which has 12 ways on the Xeon
// measured. There, with 4096 rows, the feedback inside the sub-blocks of a
// 4096 x 4096 layer took 23 ms per call that way and 17 ms this way.
void column_feedback_f32_avx512(const float* w, const float* q, float inverse_diagonal, int64_t rows,
                                const float* factors, int64_t count, float* targets,
                                int64_t target_stride, float* error) {
  const __m512 scale = _mm512_set1_ps(inverse_diagonal);
  for (int64_t i = 0; i < rows; i += 16) {
    const __mmask16 mask = rows - i >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << (rows - i)) - 1);
    const __m512 difference = _mm512_sub_ps(_mm512_maskz_loadu_ps(mask, w + i), _mm512_maskz_loadu_ps(mask, q + i));
    _mm512_mask_storeu_ps(error + i, mask, _mm512_mul_ps(difference, scale));
  }
  for (int64_t j = 0; j < count; ++j) {
    const __m512 factor = _mm512_set1_ps(factors[j]);
    float* target = targets + j * target_stride;
    for (int64_t i = 0; i < rows; i += 16) {
      const __mmask16 mask = rows - i >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << (rows - i)) - 1);
      const __m512 updated = _mm512_fnmadd_ps(factor, _mm512_maskz_loadu_ps(mask, error + i), _mm512_maskz_loadu_ps(mask, target + i));
      _mm512_mask_storeu_ps(target + i, mask, updated);
    }
  }
}

}  // namespace claq
