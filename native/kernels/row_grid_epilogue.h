// The per-row uniform grid of the gptq and rtn methods, applied after a packed
// product. A row-grid layer stores codes over the identity levels 0 .. 2^b - 1
// and, per output row i, a scale s_i and an integer zero point z_i, so
//
//   W_q[i][j] = s_i * (level(code_ij) - z_i)
//   y[t][i]   = sum_j W_q[i][j] x[t][j] = s_i * (acc[t][i] - z_i * sum_j x[t][j])
//
// where acc is the product with the level codebooks, which the packed kernels
// compute like any other codebook product. The epilogue is O(tokens * (rows +
// cols)): one sum per token and one multiply-add per output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace claq {

// Per-row scales and zero points; both empty for a layer without a row grid.
struct PackedRowGrid {
  std::vector<float> scales;  // [rows], finite, > 0
  std::vector<float> zeros;   // [rows], integers in [0, 2^bits - 1]

  bool empty() const { return scales.empty(); }
  size_t bytes() const { return (scales.size() + zeros.size()) * sizeof(float); }
};

// Rewrites y [tokens, rows] (the product with the level codebooks) into
// y[t][i] = s_i * (y[t][i] - z_i * sum_j x[t][j]), x being [tokens, cols]. The
// token sums are accumulated in float64, so their only error is the final
// rounding to float32.
void apply_row_grid(const PackedRowGrid& grid, const float* x, int64_t tokens, int64_t cols, int64_t rows, float* y);

}  // namespace claq
