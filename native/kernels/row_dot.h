// Dot products of the rows of a row-major float32 matrix with a few token
// vectors: y[t][o] = W[o] . x[t]. A dense layer runs one-token decoding
// through it, because it reads W once in its own layout, where a GEMM would
// first copy all of W into packed panels.
//
// Contract: W is [rows, depth] row-major (leading dimension depth), x is
// [tokens, depth] row-major, and y[t * ldy + o] is written for o in
// [row_begin, row_end) and t in [0, tokens). Any depth >= 0 and any
// alignment; the kernels read exactly those rows of W and of x. Sums are
// float32 in several partial accumulators, so they differ from a float64
// sum by rounding, about depth * 2^-24 relative to the sum of |W[o][k] x[t][k]|.
#pragma once

#include <cstdint>

namespace claq {

using RowDotFn = void (*)(const float* w, int64_t depth, int64_t row_begin, int64_t row_end,
                          const float* x, int64_t tokens, float* y, int64_t ldy);

void row_dot_f32_ref(const float* w, int64_t depth, int64_t row_begin, int64_t row_end,
                     const float* x, int64_t tokens, float* y, int64_t ldy);
void row_dot_f32_avx2(const float* w, int64_t depth, int64_t row_begin, int64_t row_end,
                      const float* x, int64_t tokens, float* y, int64_t ldy);
void row_dot_f32_avx512(const float* w, int64_t depth, int64_t row_begin, int64_t row_end,
                        const float* x, int64_t tokens, float* y, int64_t ldy);
void row_dot_f32_neon(const float* w, int64_t depth, int64_t row_begin, int64_t row_end,
                      const float* x, int64_t tokens, float* y, int64_t ldy);

// Returns the version for active_simd_level().
RowDotFn select_row_dot_f32();

}  // namespace claq
