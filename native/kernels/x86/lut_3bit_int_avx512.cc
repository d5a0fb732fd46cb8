// Integer-table 3-bit GEMV sweep and its table conversion (lut_3bit_int.h).
// Callers check cpu_has_avx512_vbmi_vnni() first (simd_level.h).
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics fill unused lanes with _mm512_undefined_ps(),
// which -Wmaybe-uninitialized reports at every inlined call.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/lut_3bit_int.h"

// VBMI, VBMI2 and VNNI for the code below only, after the shared headers, so
// their inline functions compile as in the other AVX-512 files.
#pragma GCC target("avx512vbmi,avx512vbmi2,avx512vnni")

namespace claq {
namespace {

constexpr int kBlockColumns = 32;
constexpr int kPlaneBytes = 256;

// Software prefetch distance in words (1 KiB). On the Intel Xeon (11008 x
// 4096, 1 and 2 threads, `node dist/bench/packed.js --gemv --configs 3`),
// 512 B to 1.5 KiB streamed at 0.67 to 0.74 of the memory pass, and 8 KiB at
// 0.54 to 0.58.
constexpr int64_t kPrefetchWords = 256;

// Writes the digits of columns 2p and 2p + 1 (entries already scaled to
// integers) to the digit planes.
template <int Digits>
void store_digits(__m512i q, int p, uint8_t* planes) {
  const __m512i top = _mm512_set1_epi32((1 << (7 * Digits)) - 1);
  q = _mm512_min_epi32(q, top);
  for (int d = 0; d < Digits; ++d) {
    const int shift = 7 * (Digits - 1 - d);
    __m512i digit = _mm512_srai_epi32(q, shift);
    if (d > 0) digit = _mm512_and_si512(digit, _mm512_set1_epi32(127));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(planes + kPlaneBytes * d + 16 * p), _mm512_cvtepi32_epi8(digit));
  }
}

// Builds one 3-bit block's digit planes and exponent from its 32 codebooks
// (8 centroids each) and x. Register p contains the entries C_j[c] x_j of
// columns j = 2p and 2p + 1, the same float32 products as the float tables,
// so both kinds of table round from the same values.
template <int Digits>
void build_block(const float* codebook, const float* x, uint8_t* planes) {
  const __m512 x_half[2] = {_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16)};
  const __m512i first_pair = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  __m512 entries[kBlockColumns / 2];
  __m512 largest = _mm512_setzero_ps();
  __mmask16 special = 0;
  for (int p = 0; p < kBlockColumns / 2; ++p) {
    const __m512i lane_column = _mm512_add_epi32(first_pair, _mm512_set1_epi32(2 * (p % 8)));
    const __m512 x_pair = _mm512_permutexvar_ps(lane_column, x_half[p / 8]);
    entries[p] = _mm512_mul_ps(_mm512_loadu_ps(codebook + 16 * p), x_pair);
    special |= _mm512_fpclass_ps_mask(entries[p], 0x99);  // QNaN, +Inf, -Inf, SNaN
    largest = _mm512_max_ps(largest, _mm512_abs_ps(entries[p]));
  }
  const float magnitude = _mm512_reduce_max_ps(largest);

  float exponent = 0.0f;
  if (special != 0) {
    exponent = NAN;
  } else if (magnitude > 0.0f) {
    // magnitude * 2^-exponent lies in [2^(7 Digits - 1), 2^(7 Digits)).
    exponent = static_cast<float>(std::ilogb(magnitude) + 1 - 7 * Digits);
  }
  if (special != 0 || magnitude == 0.0f) {
    std::memset(planes, 0, kPlaneBytes * Digits);
  } else {
    const __m512 scale = _mm512_set1_ps(-exponent);
    for (int p = 0; p < kBlockColumns / 2; ++p) {
      store_digits<Digits>(_mm512_cvtps_epi32(_mm512_scalef_ps(entries[p], scale)), p, planes);
    }
  }
  std::memcpy(planes + kPlaneBytes * Digits, &exponent, sizeof(exponent));
}

// vpmultishiftqb control that puts the codes at bits o, o + 3, o + 6 and
// o + 9 of each row's word into the row's 4 bytes.
constexpr long long control_at(int o) {
  uint64_t control = 0;
  for (int k = 0; k < 4; ++k) {
    control |= uint64_t(o + 3 * k) << (8 * k);
    control |= uint64_t(32 + o + 3 * k) << (8 * (k + 4));
  }
  return static_cast<long long>(control);
}

// Constants of the sweep, kept in registers.
struct Sweep3Constants {
  __m512i control[6];  // offsets 0, 4, 8, 12, 16, 20
  __m512i sevens;
  __m512i column_offset[2];
  __m512i weight_high;
  __m512i weight_low;
};

// Indexes for vpermb of the 4 columns that start at bit O of each row's
// word, in half Half of their table register.
template <int O, int Half>
inline __m512i index_at(__m512i word, const Sweep3Constants& k) {
  const __m512i codes = _mm512_multishift_epi64_epi8(k.control[O / 4], word);
  return _mm512_ternarylogic_epi32(codes, k.sevens, k.column_offset[Half], 0xEA);  // (a & b) | c
}

// The 32-bit sum of one tile row's digits, each weighted by its place.
template <int Digits>
inline __m512i sum_tile(const __m512i (&index)[8], const __m512i (&tables)[Digits][4], const Sweep3Constants& k) {
  __m512i high[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
  __m512i low[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
  for (int g = 0; g < 8; ++g) {
    high[g & 1] = _mm512_dpbusd_epi32(high[g & 1], k.weight_high, _mm512_permutexvar_epi8(index[g], tables[0][g / 2]));
    high[g & 1] = _mm512_dpbusd_epi32(high[g & 1], k.weight_low, _mm512_permutexvar_epi8(index[g], tables[1][g / 2]));
    if constexpr (Digits == 3) {
      low[g & 1] = _mm512_dpbusd_epi32(low[g & 1], k.weight_low, _mm512_permutexvar_epi8(index[g], tables[2][g / 2]));
    }
  }
  const __m512i sum = _mm512_add_epi32(high[0], high[1]);
  if constexpr (Digits == 2) return sum;
  return _mm512_add_epi32(_mm512_slli_epi32(sum, 7), _mm512_add_epi32(low[0], low[1]));
}

template <int Digits>
void sweep(const uint32_t* tiles, const float* block_tables, int64_t count, float* y) {
  const uint8_t* planes = reinterpret_cast<const uint8_t*>(block_tables);
  __m512i tables[Digits][4];
  for (int d = 0; d < Digits; ++d) {
    for (int r = 0; r < 4; ++r) tables[d][r] = _mm512_load_si512(planes + kPlaneBytes * d + 64 * r);
  }
  float exponent;
  std::memcpy(&exponent, planes + kPlaneBytes * Digits, sizeof(exponent));
  const __m512 scale = _mm512_set1_ps(exponent);
  const Sweep3Constants k = {
      {_mm512_set1_epi64(control_at(0)), _mm512_set1_epi64(control_at(4)), _mm512_set1_epi64(control_at(8)),
       _mm512_set1_epi64(control_at(12)), _mm512_set1_epi64(control_at(16)), _mm512_set1_epi64(control_at(20))},
      _mm512_set1_epi8(7),
      {_mm512_set1_epi32(0x18100800), _mm512_set1_epi32(0x38302820)},
      _mm512_set1_epi8(static_cast<char>(128)),
      _mm512_set1_epi8(1)};

  for (int64_t t = 0; t < count; ++t) {
    const uint32_t* tile = tiles + t * 48;
    for (int line = 0; line < 3; ++line) {
      _mm_prefetch(reinterpret_cast<const char*>(tile + 16 * line + kPrefetchWords), _MM_HINT_T0);
    }
    const __m512i w0 = _mm512_load_si512(tile);
    const __m512i w1 = _mm512_load_si512(tile + 16);
    const __m512i w2 = _mm512_load_si512(tile + 32);
    // Columns 8-11 start at bit 24 of w0 and columns 20-23 at bit 28 of w1;
    // the double shifts bring each run of 4 into one word.
    const __m512i t1 = _mm512_shrdi_epi32(w0, w1, 24);
    const __m512i t2 = _mm512_shrdi_epi32(w1, w2, 28);
    const __m512i index[8] = {index_at<0, 0>(w0, k),  index_at<12, 1>(w0, k), index_at<0, 0>(t1, k),
                              index_at<4, 1>(w1, k),  index_at<16, 0>(w1, k), index_at<0, 1>(t2, k),
                              index_at<8, 0>(w2, k),  index_at<20, 1>(w2, k)};
    const __m512 sum = _mm512_scalef_ps(_mm512_cvtepi32_ps(sum_tile<Digits>(index, tables, k)), scale);
    _mm512_storeu_ps(y + t * 16, _mm512_add_ps(_mm512_loadu_ps(y + t * 16), sum));
  }
}

}  // namespace

void lut_3bit_int_build_block_avx512(const float* codebook, const float* x, float* block_tables) {
  build_block<kInt3Digits>(codebook, x, reinterpret_cast<uint8_t*>(block_tables));
}

void lut_3bit_int_sweep_avx512(const uint32_t* tiles, const float* block_tables, int64_t count, float* y) {
  sweep<kInt3Digits>(tiles, block_tables, count, y);
}

}  // namespace claq
