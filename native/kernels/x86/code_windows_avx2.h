// Code extraction shared by the AVX2 packed kernels (lut_gemv_avx2.cc,
// packed_gemm_avx2.cc). Include only from files built with -mavx2.
//
// A "window" is a code word shifted so that one column's code sits in its low
// bits. The permutes below read only the low 3 or 4 bits of each lane, so no
// mask is needed.
#pragma once

#include <immintrin.h>

#if !defined(__AVX2__)
#error "code_windows_avx2.h needs a file compiled with -mavx2"
#endif

namespace claq::avx2 {

template <int Shift>
inline __m256i shift_right(__m256i word) {
  if constexpr (Shift == 0) {
    return word;
  } else {
    return _mm256_srli_epi32(word, Shift);
  }
}

// Window of 3-bit column C of a three-word row. Columns 10 and 21 straddle words.
template <int C>
inline __m256i window_3bit(__m256i w0, __m256i w1, __m256i w2) {
  if constexpr (C < 10) {
    return shift_right<3 * C>(w0);
  } else if constexpr (C == 10) {
    return _mm256_or_si256(_mm256_srli_epi32(w0, 30), _mm256_slli_epi32(w1, 2));
  } else if constexpr (C < 21) {
    return _mm256_srli_epi32(w1, 3 * C - 32);
  } else if constexpr (C == 21) {
    return _mm256_or_si256(_mm256_srli_epi32(w1, 31), _mm256_slli_epi32(w2, 1));
  } else {
    return _mm256_srli_epi32(w2, 3 * C - 64);
  }
}

// Looks up a 16-entry float table with the low 4 bits of each lane: two
// 8-lane permutes, then bit 3 (moved to the sign bit) picks the upper half.
inline __m256 lookup16(__m256i window, const float* table) {
  const __m256 low = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table), window);
  const __m256 high = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table + 8), window);
  return _mm256_blendv_ps(low, high, _mm256_castsi256_ps(_mm256_slli_epi32(window, 28)));
}

}  // namespace claq::avx2
