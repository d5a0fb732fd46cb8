// AVX2 dequantization (two vpermps and a blend per 8 rows of a 16-entry
// table, one vpermps for 3-bit) and the 6 x 16 float32 micro-kernel. Its 12
// accumulators hold 6 tokens times two YMM of rows, which leaves registers for
// the two panel vectors and the broadcast.
#include <immintrin.h>

#include <utility>

#include "kernels/packed_gemm.h"
#include "kernels/x86/code_windows_avx2.h"

namespace claq {
namespace {

using avx2::shift_right;
using avx2::window_3bit;
using avx2::lookup16;

constexpr int kTokenBlock = kTokenBlockAvx2;

template <int ColumnsPerWindow, size_t... C>
inline void dequantize_word(__m256i word, const float* tables, float* panel, std::index_sequence<C...>) {
  ((_mm256_store_ps(panel + C * 16, lookup16(shift_right<(C / ColumnsPerWindow) * 4>(word), tables + C * 16))),
   ...);
}

template <size_t... C>
inline void dequantize_3bit(const uint32_t* half, const float* tables, float* panel, std::index_sequence<C...>) {
  const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(half));
  const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(half + 16));
  const __m256i w2 = _mm256_load_si256(reinterpret_cast<const __m256i*>(half + 32));
  ((_mm256_store_ps(panel + C * 16,
                    _mm256_permutevar8x32_ps(_mm256_loadu_ps(tables + C * 16), window_3bit<C>(w0, w1, w2)))),
   ...);
}

// Every loop over m is unrolled. Otherwise GCC 12 keeps the accumulator
// arrays in memory and stores all of them on every k.
template <int M>
void panel_block(const float* panel, int64_t depth, const float* x, float* c, int64_t ldc, bool accumulate) {
  __m256 low[M], high[M];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) {
    low[m] = accumulate ? _mm256_loadu_ps(c + m * ldc) : _mm256_setzero_ps();
    high[m] = accumulate ? _mm256_loadu_ps(c + m * ldc + 8) : _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < depth; ++k) {
    const __m256 p0 = _mm256_load_ps(panel + k * 16);
    const __m256 p1 = _mm256_load_ps(panel + k * 16 + 8);
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      const __m256 xm = _mm256_broadcast_ss(x + k * M + m);
      low[m] = _mm256_fmadd_ps(xm, p0, low[m]);
      high[m] = _mm256_fmadd_ps(xm, p1, high[m]);
    }
  }
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) {
    _mm256_storeu_ps(c + m * ldc, low[m]);
    _mm256_storeu_ps(c + m * ldc + 8, high[m]);
  }
}

template <size_t... M>
void panel_tail(int tokens, const float* panel, int64_t depth, const float* x, float* c, int64_t ldc, bool accumulate,
                std::index_sequence<M...>) {
  ((tokens == int(M) + 1 ? panel_block<int(M) + 1>(panel, depth, x, c, ldc, accumulate) : void()), ...);
}

}  // namespace

void packed_dequantize_avx2(const PackedLayer& layer, const PackedGroup& group, const float* tables,
                            int64_t block_begin, int64_t block_end, int64_t tile, float* panel) {
  const PackedTileFormat& format = *group.format;
  for (int64_t block = block_begin; block < block_end; ++block) {
    const uint32_t* words = packed_tile(layer, group, block, tile);
    const float* block_tables = tables + (group.column_begin + block * format.block_columns) * 16;
    float* out = panel + (block - block_begin) * format.block_columns * 16;
    for (int half = 0; half < 2; ++half) {
      const __m256i* word = reinterpret_cast<const __m256i*>(words + half * 8);
      if (format.bits == 2) {
        dequantize_word<2>(_mm256_load_si256(word), block_tables, out + half * 8, std::make_index_sequence<16>());
      } else if (format.bits == 4) {
        dequantize_word<1>(_mm256_load_si256(word), block_tables, out + half * 8, std::make_index_sequence<8>());
      } else {
        dequantize_3bit(words + half * 8, block_tables, out + half * 8, std::make_index_sequence<32>());
      }
    }
  }
}

void gemm_f32_panel16_avx2(const float* panel, int64_t depth, const float* x_panel, int64_t tokens, float* c,
                           int64_t ldc, bool accumulate) {
  int64_t t = 0;
  for (; t + kTokenBlock <= tokens; t += kTokenBlock) {
    panel_block<kTokenBlock>(panel, depth, x_panel + t * depth, c + t * ldc, ldc, accumulate);
  }
  if (t < tokens) {
    panel_tail(static_cast<int>(tokens - t), panel, depth, x_panel + t * depth, c + t * ldc, ldc, accumulate,
               std::make_index_sequence<kTokenBlock - 1>());
  }
}

}  // namespace claq
