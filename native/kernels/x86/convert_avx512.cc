// AVX-512 versions of the conversions in kernels/convert.h: sixteen values
// per step, and masked loads and stores for the tail, so nothing is read or
// written past n.
#include <immintrin.h>

#include "kernels/convert.h"

namespace claq {
namespace {

__mmask16 tail_mask(size_t count) {
  return static_cast<__mmask16>((1u << count) - 1);
}

// BF16 rounding on sixteen float32 bit patterns, the same rule as
// f32_to_bf16_bits: NaN keeps its top bits and is made quiet.
__m512i round_to_bf16_avx512(__m512i u) {
  const __m512i lowest_kept = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), lowest_kept);
  const __m512i magnitude = _mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF));
  const __mmask16 is_nan = _mm512_cmpgt_epi32_mask(magnitude, _mm512_set1_epi32(0x7F800000));
  const __m512i result = _mm512_mask_or_epi32(rounded, is_nan, u, _mm512_set1_epi32(0x00400000));
  return _mm512_srli_epi32(result, 16);
}

}  // namespace

void f16_to_f32_avx512(const uint8_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * i));
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(h));
  }
  if (i < n) {
    const __mmask16 mask = tail_mask(n - i);
    const __m256i h = _mm256_maskz_loadu_epi16(mask, src + 2 * i);
    _mm512_mask_storeu_ps(dst + i, mask, _mm512_cvtph_ps(h));
  }
}

void bf16_to_f32_avx512(const uint8_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * i));
    _mm512_storeu_ps(dst + i, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(b), 16)));
  }
  if (i < n) {
    const __mmask16 mask = tail_mask(n - i);
    const __m256i b = _mm256_maskz_loadu_epi16(mask, src + 2 * i);
    _mm512_mask_storeu_ps(dst + i, mask, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(b), 16)));
  }
}

void f32_to_f16_avx512(const float* src, uint8_t* dst, size_t n) {
  constexpr int kRounding = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(src + i), kRounding);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 2 * i), h);
  }
  if (i < n) {
    const __mmask16 mask = tail_mask(n - i);
    const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(mask, src + i), kRounding);
    _mm256_mask_storeu_epi16(dst + 2 * i, mask, h);
  }
}

void f32_to_bf16_avx512(const float* src, uint8_t* dst, size_t n) {
  // The main loop narrows 32 values with one vpackusdw and one vpermq rather
  // than two vpmovdw (cvtepi32_epi16), which we estimate to be fewer shuffle
  // uops. bench/convert.ts shows both at memory speed on Zen 5. packus works
  // per 128-bit lane and yields 64-bit blocks a0 b0 a1 b1 and so on, and the
  // permutation puts all of a before all of b.
  const __m512i block_order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512i a = round_to_bf16_avx512(_mm512_castps_si512(_mm512_loadu_ps(src + i)));
    const __m512i b = round_to_bf16_avx512(_mm512_castps_si512(_mm512_loadu_ps(src + i + 16)));
    const __m512i packed = _mm512_permutexvar_epi64(block_order, _mm512_packus_epi32(a, b));
    _mm512_storeu_si512(dst + 2 * i, packed);
  }
  for (; i + 16 <= n; i += 16) {
    const __m512i u = _mm512_castps_si512(_mm512_loadu_ps(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 2 * i), _mm512_cvtepi32_epi16(round_to_bf16_avx512(u)));
  }
  if (i < n) {
    const __mmask16 mask = tail_mask(n - i);
    const __m512i u = _mm512_castps_si512(_mm512_maskz_loadu_ps(mask, src + i));
    _mm256_mask_storeu_epi16(dst + 2 * i, mask, _mm512_cvtepi32_epi16(round_to_bf16_avx512(u)));
  }
}

}  // namespace claq
