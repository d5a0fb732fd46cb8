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

#include "kernels/lut_gemv.h"
#include "kernels/lut_gemv_panels.h"

// VBMI and VBMI2 for the code below only. The shared headers above compile as
// in the other AVX-512 files, so their inline functions are the same in every
// file and the linker cannot keep a VBMI copy for code that runs without VBMI.
#pragma GCC target("avx512vbmi,avx512vbmi2")

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

// Position of the code of 3-bit column C in a row's three words. A window
// costs a vector ALU op (one multishift) unless a load can read it. An
// unaligned load at byte b of a plane puts bits [8b, 8b + 32) of every row's
// word in its lane. So a code that starts 0 or 1 bit after a byte needs no
// ALU op (8 of the 32 columns), and for offset 1 the table is widened: entry
// n contains entry n >> 1. Columns 10 and 21 straddle words and take one
// double-word shift each.
//
// NOTE: codes at offset 2 (four more columns) fit a 32-entry table
// (vpermi2ps). On Zen 5 that ran as fast in cache but at half speed on an
// out-of-cache working set, for a reason not found, so it is not used.
template <int C>
struct Column3 {
  static constexpr int kBit = 3 * C;
  static constexpr int kWord = kBit / 32;
  static constexpr int kShift = kBit % 32;
  static constexpr bool kStraddles = kShift > 29;
  static constexpr bool kLoaded = !kStraddles && kShift % 8 <= 1;
  static constexpr int kByte = kShift / 8;
  static constexpr bool kWidened = kLoaded && kShift % 8 == 1;
};

// Window of 3-bit column C of a tile whose planes are w0, w1, w2. A load
// from plane 2 at byte b would read b bytes past the tile, so it masks them
// (a masked-off byte never faults).
template <int C>
inline __m512i window_3bit(const uint32_t* tile, __m512i w0, __m512i w1, __m512i w2) {
  using Column = Column3<C>;
  const __m512i words[3] = {w0, w1, w2};
  const char* plane = reinterpret_cast<const char*>(tile + 16 * Column::kWord);
  if constexpr (Column::kStraddles) {
    return _mm512_shrdi_epi32(words[Column::kWord], words[Column::kWord + 1], Column::kShift);
  } else if constexpr (!Column::kLoaded) {
    return window<Column::kShift>(words[Column::kWord]);
  } else if constexpr (Column::kByte == 0) {
    return words[Column::kWord];
  } else if constexpr (Column::kWord < 2) {
    return _mm512_loadu_si512(plane + Column::kByte);
  } else {
    return _mm512_maskz_loadu_epi8(~__mmask64{0} >> Column::kByte, plane + Column::kByte);
  }
}

// Sums the look-ups of one tile as a tree: short dependency chains, and the
// adds stay off the critical path of the permutes.
template <size_t... S>
inline __m512 sum_nibbles(__m512i word, const __m512* tables, std::index_sequence<S...>) {
  __m512 looked[] = {_mm512_permutexvar_ps(window<4 * S>(word), tables[S])...};
  return _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(looked[0], looked[1]), _mm512_add_ps(looked[2], looked[3])),
                       _mm512_add_ps(_mm512_add_ps(looked[4], looked[5]), _mm512_add_ps(looked[6], looked[7])));
}

// Sum of N look-ups plus `y` in four chains that start at the first four
// look-ups (adding them to a zero would cost an add each: -0 + 0 is not -0).
template <size_t N, size_t... R>
inline __m512 sum_looked(const __m512 (&looked)[N], __m512 y, std::index_sequence<R...>) {
  __m512 acc[4] = {looked[0], looked[1], looked[2], looked[3]};
  ((acc[R & 3] = _mm512_add_ps(acc[R & 3], looked[4 + R])), ...);
  return _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], _mm512_add_ps(acc[3], y)));
}

// Sum over columns First + S of a 3-bit tile row plus `y`, tables in registers.
template <size_t First, size_t... S>
inline __m512 sum_3bit(const uint32_t* tile, __m512i w0, __m512i w1, __m512i w2, const __m512* tables, __m512 y,
                       std::index_sequence<S...>) {
  const __m512 looked[] = {_mm512_permutexvar_ps(window_3bit<First + S>(tile, w0, w1, w2), tables[S])...};
  return sum_looked(looked, y, std::make_index_sequence<sizeof...(S) - 4>());
}

void sweep_nibbles(const uint32_t* tiles, const __m512* tables, int64_t count, float* y) {
  for (int64_t t = 0; t < count; ++t) {
    _mm_prefetch(reinterpret_cast<const char*>(tiles + t * 16 + kPrefetchWords), _MM_HINT_T0);
    const __m512i word = _mm512_load_si512(tiles + t * 16);
    const __m512 sum = sum_nibbles(word, tables, std::make_index_sequence<8>());
    _mm512_storeu_ps(y + t * 16, _mm512_add_ps(_mm512_loadu_ps(y + t * 16), sum));
  }
}

// Tables of columns First + S, widened where Column3<C>::kWidened.
template <size_t First, size_t... S>
inline void load_tables(const float* block_tables, __m512* tables, std::index_sequence<S...>) {
  const __m512i halves = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  ((tables[S] = _mm512_load_ps(block_tables + 16 * (First + S))), ...);
  ((tables[S] = Column3<First + S>::kWidened ? _mm512_permutexvar_ps(halves, tables[S]) : tables[S]), ...);
}

// Columns [First, Last) of a 3-bit block over `count` tiles. The tables and
// the window controls of the part stay in registers: a version that read its
// 32 tables per tile from L1 ran at 9-10 GB/s from memory. The first part
// streams the block from memory (with prefetch), the later ones find it in L1.
template <size_t First, size_t Last>
void sweep_3bit_part(const uint32_t* tiles, const float* block_tables, int64_t count, float* y) {
  __m512 tables[Last - First];
  load_tables<First>(block_tables, tables, std::make_index_sequence<Last - First>());
  for (int64_t t = 0; t < count; ++t) {
    const uint32_t* tile = tiles + t * 48;
    if constexpr (First == 0) {
      for (int line = 0; line < 3; ++line) {
        _mm_prefetch(reinterpret_cast<const char*>(tile + 16 * line + kPrefetchWords), _MM_HINT_T0);
      }
    }
    const __m512i w0 = _mm512_load_si512(tile);
    const __m512i w1 = _mm512_load_si512(tile + 16);
    const __m512i w2 = _mm512_load_si512(tile + 32);
    const __m512 sum = sum_3bit<First>(tile, w0, w1, w2, tables, _mm512_loadu_ps(y + t * 16),
                                       std::make_index_sequence<Last - First>());
    _mm512_storeu_ps(y + t * 16, sum);
  }
}

void run_block(const PackedGroup& group, const uint32_t* tiles, const float* block_tables, int64_t count, float* y) {
  if (group.format->bits == 3) {
    // Parts by word: columns 0-9 lie in w0, 11-20 in w1, 22-31 in w2.
    sweep_3bit_part<0, 10>(tiles, block_tables, count, y);
    sweep_3bit_part<10, 21>(tiles, block_tables, count, y);
    sweep_3bit_part<21, 32>(tiles, block_tables, count, y);
    return;
  }
  __m512 tables[8];
  for (int s = 0; s < 8; ++s) tables[s] = _mm512_loadu_ps(block_tables + 16 * s);
  sweep_nibbles(tiles, tables, count, y);
}

}  // namespace

void lut_gemv_vbmi_avx512(const PackedLayer& layer, const float*, const float* tables, int64_t panel_begin,
                          int64_t panel_end, float* y) {
  lut_gemv_panels(layer, tables, panel_begin, panel_end, y, run_block);
}

}  // namespace claq
