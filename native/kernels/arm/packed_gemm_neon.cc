// NEON dequantization (one tbl look-up per column and 4 rows) and the
// 6 x 16 float32 micro-kernel: 6 tokens times four Q registers of rows in
// 24 accumulators, plus the four panel registers, within the 32 registers.
#include <arm_neon.h>

#include <utility>

#include "kernels/arm/lut_nibble_neon.h"
#include "kernels/packed_gemm.h"

namespace claq {
namespace {

constexpr int kTokenBlock = kTokenBlockNeon;

template <int ColumnsPerWindow, size_t... C>
inline void dequantize_word(uint32x4_t word, const float* tables, float* panel, std::index_sequence<C...>) {
  ((vst1q_f32(panel + C * 16, neon::lookup16(neon::shift_right<(C / ColumnsPerWindow) * 4>(word),
                                              neon::load_table(tables + C * 16)))),
   ...);
}

template <size_t... C>
inline void dequantize_3bit(const uint32_t* rows, const float* tables, float* panel, std::index_sequence<C...>) {
  const uint32x4_t w0 = vld1q_u32(rows), w1 = vld1q_u32(rows + 16), w2 = vld1q_u32(rows + 32);
  ((vst1q_f32(panel + C * 16, neon::lookup16(neon::window_3bit<C>(w0, w1, w2), neon::load_table(tables + C * 16)))),
   ...);
}

// Every loop over m is unrolled. Otherwise GCC keeps the accumulator arrays
// in memory and stores all of them on every k.
template <int M>
void panel_block(const float* panel, int64_t depth, const float* x, float* c, int64_t ldc, bool accumulate) {
  float32x4_t a0[M], a1[M], a2[M], a3[M];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) {
    float* out = c + m * ldc;
    a0[m] = accumulate ? vld1q_f32(out) : vdupq_n_f32(0);
    a1[m] = accumulate ? vld1q_f32(out + 4) : vdupq_n_f32(0);
    a2[m] = accumulate ? vld1q_f32(out + 8) : vdupq_n_f32(0);
    a3[m] = accumulate ? vld1q_f32(out + 12) : vdupq_n_f32(0);
  }
  for (int64_t k = 0; k < depth; ++k) {
    const float32x4_t p0 = vld1q_f32(panel + k * 16), p1 = vld1q_f32(panel + k * 16 + 4);
    const float32x4_t p2 = vld1q_f32(panel + k * 16 + 8), p3 = vld1q_f32(panel + k * 16 + 12);
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      const float xm = x[k * M + m];
      a0[m] = vfmaq_n_f32(a0[m], p0, xm);
      a1[m] = vfmaq_n_f32(a1[m], p1, xm);
      a2[m] = vfmaq_n_f32(a2[m], p2, xm);
      a3[m] = vfmaq_n_f32(a3[m], p3, xm);
    }
  }
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) {
    float* out = c + m * ldc;
    vst1q_f32(out, a0[m]);
    vst1q_f32(out + 4, a1[m]);
    vst1q_f32(out + 8, a2[m]);
    vst1q_f32(out + 12, a3[m]);
  }
}

template <size_t... M>
void panel_tail(int tokens, const float* panel, int64_t depth, const float* x, float* c, int64_t ldc, bool accumulate,
                std::index_sequence<M...>) {
  ((tokens == int(M) + 1 ? panel_block<int(M) + 1>(panel, depth, x, c, ldc, accumulate) : void()), ...);
}

}  // namespace

void packed_dequantize_neon(const PackedLayer& layer, const PackedGroup& group, const float* tables,
                            int64_t block_begin, int64_t block_end, int64_t tile, float* panel) {
  const PackedTileFormat& format = *group.format;
  for (int64_t block = block_begin; block < block_end; ++block) {
    const uint32_t* words = packed_tile(layer, group, block, tile);
    const float* block_tables = tables + (group.column_begin + block * format.block_columns) * 16;
    float* out = panel + (block - block_begin) * format.block_columns * 16;
    for (int quarter = 0; quarter < 4; ++quarter) {
      const uint32_t* rows = words + quarter * 4;
      if (format.bits == 2) {
        dequantize_word<2>(vld1q_u32(rows), block_tables, out + quarter * 4, std::make_index_sequence<16>());
      } else if (format.bits == 4) {
        dequantize_word<1>(vld1q_u32(rows), block_tables, out + quarter * 4, std::make_index_sequence<8>());
      } else {
        dequantize_3bit(rows, block_tables, out + quarter * 4, std::make_index_sequence<32>());
      }
    }
  }
}

void gemm_f32_panel16_neon(const float* panel, int64_t depth, const float* x_panel, int64_t tokens, float* c,
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
