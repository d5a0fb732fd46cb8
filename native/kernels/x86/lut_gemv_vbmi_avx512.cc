// AVX-512 table look-up GEMV for CPUs with AVX512-VBMI and VBMI2. It uses the
// tables of lut_gemv_avx512.cc, but each window comes from one vpmultishiftqb
// instead of a 32-bit shift. On Zen 5 (measured in L1) the shift competes
// with vpermps for the same pipes, while vpmultishiftqb issues beside it: a
// 2-bit tile row (8 look-ups) takes about 7 cycles instead of 11.
//
// vpmultishiftqb copies, into each byte of a 64-bit lane, the 8 bits that
// start at that byte's offset in the control (rotating within the lane). A
// 64-bit lane contains the words of two rows, so the control puts offset
// `shift` into byte 0 and `32 + shift` into byte 4. The low byte of each
// 32-bit lane then contains bits [shift, shift + 8) of its own row, and
// vpermps reads the low 4.
// The two 3-bit columns that straddle words take one vpshrdd (VBMI2) each.
//
// Callers check cpu_has_avx512_vbmi() first (simd_level.h): VBMI and VBMI2.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics fill unused lanes with _mm512_undefined_ps(),
// which -Wmaybe-uninitialized reports at every inlined call.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cstdint>
#include <utility>

#include "kernels/lut_3bit_int.h"
#include "kernels/lut_gemv.h"
#include "kernels/lut_gemv_panels.h"

// VBMI and VBMI2 for the code below only. The shared headers above compile as
// in the other AVX-512 files, so their inline functions are the same in every
// file and the linker cannot keep a VBMI copy for code that runs without VBMI.
#pragma GCC target("avx512vbmi,avx512vbmi2")

#include "kernels/x86/lut_3bit_avx512.h"

namespace claq {
namespace {

// Software prefetch distance in words. Prefetching past the end of the codes
// is harmless: a prefetch never faults.
constexpr int64_t kPrefetchWords = 4096;

// Window at bit `Shift` (0..31) of every 32-bit lane: low 4 bits valid.
template <int Shift>
inline __m512i window(__m512i word) {
  if constexpr (Shift == 0) {
    return word;
  } else {
    constexpr uint64_t control = uint64_t{Shift} | (uint64_t{32 + Shift} << 32);
    return _mm512_multishift_epi64_epi8(_mm512_set1_epi64(static_cast<long long>(control)), word);
  }
}

// Windows that no load reads: one multishift, or one vpshrdd for the two
// columns that straddle words.
struct MultishiftWindows {
  template <int C>
  static __m512i cut(__m512i w0, __m512i w1, __m512i w2) {
    using Column = Column3<C>;
    const __m512i words[3] = {w0, w1, w2};
    if constexpr (Column::kStraddles) {
      return _mm512_shrdi_epi32(words[Column::kWord], words[Column::kWord + 1], Column::kShift);
    } else {
      return window<Column::kShift>(words[Column::kWord]);
    }
  }
};

// Sums the look-ups of one tile as a tree: short dependency chains, and the
// adds stay off the critical path of the permutes.
template <size_t... S>
inline __m512 sum_nibbles(__m512i word, const __m512* tables, std::index_sequence<S...>) {
  __m512 looked[] = {_mm512_permutexvar_ps(window<4 * S>(word), tables[S])...};
  return _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(looked[0], looked[1]), _mm512_add_ps(looked[2], looked[3])),
                       _mm512_add_ps(_mm512_add_ps(looked[4], looked[5]), _mm512_add_ps(looked[6], looked[7])));
}

void sweep_nibbles(const uint32_t* tiles, const __m512* tables, int64_t count, float* y) {
  for (int64_t t = 0; t < count; ++t) {
    _mm_prefetch(reinterpret_cast<const char*>(tiles + t * 16 + kPrefetchWords), _MM_HINT_T0);
    const __m512i word = _mm512_load_si512(tiles + t * 16);
    const __m512 sum = sum_nibbles(word, tables, std::make_index_sequence<8>());
    _mm512_storeu_ps(y + t * 16, _mm512_add_ps(_mm512_loadu_ps(y + t * 16), sum));
  }
}

// With IntegerTables, 3-bit blocks read integer tables (lut_3bit_int.h).
template <bool IntegerTables>
void run_block(const PackedGroup& group, const uint32_t* tiles, const float* block_tables, int64_t count, float* y) {
  if (IntegerTables && group.format->bits == 3) {
    lut_3bit_int_sweep_avx512(tiles, block_tables, count, y);
    return;
  }
  if (group.format->bits == 3) {
    // Parts by word: columns 0-9 lie in w0, 11-20 in w1, 22-31 in w2.
    sweep_3bit_part<0, 10, MultishiftWindows, kPrefetchWords>(tiles, block_tables, count, y);
    sweep_3bit_part<10, 21, MultishiftWindows, kPrefetchWords>(tiles, block_tables, count, y);
    sweep_3bit_part<21, 32, MultishiftWindows, kPrefetchWords>(tiles, block_tables, count, y);
    return;
  }
  __m512 tables[8];
  for (int s = 0; s < 8; ++s) tables[s] = _mm512_loadu_ps(block_tables + 16 * s);
  sweep_nibbles(tiles, tables, count, y);
}

}  // namespace

void lut_gemv_vbmi_avx512(const PackedLayer& layer, const float*, const float* tables, int64_t panel_begin,
                          int64_t panel_end, float* y) {
  lut_gemv_panels(layer, tables, panel_begin, panel_end, y, run_block<false>);
}

void lut_gemv_vbmi_int3_avx512(const PackedLayer& layer, const float*, const float* tables, int64_t panel_begin,
                               int64_t panel_end, float* y) {
  lut_gemv_panels(layer, tables, panel_begin, panel_end, y, run_block<true>);
}

}  // namespace claq
