// Building blocks of Y = X W_q^T for batches (packed_matmul drives them):
// dequantize one row tile of some column blocks into a float32 panel, then a
// register-blocked float32 micro-kernel multiplies the panel by the tokens.
//
// Panel layout (depth = columns of the blocks, k-major, one row tile wide):
//
//   panel[k * 16 + lane] = W_q[tile * 16 + lane][packed column first + k]
//
//   k = 0:  [lane 0][lane 1] ... [lane 15]     one ZMM, two YMM, four Q registers
//   k = 1:  [lane 0][lane 1] ... [lane 15]
//   ...
#pragma once

#include <cstdint>

#include "kernels/packed_layout.h"

namespace claq {

// Fills dequantization tables for every packed column: tables[p * 16 + n] is
// the value of column p for look-up window n (see packed_layout.h), so a
// SIMD version dequantizes 16 rows with one permute. `tables` has
// layer.packed_columns * 16 floats.
void packed_build_dequantize_tables(const PackedLayer& layer, float* tables);

// Writes panel[(c - first) * 16 + lane] for the columns of blocks
// [block_begin, block_end) of `group` and the 16 rows of `tile`, where
// first = block_begin * block_columns. `tables` comes from
// packed_build_dequantize_tables (the scalar version reads the codebooks
// instead). Panel: (block_end - block_begin) * block_columns * 16 floats,
// 64-byte aligned for the SIMD versions. Outliers are not applied.
void packed_dequantize_ref(const PackedLayer& layer, const PackedGroup& group, const float* tables,
                           int64_t block_begin, int64_t block_end, int64_t tile, float* panel);
void packed_dequantize_avx2(const PackedLayer& layer, const PackedGroup& group, const float* tables,
                            int64_t block_begin, int64_t block_end, int64_t tile, float* panel);
void packed_dequantize_avx512(const PackedLayer& layer, const PackedGroup& group, const float* tables,
                              int64_t block_begin, int64_t block_end, int64_t tile, float* panel);
void packed_dequantize_neon(const PackedLayer& layer, const PackedGroup& group, const float* tables,
                            int64_t block_begin, int64_t block_end, int64_t tile, float* panel);

// Tokens per register block of each micro-kernel; x panels are packed in
// blocks of this many tokens.
constexpr int kTokenBlockRef = 4;
constexpr int kTokenBlockAvx2 = 6;
constexpr int kTokenBlockAvx512 = 14;
constexpr int kTokenBlockNeon = 6;

// Packs x[t * ldx + k] for t < tokens, k < depth into blocks of `token_block`
// tokens: block b starts at x_panel + b * token_block * depth and holds
// [k][token] with the block's token count as stride (the last block may be
// shorter). The micro-kernel then reads the tokens of one k from one cache
// line instead of from `tokens` rows a row stride apart, which for strides of
// a multiple of 4 KiB all map to the same L1 set.
void gemm_f32_pack_x(const float* x, int64_t ldx, int64_t tokens, int64_t depth, int token_block, float* x_panel);

// c[t * ldc + lane] = (accumulate ? c[t * ldc + lane] : 0)
//                     + sum over k < depth of x[t][k] * panel[k * 16 + lane]
// for t < tokens and lane < 16, x packed by gemm_f32_pack_x with the
// version's token block. Writes exactly those 16 floats per token, any
// alignment of c; the panel is 64-byte aligned. Float32 accumulation with FMA
// where the ISA has it; NaN propagates.
void gemm_f32_panel16_ref(const float* panel, int64_t depth, const float* x_panel, int64_t tokens, float* c,
                          int64_t ldc, bool accumulate);
void gemm_f32_panel16_avx2(const float* panel, int64_t depth, const float* x_panel, int64_t tokens, float* c,
                           int64_t ldc, bool accumulate);
void gemm_f32_panel16_avx512(const float* panel, int64_t depth, const float* x_panel, int64_t tokens, float* c,
                             int64_t ldc, bool accumulate);
void gemm_f32_panel16_neon(const float* panel, int64_t depth, const float* x_panel, int64_t tokens, float* c,
                           int64_t ldc, bool accumulate);

}  // namespace claq
