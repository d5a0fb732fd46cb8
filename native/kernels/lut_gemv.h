// Dense part of y = W_q x over the packed layout (packed_layout.h) by table
// look-up: per look-up slot s a 16-entry table L_s[n] = sum of C_j[code] x_j
// over the slot's columns, so the inner loop only looks up and adds. The
// reserved outliers are not included (packed_matmul adds them).
//
// Contract, every version:
// - x_packed has layer.packed_columns floats in the packed order, zeros at
//   padding columns (packed_matmul builds it); any alignment.
// - tables has layer.slots * 16 floats from lut_build_tables_* for the same
//   x_packed; the scalar version ignores it and reads the codebooks.
// - y has layer.row_tiles * 16 floats, any alignment. The call writes exactly
//   the rows of panels [panel_begin, panel_end), padding rows included. Those
//   contain sums of code-0 centroids times x and must be ignored.
// - Reads only the code words of those panels; no over-read.
// - Accumulates in float32; the table entries are rounded products, so the
//   sum differs from an exact dot product by rounding only. The integer 3-bit
//   variant also rounds each 3-bit entry to its block's integer grid and
//   sums a block's look-ups in int32 (lut_3bit_int.h). NaN or infinity in x
//   propagates to every row, as in a dense product.
// - Tiles are 64-byte aligned (AlignedArray), and the SIMD versions rely on it.
#pragma once

#include <cstdint>

#include "kernels/packed_layout.h"

namespace claq {

// Fills the 16-entry look-up table of every slot: tables[(group.slot_offset +
// block * format.slots + s) * 16 + n]. For 2-bit slots entry n is
// C_even[n & 3] x_even + C_odd[n >> 2] x_odd; for 3-bit slots C[n & 7] x;
// for 4-bit slots C[n] x. Padding columns give zero entries. The tables must
// be 64-byte aligned.
void lut_build_tables_ref(const PackedLayer& layer, const float* x_packed, float* tables);
void lut_build_tables_avx2(const PackedLayer& layer, const float* x_packed, float* tables);
void lut_build_tables_avx512(const PackedLayer& layer, const float* x_packed, float* tables);

// The tables of one column block (format.slots of them), scalar.
void lut_build_block_tables(const PackedLayer& layer, const PackedGroup& group, int64_t block,
                            const float* x_packed, float* tables);

void lut_gemv_ref(const PackedLayer& layer, const float* x_packed, const float* tables, int64_t panel_begin,
                  int64_t panel_end, float* y);
void lut_gemv_avx2(const PackedLayer& layer, const float* x_packed, const float* tables, int64_t panel_begin,
                   int64_t panel_end, float* y);
void lut_gemv_avx512(const PackedLayer& layer, const float* x_packed, const float* tables, int64_t panel_begin,
                     int64_t panel_end, float* y);
// The AVX-512 version for CPUs with AVX512-VBMI and VBMI2 (cpu_has_avx512_vbmi()).
void lut_gemv_vbmi_avx512(const PackedLayer& layer, const float* x_packed, const float* tables,
                          int64_t panel_begin, int64_t panel_end, float* y);
// The AVX-512 version whose 3-bit blocks read integer tables
// (lut_3bit_int.h), built by lut_build_tables_int3_avx512; for CPUs with
// AVX512-VBMI, VBMI2 and VNNI (cpu_has_avx512_vbmi_vnni()).
void lut_build_tables_int3_avx512(const PackedLayer& layer, const float* x_packed, float* tables);
void lut_gemv_int3_avx512(const PackedLayer& layer, const float* x_packed, const float* tables,
                          int64_t panel_begin, int64_t panel_end, float* y);
// The same, with the 2- and 4-bit windows of lut_gemv_vbmi_avx512.
void lut_gemv_vbmi_int3_avx512(const PackedLayer& layer, const float* x_packed, const float* tables,
                               int64_t panel_begin, int64_t panel_end, float* y);
void lut_gemv_neon(const PackedLayer& layer, const float* x_packed, const float* tables, int64_t panel_begin,
                   int64_t panel_end, float* y);

}  // namespace claq
