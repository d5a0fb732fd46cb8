// AVX2 table look-up GEMV. vpermps has 8 lanes and reads 3 index bits, so a
// 16-entry table takes two registers: both are looked up and the results
// blended on bit 3 of the window. The 3-bit tables have 8 entries and need one
// look-up. A tile is two halves of 8 rows, and the tables are read as memory
// operands.
#include <immintrin.h>

#include <utility>

#include "kernels/lut_gemv.h"
#include "kernels/lut_gemv_panels.h"
#include "kernels/x86/code_windows_avx2.h"

namespace claq {
namespace {

using avx2::shift_right;
using avx2::window_3bit;
using avx2::lookup16;

template <size_t... S>
inline __m256 sum_nibbles(__m256i word, const float* tables, std::index_sequence<S...>) {
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  ((acc[S & 1] = _mm256_add_ps(acc[S & 1], lookup16(shift_right<4 * S>(word), tables + 16 * S))), ...);
  return _mm256_add_ps(acc[0], acc[1]);
}

template <size_t... C>
inline __m256 sum_3bit(__m256i w0, __m256i w1, __m256i w2, const float* tables, std::index_sequence<C...>) {
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  ((acc[C & 1] = _mm256_add_ps(
        acc[C & 1], _mm256_permutevar8x32_ps(_mm256_load_ps(tables + 16 * C), window_3bit<C>(w0, w1, w2)))),
   ...);
  return _mm256_add_ps(acc[0], acc[1]);
}

void build_block_tables(const PackedTileFormat& format, const float* codebook, const float* x, float* tables) {
  if (format.bits == 2) {
    // Entry n: even column's centroid n & 3 plus odd column's n >> 2.
    const __m256i even = _mm256_setr_epi32(0, 1, 2, 3, 0, 1, 2, 3);
    const __m256i odd_low = _mm256_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5);
    const __m256i odd_high = _mm256_setr_epi32(6, 6, 6, 6, 7, 7, 7, 7);
    for (int s = 0; s < 8; ++s) {
      const __m256 centroids = _mm256_loadu_ps(codebook + 8 * s);
      const __m256 low = _mm256_mul_ps(_mm256_permutevar8x32_ps(centroids, even), _mm256_set1_ps(x[2 * s]));
      const __m256 xo = _mm256_set1_ps(x[2 * s + 1]);
      _mm256_store_ps(tables + 16 * s, _mm256_fmadd_ps(_mm256_permutevar8x32_ps(centroids, odd_low), xo, low));
      _mm256_store_ps(tables + 16 * s + 8, _mm256_fmadd_ps(_mm256_permutevar8x32_ps(centroids, odd_high), xo, low));
    }
  } else if (format.bits == 3) {
    for (int s = 0; s < 32; ++s) {
      const __m256 entries = _mm256_mul_ps(_mm256_loadu_ps(codebook + 8 * s), _mm256_set1_ps(x[s]));
      _mm256_store_ps(tables + 16 * s, entries);
      _mm256_store_ps(tables + 16 * s + 8, entries);
    }
  } else {
    for (int s = 0; s < 8; ++s) {
      const __m256 xs = _mm256_set1_ps(x[s]);
      _mm256_store_ps(tables + 16 * s, _mm256_mul_ps(_mm256_loadu_ps(codebook + 16 * s), xs));
      _mm256_store_ps(tables + 16 * s + 8, _mm256_mul_ps(_mm256_loadu_ps(codebook + 16 * s + 8), xs));
    }
  }
}

void add_to(float* y, __m256 sum) { _mm256_storeu_ps(y, _mm256_add_ps(_mm256_loadu_ps(y), sum)); }

// Software prefetch distance in words (16 KiB), as in the AVX-512 kernel.
// Prefetching past the end of the codes is harmless: a prefetch never faults.
constexpr int64_t kPrefetchWords = 4096;

void run_block(const PackedGroup& group, const uint32_t* tiles, const float* tables, int64_t count, float* y) {

  if (group.format->bits == 3) {
    for (int64_t t = 0; t < count; ++t) {
      for (int line = 0; line < 3; ++line) {
        _mm_prefetch(reinterpret_cast<const char*>(tiles + t * 48 + 16 * line + kPrefetchWords), _MM_HINT_T0);
      }
      for (int half = 0; half < 2; ++half) {
        const uint32_t* tile = tiles + t * 48 + half * 8;
        const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(tile));
        const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(tile + 16));
        const __m256i w2 = _mm256_load_si256(reinterpret_cast<const __m256i*>(tile + 32));
        add_to(y + t * 16 + half * 8, sum_3bit(w0, w1, w2, tables, std::make_index_sequence<32>()));
      }
    }
    return;
  }
  for (int64_t t = 0; t < count; ++t) {
    _mm_prefetch(reinterpret_cast<const char*>(tiles + t * 16 + kPrefetchWords), _MM_HINT_T0);
    for (int half = 0; half < 2; ++half) {
      const __m256i word = _mm256_load_si256(reinterpret_cast<const __m256i*>(tiles + t * 16 + half * 8));
      add_to(y + t * 16 + half * 8, sum_nibbles(word, tables, std::make_index_sequence<8>()));
    }
  }
}

}  // namespace

void lut_build_tables_avx2(const PackedLayer& layer, const float* x_packed, float* tables) {
  for (const PackedGroup& group : layer.groups) {
    const PackedTileFormat& format = *group.format;
    for (int64_t block = 0; block < group.blocks; ++block) {
      const int64_t first = block * format.block_columns;
      build_block_tables(format, layer.codebooks.data() + group.codebook_offset + (first << format.bits),
                         x_packed + group.column_begin + first,
                         tables + (group.slot_offset + block * format.slots) * 16);
    }
  }
}

void lut_gemv_avx2(const PackedLayer& layer, const float*, const float* tables, int64_t panel_begin,
                   int64_t panel_end, float* y) {
  lut_gemv_panels(layer, tables, panel_begin, panel_end, y, run_block);
}

}  // namespace claq
