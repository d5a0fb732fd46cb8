// AVX-512 code assignment (contract in kernels/codebook_assign.h): 16 rows
// per step, one compare per threshold, the codebook looked up by a lane
// permute, the squared error accumulated as eight float64 lanes.
#include <immintrin.h>

#include <cstdint>

#include "kernels/codebook_assign.h"

namespace claq {
namespace {

// Hides the product from the compiler so that it cannot fuse the following
// addition into an FMA, which would round differently from the scalar code.
inline __m512d unfused(__m512d product) {
  __asm__("" : "+v"(product));
  return product;
}

inline __mmask16 first_lanes(int64_t count) {
  return count >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << count) - 1);
}

}  // namespace

double assign_codebook_avx512(const float* w, int64_t rows, const float* thresholds, int levels,
                              const float* codebook, const uint8_t* reserved, uint8_t* codes,
                              float* quantized) {
  const __m512 table = _mm512_maskz_loadu_ps(first_lanes(levels), codebook);
  const __m512i one = _mm512_set1_epi32(1);
  __m512 threshold[15];
  for (int c = 0; c + 1 < levels; ++c) threshold[c] = _mm512_set1_ps(thresholds[c]);

  // Rows in whole blocks of eight feed the eight lanes of `sum`.
  const int64_t whole = rows & ~int64_t{7};
  __m512d sum = _mm512_setzero_pd();
  alignas(64) double tail[8];  // the squares of the rows after the last whole block
  for (int64_t i = 0; i < rows; i += 16) {
    const __mmask16 valid = first_lanes(rows - i);
    const __m512 v = _mm512_maskz_loadu_ps(valid, w + i);
    __m512i code = _mm512_setzero_si512();
    for (int c = 0; c + 1 < levels; ++c) {
      const __mmask16 above = _mm512_cmp_ps_mask(v, threshold[c], _CMP_GT_OQ);
      code = _mm512_mask_add_epi32(code, above, code, one);
    }
    __m512 q = _mm512_permutexvar_ps(code, table);
    if (reserved != nullptr) {
      const __mmask16 kept =
          _mm_test_epi8_mask(_mm_maskz_loadu_epi8(valid, reserved + i), _mm_set1_epi8(-1));
      q = _mm512_mask_loadu_ps(q, static_cast<__mmask16>(kept & valid), quantized + i);
    }
    _mm512_mask_storeu_ps(quantized + i, valid, q);
    _mm_mask_storeu_epi8(codes + i, valid, _mm512_cvtepi32_epi8(code));

    // Squared error, eight rows at a time in row order.
    const __m512 d = _mm512_sub_ps(v, q);
    for (int half = 0; half < 2; ++half) {
      const int64_t start = i + 8 * half;
      const __m256 d_half = half == 0 ? _mm512_castps512_ps256(d) : _mm512_extractf32x8_ps(d, 1);
      const __m512d wide = _mm512_cvtps_pd(d_half);
      const __m512d square = unfused(_mm512_mul_pd(wide, wide));
      if (start + 8 <= whole) {
        sum = _mm512_add_pd(sum, square);
      } else if (start < rows) {
        _mm512_store_pd(tail, square);
      }
    }
  }

  alignas(64) double partial[8];
  _mm512_store_pd(partial, sum);
  for (int64_t i = whole; i < rows; ++i) partial[0] += tail[i - whole];
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

int64_t flag_tails_avx512(const float* w, int64_t rows, float low, float high, uint8_t* flags,
                          int64_t* below, int32_t* listed) {
  const __m512 low_vector = _mm512_set1_ps(low);
  const __m512 high_vector = _mm512_set1_ps(high);
  const __m512i lane_rows = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  int64_t low_count = 0, high_count = 0, listed_count = 0;
  for (int64_t i = 0; i < rows; i += 16) {
    const __mmask16 valid = first_lanes(rows - i);
    const __m512 v = _mm512_maskz_loadu_ps(valid, w + i);
    const __mmask16 under = _mm512_mask_cmp_ps_mask(valid, v, low_vector, _CMP_LT_OQ);
    const __mmask16 over = _mm512_mask_cmp_ps_mask(valid, v, high_vector, _CMP_GT_OQ);
    const __mmask16 marked = static_cast<__mmask16>(under | over);
    low_count += __builtin_popcount(under);
    high_count += __builtin_popcount(over);
    _mm_mask_storeu_epi8(flags + i, valid, _mm_maskz_mov_epi8(marked, _mm_set1_epi8(1)));

    // A whole vector store, advanced by the marked count (the list has 16
    // entries of slack).
    if (listed != nullptr) {
      const __m512i row = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(i)), lane_rows);
      _mm512_storeu_si512(listed + listed_count, _mm512_maskz_compress_epi32(marked, row));
      listed_count += __builtin_popcount(marked);
    }
  }
  *below = low_count;
  return high_count;
}

}  // namespace claq
