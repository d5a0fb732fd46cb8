#include "core/uniform_grid.h"

#include <algorithm>
#include <cmath>

namespace claq {

UniformGrid fit_uniform_grid(double min_value, double max_value, int bits) {
  double lo = std::min(min_value, 0.0);
  double hi = std::max(max_value, 0.0);
  if (lo == 0 && hi == 0) {
    lo = -1;
    hi = 1;
  }

  UniformGrid grid;
  grid.levels = 1 << bits;
  grid.scale = (hi - lo) / (grid.levels - 1);
  grid.zero = std::nearbyint(-lo / grid.scale);  // ties to even, like torch.round
  return grid;
}

void uniform_grid_values(const UniformGrid& grid, double* values) {
  for (int c = 0; c < grid.levels; ++c) values[c] = grid.scale * (c - grid.zero);
}

}  // namespace claq
