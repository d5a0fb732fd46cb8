// Integer look-up tables for the 3-bit GEMV on AVX-512 with VBMI, VBMI2 and
// VNNI, which packed_matmul uses on CPUs that have them.
//
// The float32 3-bit kernel does 32 vpermps, 32 adds and about 28 window ops
// per tile, and on the Intel Xeon that work, not memory, sets its speed. Here
// each block's tables are rounded to integers with one power-of-two scale per
// block, split into bytes ("digits" of base 128), and looked up 64 bytes at a
// time: vpermb looks up 4 columns of 16 rows, and vpdpbusd adds the 4 bytes
// of each row into a 32-bit sum. A tile then takes 8 multishifts and 8
// ternary-logic ops for the indexes, 2 double shifts, and one vpermb and one
// vpdpbusd per digit and 4 columns: 72 ops with 3 digits, 56 with 2.
//
// A 3-bit block's integer tables reuse the memory of its 32 float tables
// (2 KiB). Bytes [256 d, 256 d + 256) contain digit d of every entry, digit 0
// being the highest. They form 4 registers of 8 columns, and byte
// 64 r + 8 k + c is code c of column 8 r + k. The float at byte 256 * digits
// is the block's exponent s. An entry is then the sum over d of
// digit_d * 128^(digits - 1 - d), times 2^s. The exponent is NaN when the
// block's tables contain NaN or infinity.
//
// Accuracy: every entry is within 2^(1 - 7 digits) of the largest magnitude
// in its block (2^-20 with 3 digits), where float32 tables round each entry
// to 2^-24 of itself.
#pragma once

#include <cstdint>

#include "kernels/packed_layout.h"

namespace claq {

// Digits per entry. With 3, an entry's error is at most 2^-20 of its block's
// largest entry. On a 1024 x 4096 layer the RMS error of y over its RMS was
// then 1.3e-6 to 1.8e-6, against 5.1e-7 to 5.3e-7 with float32 tables. With
// 2 (2^-13) it was 1.2e-4 to 2.6e-4, for about 10 % more speed from memory
// (docs/BENCHMARKS.md).
constexpr int kInt3Digits = 3;
static_assert(kInt3Digits == 2 || kInt3Digits == 3, "the sweep sums 2 or 3 digits");

// Writes a 3-bit block's integer tables, in the layout above, to the block's
// 2 KiB of table memory (64-byte aligned). codebook holds the block's 32
// columns of 8 centroids and x its 32 activations.
void lut_3bit_int_build_block_avx512(const float* codebook, const float* x, float* block_tables);

// Adds a 3-bit block's products over `count` tiles to y, from the block's
// integer tables. Same contract as the float sweep (lut_3bit_avx512.h).
void lut_3bit_int_sweep_avx512(const uint32_t* tiles, const float* block_tables, int64_t count, float* y);

}  // namespace claq
