// Dense part of y = W_q x over the packed layout (packed_layout.h) by table
// look-up: per look-up slot s a 16-entry table L_s[n] = sum of C_j[code] x_j
// over the slot's columns, so the inner loop only looks up and adds. The
// reserved outliers are not included (packed_matmul adds them).
//
// Contract, every version:
// - x_packed has layer.packed_columns floats in the packed order, zeros at
//   padding columns (packed_matmul builds it); any alignment.
// - y has layer.row_tiles * 16 floats; the call writes exactly
//   y[tile_begin * 16 .. tile_end * 16), padding rows included (they hold
//   sums of code-0 centroids times x and must be ignored). Any alignment.
// - Reads only the tiles of rows [tile_begin, tile_end); no over-read.
// - Accumulates in float32; the table entries are rounded products, so the
//   sum differs from an exact dot product by rounding only. NaN or infinity
//   in x propagates to every row, as in a dense product.
// - Tiles are 64-byte aligned (AlignedArray), and the SIMD versions rely on it.
#pragma once

#include <cstdint>

#include "kernels/packed_layout.h"

namespace claq {

void lut_gemv_ref(const PackedLayer& layer, const float* x_packed, int64_t tile_begin, int64_t tile_end,
                  float* y);
void lut_gemv_avx2(const PackedLayer& layer, const float* x_packed, int64_t tile_begin, int64_t tile_end,
                   float* y);
void lut_gemv_avx512(const PackedLayer& layer, const float* x_packed, int64_t tile_begin, int64_t tile_end,
                     float* y);
void lut_gemv_neon(const PackedLayer& layer, const float* x_packed, int64_t tile_begin, int64_t tile_end,
                   float* y);

// Fills the 16-entry look-up table of every slot of one column block of
// `group`: tables[s * 16 + n] for s < format.slots (scalar; the SIMD versions
// build their tables in registers the same way).
void lut_build_block_tables(const PackedLayer& layer, const PackedGroup& group, int64_t block,
                            const float* x_packed, float* tables);

}  // namespace claq
