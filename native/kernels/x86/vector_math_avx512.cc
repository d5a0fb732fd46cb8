#include <immintrin.h>

#include "kernels/vector_math.h"

namespace claq {
namespace {

// exp of 16 lanes, the method of vector_math.h; 2^k by vscalefps.
inline __m512 exp_lanes(__m512 y) {
  y = _mm512_min_ps(_mm512_max_ps(y, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(y, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), y);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);

  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, k);
}

}  // namespace

double exp_shifted_f32_avx512(float* x, int64_t n, float shift) {
  const __m512 s = _mm512_set1_ps(shift);
  double total = 0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512 e0 = exp_lanes(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
    const __m512 e1 = exp_lanes(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), s));
    const __m512 e2 = exp_lanes(_mm512_sub_ps(_mm512_loadu_ps(x + i + 32), s));
    const __m512 e3 = exp_lanes(_mm512_sub_ps(_mm512_loadu_ps(x + i + 48), s));
    _mm512_storeu_ps(x + i, e0);
    _mm512_storeu_ps(x + i + 16, e1);
    _mm512_storeu_ps(x + i + 32, e2);
    _mm512_storeu_ps(x + i + 48, e3);
    total += _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(e0, e1), _mm512_add_ps(e2, e3)));
  }

  // The last 0..63 elements: whole vectors, then one masked vector, so no
  // load or store goes past x[n - 1].
  __m512 tail = _mm512_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    const __m512 e = exp_lanes(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
    _mm512_storeu_ps(x + i, e);
    tail = _mm512_add_ps(tail, e);
  }
  if (i < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 e = exp_lanes(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, x + i), s));
    _mm512_mask_storeu_ps(x + i, mask, e);
    tail = _mm512_add_ps(tail, _mm512_maskz_mov_ps(mask, e));
  }
  return total + _mm512_reduce_add_ps(tail);
}

float max_f32_avx512(const float* x, int64_t n) {
  __m512 a0 = _mm512_set1_ps(x[0]), a1 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm512_max_ps(_mm512_loadu_ps(x + i), a0);
    a1 = _mm512_max_ps(_mm512_loadu_ps(x + i + 16), a1);
  }
  for (; i + 16 <= n; i += 16) a0 = _mm512_max_ps(_mm512_loadu_ps(x + i), a0);
  if (i < n) {
    // Lanes past the end load x[0], which is already in the maximum.
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1);
    a1 = _mm512_max_ps(_mm512_mask_loadu_ps(_mm512_set1_ps(x[0]), mask, x + i), a1);
  }
  return _mm512_reduce_max_ps(_mm512_max_ps(a0, a1));
}

}  // namespace claq
