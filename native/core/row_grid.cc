#include "core/row_grid.h"

#include <algorithm>

#include "core/float16.h"
#include "core/thread_pool.h"
#include "core/uniform_grid.h"

namespace claq {
namespace {

// The smallest positive float16 (a subnormal): the floor of a stored scale.
constexpr float kMinScale = 1.0f / 16777216.0f;

// Rounds to the nearest integer, ties to even, for |x| <= 2^51: adding
// 1.5 * 2^52 leaves no fraction bits in the default rounding mode, and
// subtracting it again is exact. Unlike std::nearbyint it vectorizes at the
// baseline ISA.
inline double round_half_even(double x) {
  constexpr double kShift = 0x1.8p52;
  return (x + kShift) - kShift;
}

}  // namespace

RowGrid fit_row_grid(const float* weight, int64_t rows, int64_t cols, int bits, ThreadPool* pool) {
  RowGrid grid;
  grid.bits = bits;
  grid.scales.resize(static_cast<size_t>(rows));
  grid.zeros.resize(static_cast<size_t>(rows));
  const int top = (1 << bits) - 1;

  pool->parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float* row = weight + i * cols;
      const auto [lo, hi] = std::minmax_element(row, row + cols);
      const UniformGrid fitted = fit_uniform_grid(*lo, *hi, bits);
      const float scale = round_to_float16(static_cast<float>(fitted.scale));
      grid.scales[i] = std::max(scale, kMinScale);
      // Adding 0.0 turns the -0 of an all-positive row into +0.
      grid.zeros[i] = static_cast<float>(std::clamp(fitted.zero, 0.0, static_cast<double>(top)) + 0.0);
    }
  });
  return grid;
}

double quantize_row_grid_column(const float* w, const RowGrid& grid, uint8_t* codes,
                                float* quantized, std::vector<float>& codebook) {
  const int levels = 1 << grid.bits;
  const double top = levels - 1;
  codebook.resize(static_cast<size_t>(levels));
  for (int c = 0; c < levels; ++c) codebook[c] = static_cast<float>(c);

  // Clamping w / scale to [-levels, levels] first changes no code (the zero
  // lies in [0, levels - 1]) and keeps the rounding trick in range. The
  // comparisons send NaN, which only an overflowed feedback makes, to a
  // finite value, so the cast below stays defined. The loop has no branches,
  // so it vectorizes; the squared error is summed in a second pass.
  const int64_t rows = static_cast<int64_t>(grid.scales.size());
  const float* scales = grid.scales.data();
  const float* zeros = grid.zeros.data();
  const double bound = levels;
  for (int64_t i = 0; i < rows; ++i) {
    const double scale = scales[i];
    const double zero = zeros[i];
    double ratio = static_cast<double>(w[i]) / scale;
    ratio = ratio > -bound ? ratio : -bound;
    ratio = ratio < bound ? ratio : bound;
    double code = round_half_even(ratio) + zero;
    code = code > 0.0 ? code : 0.0;
    code = code < top ? code : top;
    codes[i] = static_cast<uint8_t>(static_cast<int32_t>(code));
    quantized[i] = static_cast<float>(scale * (code - zero));
  }

  double sum = 0;
  for (int64_t i = 0; i < rows; ++i) {
    const double error = static_cast<double>(w[i]) - quantized[i];
    sum += error * error;
  }
  return sum;
}

}  // namespace claq
