// The in-block scan of the K-Means prefix kernels (kernels/kmeans_dp.h,
// kernels/kmeans_pair.h): inclusive prefix sums of the eight float64 lanes
// in three steps, adding the lane 1, 2 and 4 places before (zero before lane
// 0). The scalar kernels repeat this order.
#pragma once

#include <immintrin.h>

namespace claq {

// v + (v shifted up by kPlaces lanes, zeros shifted in).
template <int kPlaces>
inline __m512d add_shifted_lanes(__m512d v) {
  const __m512i shifted =
      _mm512_alignr_epi64(_mm512_castpd_si512(v), _mm512_setzero_si512(), 8 - kPlaces);
  return _mm512_add_pd(v, _mm512_castsi512_pd(shifted));
}

inline __m512d block_scan_lanes(__m512d v) {
  return add_shifted_lanes<4>(add_shifted_lanes<2>(add_shifted_lanes<1>(v)));
}

// Eight floats from `values` as float64 minus `shift`. Lanes outside `valid`
// are zero and read nothing, and a whole block takes an unmasked load.
inline __m512d load_shifted_block(const float* values, __mmask8 valid, __m512d shift) {
  if (valid == 0xff) return _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(values)), shift);
  return _mm512_maskz_sub_pd(valid, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(valid, values)), shift);
}

}  // namespace claq
