// F16C and AVX2 versions of the conversions in kernels/convert.h. They convert
// eight values per step with unaligned loads and stores. The tail (fewer than
// eight) goes through the scalar reference, so nothing is read or written
// past n.
#include <immintrin.h>

#include "kernels/convert.h"

namespace claq {
namespace {

// BF16 rounding on eight float32 bit patterns, the same rule as
// f32_to_bf16_bits: NaN keeps its top bits and is made quiet.
__m256i round_to_bf16_avx2(__m256i u) {
  const __m256i lowest_kept = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), lowest_kept);
  const __m256i magnitude = _mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF));
  const __m256i is_nan = _mm256_cmpgt_epi32(magnitude, _mm256_set1_epi32(0x7F800000));
  const __m256i quiet_nan = _mm256_or_si256(u, _mm256_set1_epi32(0x00400000));
  return _mm256_srli_epi32(_mm256_blendv_epi8(rounded, quiet_nan, is_nan), 16);
}

}  // namespace

void f16_to_f32_avx2(const uint8_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  f16_to_f32_ref(src + 2 * i, dst + i, n - i);
}

void bf16_to_f32_avx2(const uint8_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    const __m256i widened = _mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16);
    _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(widened));
  }
  bf16_to_f32_ref(src + 2 * i, dst + i, n - i);
}

void f32_to_f16_avx2(const float* src, uint8_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * i), h);
  }
  f32_to_f16_ref(src + i, dst + 2 * i, n - i);
}

void f32_to_bf16_avx2(const float* src, uint8_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i u = _mm256_castps_si256(_mm256_loadu_ps(src + i));
    const __m256i b = round_to_bf16_avx2(u);
    // packus works within 128-bit lanes: [a0..a3 a0..a3 | a4..a7 a4..a7];
    // gathering 64-bit blocks 0 and 2 puts the eight results in order.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(b, b), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * i), _mm256_castsi256_si128(packed));
  }
  f32_to_bf16_ref(src + i, dst + 2 * i, n - i);
}

}  // namespace claq
