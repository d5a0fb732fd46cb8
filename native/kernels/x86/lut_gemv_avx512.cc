// AVX-512 table look-up GEMV: one slot table is one ZMM register, and
// vpermps looks up 16 rows at once using the low 4 bits of each lane, so a
// window needs at most a shift (no mask) before the look-up, and some need
// only an unaligned load.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics fill unused lanes with _mm512_undefined_ps(),
// which -Wmaybe-uninitialized reports at every inlined call.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <utility>

#include "kernels/lut_3bit_int.h"
#include "kernels/lut_gemv.h"
#include "kernels/lut_gemv_panels.h"
#include "kernels/x86/code_windows_avx512.h"
#include "kernels/x86/lut_3bit_avx512.h"

namespace claq {
namespace {

using avx512::window_3bit;

void build_tables_2bit(const float* codebook, const float* x, float* tables) {
  // Entry n of slot s: even column's centroid n & 3 plus odd column's n >> 2.
  const __m512i even = _mm512_set_epi32(3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0);
  const __m512i odd = _mm512_set_epi32(7, 7, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5, 4, 4, 4, 4);
  for (int s = 0; s < 8; ++s) {
    const __m512 centroids = _mm512_maskz_loadu_ps(0xFF, codebook + 8 * s);
    const __m512 low = _mm512_mul_ps(_mm512_permutexvar_ps(even, centroids), _mm512_set1_ps(x[2 * s]));
    _mm512_storeu_ps(tables + 16 * s, _mm512_fmadd_ps(_mm512_permutexvar_ps(odd, centroids), _mm512_set1_ps(x[2 * s + 1]), low));
  }
}

void build_tables_3bit(const float* codebook, const float* x, float* tables) {
  const __m512i repeat = _mm512_set_epi32(7, 6, 5, 4, 3, 2, 1, 0, 7, 6, 5, 4, 3, 2, 1, 0);
  for (int s = 0; s < 32; ++s) {
    const __m512 centroids = _mm512_maskz_loadu_ps(0xFF, codebook + 8 * s);
    _mm512_storeu_ps(tables + 16 * s, _mm512_mul_ps(_mm512_permutexvar_ps(repeat, centroids), _mm512_set1_ps(x[s])));
  }
}

void build_tables_4bit(const float* codebook, const float* x, float* tables) {
  for (int s = 0; s < 8; ++s) {
    _mm512_storeu_ps(tables + 16 * s, _mm512_mul_ps(_mm512_loadu_ps(codebook + 16 * s), _mm512_set1_ps(x[s])));
  }
}

// Sums the eight look-ups of a one-word tile row (2- and 4-bit tiles) and y,
// as a tree. Slot S reads bits [4S, 4S + 4) of each row's word. An unaligned
// load at byte b of the tile puts byte b of each row's word in the low byte
// of its lane. So loads at bytes 0 to 3 give the even slots, and a shift by
// 4 gives each odd slot. A row then takes four shifts and eight vpermps, where
// eight shifts competed with the look-ups for the vector ports of Intel
// cores. The loads at bytes 1 to 3 read into the next tile, or into the line
// of padding after the codes (packed_layout.h).
inline __m512 sum_nibbles(const uint32_t* tile, const __m512* tables, __m512 y) {
  const char* bytes = reinterpret_cast<const char*>(tile);
  const __m512i even[4] = {_mm512_load_si512(bytes), _mm512_loadu_si512(bytes + 1), _mm512_loadu_si512(bytes + 2),
                           _mm512_loadu_si512(bytes + 3)};
  __m512 looked[8];
  for (int b = 0; b < 4; ++b) {
    looked[2 * b] = _mm512_permutexvar_ps(even[b], tables[2 * b]);
    looked[2 * b + 1] = _mm512_permutexvar_ps(_mm512_srli_epi32(even[b], 4), tables[2 * b + 1]);
  }
  const __m512 low = _mm512_add_ps(_mm512_add_ps(looked[0], looked[1]), _mm512_add_ps(looked[2], looked[3]));
  const __m512 high = _mm512_add_ps(_mm512_add_ps(looked[4], looked[5]), _mm512_add_ps(looked[6], looked[7]));
  return _mm512_add_ps(_mm512_add_ps(low, high), y);
}

// Software prefetch distance in words (8 KiB). On the Intel Xeon, 2- and
// 4-bit GEMV on 4096 x 4096 layers ran 2 to 3 % faster than with 16 KiB (1
// and 2 threads, `node dist/bench/packed.js --gemv`, two runs each,
// alternating). 2 KiB was as fast, 1 KiB 2 to 8 % slower and 32 KiB 15 %
// slower. Prefetching past the end of the codes is harmless: a prefetch never
// faults.
constexpr int64_t kPrefetchWords = 2048;

// The 3-bit sweep prefetches 1 KiB ahead. On the Intel Xeon it then ran 10
// to 12 % faster than with 8 KiB (4096 x 4096 and 4096 x 11008, 1 and 2
// threads, two runs each, alternating). 512 B and 1.5 KiB were slower.
constexpr int64_t kPrefetch3bitWords = 256;

void sweep_nibbles(const uint32_t* tiles, const __m512* tables, int64_t count, float* y) {
  for (int64_t t = 0; t < count; ++t) {
    _mm_prefetch(reinterpret_cast<const char*>(tiles + t * 16 + kPrefetchWords), _MM_HINT_T0);
    _mm512_storeu_ps(y + t * 16, sum_nibbles(tiles + t * 16, tables, _mm512_loadu_ps(y + t * 16)));
  }
}

// Windows that no load reads: one 32-bit shift, or three ops for the two
// columns that straddle words.
struct ShiftWindows {
  template <int C>
  static __m512i cut(__m512i w0, __m512i w1, __m512i w2) {
    return window_3bit<C>(w0, w1, w2);
  }
};

// Sweeps the `count` tiles of one block of a row panel with its tables held
// in registers. With IntegerTables, 3-bit blocks read integer tables
// (lut_3bit_int.h).
template <bool IntegerTables>
void run_block(const PackedGroup& group, const uint32_t* tiles, const float* block_tables, int64_t count, float* y) {
  if (IntegerTables && group.format->bits == 3) {
    lut_3bit_int_sweep_avx512(tiles, block_tables, count, y);
    return;
  }
  if (group.format->bits == 3) {
    // Two halves of 16 columns: 32 tables do not fit the register file
    // beside the working set, and parts by word (10, 11, 11 columns, as the
    // VBMI kernel runs) were 13 % slower on the Intel Xeon.
    sweep_3bit_part<0, 16, ShiftWindows, kPrefetch3bitWords>(tiles, block_tables, count, y);
    sweep_3bit_part<16, 32, ShiftWindows, kPrefetch3bitWords>(tiles, block_tables, count, y);
    return;
  }
  __m512 tables[8];
  for (int s = 0; s < 8; ++s) tables[s] = _mm512_loadu_ps(block_tables + 16 * s);
  sweep_nibbles(tiles, tables, count, y);
}

// Builds every block's tables, the 3-bit ones with build_3bit.
void build_tables(const PackedLayer& layer, const float* x_packed, float* tables,
                  void (*build_3bit)(const float*, const float*, float*)) {
  for (const PackedGroup& group : layer.groups) {
    const PackedTileFormat& format = *group.format;
    for (int64_t block = 0; block < group.blocks; ++block) {
      const int64_t first = block * format.block_columns;
      const float* x = x_packed + group.column_begin + first;
      const float* codebook = layer.codebooks.data() + group.codebook_offset + (first << format.bits);
      float* out = tables + (group.slot_offset + block * format.slots) * 16;
      if (format.bits == 2) {
        build_tables_2bit(codebook, x, out);
      } else if (format.bits == 3) {
        build_3bit(codebook, x, out);
      } else {
        build_tables_4bit(codebook, x, out);
      }
    }
  }
}

}  // namespace

void lut_build_tables_avx512(const PackedLayer& layer, const float* x_packed, float* tables) {
  build_tables(layer, x_packed, tables, build_tables_3bit);
}

void lut_gemv_avx512(const PackedLayer& layer, const float*, const float* tables, int64_t panel_begin,
                     int64_t panel_end, float* y) {
  lut_gemv_panels(layer, tables, panel_begin, panel_end, y, run_block<false>);
}

void lut_build_tables_int3_avx512(const PackedLayer& layer, const float* x_packed, float* tables) {
  build_tables(layer, x_packed, tables, lut_3bit_int_build_block_avx512);
}

void lut_gemv_int3_avx512(const PackedLayer& layer, const float*, const float* tables, int64_t panel_begin,
                          int64_t panel_end, float* y) {
  lut_gemv_panels(layer, tables, panel_begin, panel_end, y, run_block<true>);
}

}  // namespace claq
