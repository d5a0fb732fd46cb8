// The 3-bit block sweep that both AVX-512 table look-up GEMVs share
// (lut_gemv_avx512.cc, lut_gemv_vbmi_avx512.cc). They differ only in how a
// window that no load can read is cut from its word: the Windows policy's
// `cut<C>(w0, w1, w2)` returns the window of 3-bit column C.
//
// Like lut_gemv_panels.h, the templates sit in an unnamed namespace: each
// file compiles its own copy with its own target flags (the VBMI file
// includes this header after its `#pragma GCC target`).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace claq {
namespace {

// Position of the code of 3-bit column C in a row's three words. An unaligned
// load at byte b of a plane puts bits [8b, 8b + 32) of every row's word in
// its lane. So a code that starts 0 or 1 bit after a byte needs no vector op
// (8 of the 32 columns), and for offset 1 the table is widened: entry n
// contains entry n >> 1. Columns 10 and 21 straddle words.
//
// NOTE: codes at offset 2 (four more columns) fit a 32-entry table
// (vpermi2ps). On an out-of-cache working set that ran at about half the
// speed of this form on Zen 5, and at 0.81 to 1.02 times on the Intel Xeon
// (`node dist/bench/packed.js --gemv --configs 3`), for a reason not found.
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

// Window of 3-bit column C of a tile whose planes are w0, w1, w2. A load from
// plane 2 at byte b would read b bytes past the tile, so it masks them (a
// masked-off byte never faults).
template <int C, typename Windows>
inline __m512i window_of_column(const uint32_t* tile, __m512i w0, __m512i w1, __m512i w2) {
  using Column = Column3<C>;
  const __m512i words[3] = {w0, w1, w2};
  const char* plane = reinterpret_cast<const char*>(tile + 16 * Column::kWord);
  if constexpr (!Column::kLoaded) {
    return Windows::template cut<C>(w0, w1, w2);
  } else if constexpr (Column::kByte == 0) {
    return words[Column::kWord];
  } else if constexpr (Column::kWord < 2) {
    return _mm512_loadu_si512(plane + Column::kByte);
  } else {
    return _mm512_maskz_loadu_epi8(~__mmask64{0} >> Column::kByte, plane + Column::kByte);
  }
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
template <size_t First, typename Windows, size_t... S>
inline __m512 sum_3bit(const uint32_t* tile, __m512i w0, __m512i w1, __m512i w2, const __m512* tables, __m512 y,
                       std::index_sequence<S...>) {
  const __m512 looked[] = {
      _mm512_permutexvar_ps(window_of_column<First + S, Windows>(tile, w0, w1, w2), tables[S])...};
  return sum_looked(looked, y, std::make_index_sequence<sizeof...(S) - 4>());
}

// Tables of columns First + S, widened where Column3<C>::kWidened.
template <size_t First, size_t... S>
inline void load_tables(const float* block_tables, __m512* tables, std::index_sequence<S...>) {
  const __m512i halves = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  ((tables[S] = _mm512_load_ps(block_tables + 16 * (First + S))), ...);
  ((tables[S] = Column3<First + S>::kWidened ? _mm512_permutexvar_ps(halves, tables[S]) : tables[S]), ...);
}

// Adds columns [First, Last) of a 3-bit block to y over `count` tiles, with
// their tables and the window controls in registers. The part that starts at
// column 0 streams the block from memory and prefetches PrefetchWords ahead;
// the later parts find it in L1.
template <size_t First, size_t Last, typename Windows, int64_t PrefetchWords>
void sweep_3bit_part(const uint32_t* tiles, const float* block_tables, int64_t count, float* y) {
  __m512 tables[Last - First];
  load_tables<First>(block_tables, tables, std::make_index_sequence<Last - First>());
  for (int64_t t = 0; t < count; ++t) {
    const uint32_t* tile = tiles + t * 48;
    if constexpr (First == 0) {
      for (int line = 0; line < 3; ++line) {
        _mm_prefetch(reinterpret_cast<const char*>(tile + 16 * line + PrefetchWords), _MM_HINT_T0);
      }
    }
    const __m512i w0 = _mm512_load_si512(tile);
    const __m512i w1 = _mm512_load_si512(tile + 16);
    const __m512i w2 = _mm512_load_si512(tile + 32);
    const __m512 sum = sum_3bit<First, Windows>(tile, w0, w1, w2, tables, _mm512_loadu_ps(y + t * 16),
                                                std::make_index_sequence<Last - First>());
    _mm512_storeu_ps(y + t * 16, sum);
  }
}

}  // namespace
}  // namespace claq
