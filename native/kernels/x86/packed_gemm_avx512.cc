// AVX-512 dequantization (one vpermps per column of 16 rows) and the
// 14 x 16 float32 micro-kernel. Its 14 accumulators hold 14 tokens times one
// ZMM of rows. Each k costs one panel load and 14 broadcast FMAs, enough
// independent FMAs for both pipes within the 32 registers.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics fill unused lanes with _mm512_undefined_ps(),
// which -Wmaybe-uninitialized reports at every inlined call.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <utility>

#include "kernels/packed_gemm.h"
#include "kernels/x86/code_windows_avx512.h"

namespace claq {
namespace {

using avx512::shift_right;
using avx512::window_3bit;

constexpr int kTokenBlock = kTokenBlockAvx512;

// Column C of a one-word block reads the window at bit (C / pair) * 4.
template <int ColumnsPerWindow, size_t... C>
inline void dequantize_word(__m512i word, const float* tables, float* panel, std::index_sequence<C...>) {
  ((_mm512_store_ps(panel + C * 16,
                    _mm512_permutexvar_ps(shift_right<(C / ColumnsPerWindow) * 4>(word),
                                          _mm512_loadu_ps(tables + C * 16)))),
   ...);
}

template <size_t... C>
inline void dequantize_3bit(const uint32_t* tile, const float* tables, float* panel, std::index_sequence<C...>) {
  const __m512i w0 = _mm512_load_si512(tile);
  const __m512i w1 = _mm512_load_si512(tile + 16);
  const __m512i w2 = _mm512_load_si512(tile + 32);
  ((_mm512_store_ps(panel + C * 16,
                    _mm512_permutexvar_ps(window_3bit<C>(w0, w1, w2), _mm512_loadu_ps(tables + C * 16)))),
   ...);
}

// Every loop over m is unrolled, so the accumulators stay in registers.
template <int M>
void panel_block(const float* panel, int64_t depth, const float* x, float* c, int64_t ldc, bool accumulate) {
  __m512 acc[M];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) acc[m] = accumulate ? _mm512_loadu_ps(c + m * ldc) : _mm512_setzero_ps();
  for (int64_t k = 0; k < depth; ++k) {
    const __m512 p = _mm512_load_ps(panel + k * 16);
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) acc[m] = _mm512_fmadd_ps(_mm512_set1_ps(x[k * M + m]), p, acc[m]);
  }
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) _mm512_storeu_ps(c + m * ldc, acc[m]);
}

template <size_t... M>
void panel_tail(int tokens, const float* panel, int64_t depth, const float* x, float* c, int64_t ldc, bool accumulate,
                std::index_sequence<M...>) {
  ((tokens == int(M) + 1 ? panel_block<int(M) + 1>(panel, depth, x, c, ldc, accumulate) : void()), ...);
}

}  // namespace

void packed_dequantize_avx512(const PackedLayer& layer, const PackedGroup& group, const float* tables,
                              int64_t block_begin, int64_t block_end, int64_t tile, float* panel) {
  const PackedTileFormat& format = *group.format;
  for (int64_t block = block_begin; block < block_end; ++block) {
    const uint32_t* words = packed_tile(layer, group, block, tile);
    const int64_t first = block * format.block_columns;
    const float* block_tables = tables + (group.column_begin + first) * 16;
    float* out = panel + (block - block_begin) * format.block_columns * 16;
    if (format.bits == 2) {
      dequantize_word<2>(_mm512_load_si512(words), block_tables, out, std::make_index_sequence<16>());
    } else if (format.bits == 4) {
      dequantize_word<1>(_mm512_load_si512(words), block_tables, out, std::make_index_sequence<8>());
    } else {
      dequantize_3bit(words, block_tables, out, std::make_index_sequence<32>());
    }
  }
}

void gemm_f32_panel16_avx512(const float* panel, int64_t depth, const float* x_panel, int64_t tokens, float* c,
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
