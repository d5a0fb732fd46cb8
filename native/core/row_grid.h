// The per-row uniform grid of the GPTQ and RTN baselines: one asymmetric
// min-max grid per output row, as in GPTQ's reference quantizer without
// groups. The quantizeLayer requirements name this grid for the baselines.
// The design notes describe a grid per column instead, which the engine keeps
// as Grid::kColumn (uniform_grid.h).
//
// Each row i of the original W (before act order, dead-input zeroing and any
// error feedback) gets, from fit_uniform_grid over [min(row, 0), max(row, 0)]:
//   scale_i = (max - min) / (2^b - 1), rounded to float32 and then float16,
//   zero_i  = round(-min / scale) with the unrounded scale, ties to even.
// An all-zero row uses [-1, 1]. The column loop then quantizes each weight as
//   q = clamp(round(w / scale_i) + zero_i, 0, 2^b - 1)   (round: ties to even)
//   value = scale_i * (q - zero_i),
// with the division in float64; the value is exact in float32. The codebook
// of every column is the identity levels 0, 1, ..., 2^b - 1, so
// W_q[i][j] = scale_i * (codebook_j[code] - zero_i) in the stored result.
//
// Known limitation: scales are clamped to the float16 range [2^-24, 65504],
// so a row whose range exceeds 65504 * (2^b - 1) saturates at the ends of
// its grid, and a row below about 2^-24 * (2^b - 1) quantizes to its zero.
#pragma once

#include <cstdint>
#include <vector>

namespace claq {

class ThreadPool;

struct RowGrid {
  int bits = 0;
  std::vector<float> scales;  // [rows]: float16 values in [2^-24, 65504]
  std::vector<float> zeros;   // [rows]: integers in [0, 2^bits - 1]
};

// Fits the grid of every row of W [rows, cols] row-major.
RowGrid fit_row_grid(const float* weight, int64_t rows, int64_t cols, int bits, ThreadPool* pool);

// Quantizes one column w [rows] on the row grid: writes its codes, the
// quantized values and its codebook (the identity levels). Returns
// sum (w - q)^2 in float64.
double quantize_row_grid_column(const float* w, const RowGrid& grid, uint8_t* codes,
                                float* quantized, std::vector<float>& codebook);

}  // namespace claq
