#include "kernels/row_grid_epilogue.h"

namespace claq {

void apply_row_grid(const PackedRowGrid& grid, const float* x, int64_t tokens, int64_t cols, int64_t rows, float* y) {
  const float* scales = grid.scales.data();
  const float* zeros = grid.zeros.data();
  for (int64_t t = 0; t < tokens; ++t) {
    const float* xt = x + t * cols;
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += xt[j];
    const float x_sum = static_cast<float>(sum);

    // Plain loop over rows: the compiler vectorizes it for the baseline ISA.
    float* yt = y + t * rows;
    for (int64_t i = 0; i < rows; ++i) yt[i] = scales[i] * (yt[i] - zeros[i] * x_sum);
  }
}

}  // namespace claq
