// The uniform asymmetric min-max grid of the GPTQ and RTN baselines, as a
// codebook so that they share the output layout of CLAQ.
//
// As in GPTQ's reference quantizer, the range is widened to contain 0
// (min(lo, 0) .. max(hi, 0)), an all-zero range becomes [-1, 1], and
//   scale = (max - min) / (2^b - 1),  zero = round(-min / scale),
//   grid value c = scale * (c - zero)  for c = 0 .. 2^b - 1,
// each rounded to float16 for storage. The quantizer then picks the nearest
// stored grid value, which is clamp(round(w / scale) + zero) except where
// float16 rounding moved a midpoint.
#pragma once

#include <cstdint>

namespace claq {

struct UniformGrid {
  double scale = 1;
  double zero = 0;
  int levels = 0;  // 2^bits
};

UniformGrid fit_uniform_grid(double min_value, double max_value, int bits);

// Writes the `levels` grid values, ascending, in float64 (not yet rounded).
void uniform_grid_values(const UniformGrid& grid, double* values);

}  // namespace claq
