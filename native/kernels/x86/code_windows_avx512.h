// Code extraction shared by the AVX-512 packed kernels (lut_gemv_avx512.cc,
// packed_gemm_avx512.cc). Include only from files built with -mavx512f.
//
// A "window" is a code word shifted so that one column's code sits in its low
// bits. vpermps reads only the low 4 bits of each lane, so no mask is needed.
#pragma once

#include <immintrin.h>

#if !defined(__AVX512F__)
#error "code_windows_avx512.h needs a file compiled with -mavx512f"
#endif

namespace claq::avx512 {

template <int Shift>
inline __m512i shift_right(__m512i word) {
  if constexpr (Shift == 0) {
    return word;
  } else {
    return _mm512_srli_epi32(word, Shift);
  }
}

// Window of 3-bit column C of a three-word row. Columns 10 and 21 straddle words.
template <int C>
inline __m512i window_3bit(__m512i w0, __m512i w1, __m512i w2) {
  if constexpr (C < 10) {
    return shift_right<3 * C>(w0);
  } else if constexpr (C == 10) {
    return _mm512_or_si512(_mm512_srli_epi32(w0, 30), _mm512_slli_epi32(w1, 2));
  } else if constexpr (C < 21) {
    return _mm512_srli_epi32(w1, 3 * C - 32);
  } else if constexpr (C == 21) {
    return _mm512_or_si512(_mm512_srli_epi32(w1, 31), _mm512_slli_epi32(w2, 1));
  } else {
    return _mm512_srli_epi32(w2, 3 * C - 64);
  }
}

}  // namespace claq::avx512
