// An independent float64 reimplementation of the GPTQ column loop for the
// quantizer tests: unblocked (every column updates all later columns at
// once), with a dense Cholesky and inverse, and a pluggable codebook. It
// shares only float16 rounding with the engine (tested on its own).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <vector>

#include "core/float16.h"

namespace claq::test {

// Fits 2^bits centroids (float64, ascending) to ascending values.
using ReferenceCodebook = std::function<std::vector<double>(const std::vector<float>&, int)>;

struct ReferenceResult {
  std::vector<double> dequantized;  // [rows, cols], original column order
  std::vector<int32_t> permutation;
  double loss = 0;
  double lambda = 0;
};

// Lower Cholesky factor of the symmetric a [n, n]; false if not positive definite.
inline bool reference_cholesky(std::vector<double> a, int64_t n, std::vector<double>* lower) {
  lower->assign(static_cast<size_t>(n * n), 0.0);
  for (int64_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (int64_t p = 0; p < j; ++p) d -= (*lower)[j * n + p] * (*lower)[j * n + p];
    if (!(d > 0)) return false;
    (*lower)[j * n + j] = std::sqrt(d);
    for (int64_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (int64_t p = 0; p < j; ++p) s -= (*lower)[i * n + p] * (*lower)[j * n + p];
      (*lower)[i * n + j] = s / (*lower)[j * n + j];
    }
  }
  return true;
}

// U upper with H^-1 = U^T U, via H^-1 = L^-T L^-1 and a second Cholesky.
inline bool reference_inverse_factor(const std::vector<double>& h, int64_t n, std::vector<double>* u) {
  std::vector<double> lower;
  if (!reference_cholesky(h, n, &lower)) return false;

  std::vector<double> inverse_lower(static_cast<size_t>(n * n), 0.0);  // L^-1
  for (int64_t j = 0; j < n; ++j) {
    inverse_lower[j * n + j] = 1 / lower[j * n + j];
    for (int64_t i = j + 1; i < n; ++i) {
      double s = 0;
      for (int64_t p = j; p < i; ++p) s += lower[i * n + p] * inverse_lower[p * n + j];
      inverse_lower[i * n + j] = -s / lower[i * n + i];
    }
  }
  std::vector<double> inverse(static_cast<size_t>(n * n), 0.0);  // L^-T L^-1
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < n; ++p) s += inverse_lower[p * n + i] * inverse_lower[p * n + j];
      inverse[i * n + j] = s;
    }
  }
  std::vector<double> inverse_chol;
  if (!reference_cholesky(inverse, n, &inverse_chol)) return false;
  u->assign(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = i; j < n; ++j) (*u)[i * n + j] = inverse_chol[j * n + i];
  }
  return true;
}

// GPTQ's min-max grid, range widened to contain 0, zero point rounded to even.
inline std::vector<double> reference_grid(const std::vector<float>& sorted, int bits) {
  double lo = sorted.empty() ? 0.0 : std::min<double>(sorted.front(), 0.0);
  double hi = sorted.empty() ? 0.0 : std::max<double>(sorted.back(), 0.0);
  if (lo == 0 && hi == 0) {
    lo = -1;
    hi = 1;
  }
  const int levels = 1 << bits;
  const double scale = (hi - lo) / (levels - 1);
  const double zero = std::nearbyint(-lo / scale);
  std::vector<double> values(static_cast<size_t>(levels));
  for (int c = 0; c < levels; ++c) values[c] = scale * (c - zero);
  return values;
}

// The per-row grid of GPTQ's reference quantizer without groups, from the
// rows of the original W: scale rounded to float16 (through float32), zero
// point from the unrounded scale, ties to even.
struct ReferenceRowGrid {
  int bits = 0;
  std::vector<double> scales;
  std::vector<double> zeros;
};

inline ReferenceRowGrid reference_row_grid(const std::vector<float>& weight, int64_t rows,
                                           int64_t cols, int bits) {
  ReferenceRowGrid grid;
  grid.bits = bits;
  for (int64_t i = 0; i < rows; ++i) {
    double lo = 0, hi = 0;
    for (int64_t j = 0; j < cols; ++j) {
      lo = std::min<double>(lo, weight[i * cols + j]);
      hi = std::max<double>(hi, weight[i * cols + j]);
    }
    if (lo == 0 && hi == 0) {
      lo = -1;
      hi = 1;
    }
    const double scale = (hi - lo) / ((1 << bits) - 1);
    grid.scales.push_back(round_to_float16(static_cast<float>(scale)));
    grid.zeros.push_back(std::nearbyint(-lo / scale));
  }
  return grid;
}

// The code of `value` in row i: clamp(round(value / scale) + zero, 0, 2^bits - 1).
inline double reference_row_code(const ReferenceRowGrid& grid, int64_t i, double value) {
  const double code = std::nearbyint(value / grid.scales[i]) + grid.zeros[i];
  return std::min<double>(std::max(code, 0.0), (1 << grid.bits) - 1);
}

inline double reference_row_value(const ReferenceRowGrid& grid, int64_t i, double value) {
  return grid.scales[i] * (reference_row_code(grid, i, value) - grid.zeros[i]);
}

// Exact K-Means by trying every split into 2^bits runs (small columns only).
inline std::vector<double> reference_kmeans(const std::vector<float>& sorted, int bits) {
  const int k = 1 << bits;
  const int64_t n = static_cast<int64_t>(sorted.size());
  std::vector<double> distinct;
  for (int64_t i = 0; i < n; ++i) {
    if (i == 0 || sorted[i] != sorted[i - 1]) distinct.push_back(sorted[i]);
  }
  if (static_cast<int>(distinct.size()) <= k) {
    if (distinct.empty()) distinct.push_back(0);
    while (static_cast<int>(distinct.size()) < k) distinct.push_back(distinct.back());
    return distinct;
  }

  std::vector<int64_t> bounds(static_cast<size_t>(k) + 1), best_bounds;
  double best = INFINITY;
  std::function<void(int, int64_t, double)> search = [&](int run, int64_t begin, double cost) {
    const int64_t last_end = run == k - 1 ? n : n - (k - 1 - run);
    for (int64_t end = run == k - 1 ? n : begin + 1; end <= last_end; ++end) {
      double mean = 0, c = 0;
      for (int64_t i = begin; i < end; ++i) mean += sorted[i];
      mean /= static_cast<double>(end - begin);
      for (int64_t i = begin; i < end; ++i) c += (sorted[i] - mean) * (sorted[i] - mean);
      bounds[run + 1] = end;
      if (run == k - 1) {
        if (cost + c < best) {
          best = cost + c;
          best_bounds = bounds;
        }
      } else {
        search(run + 1, end, cost + c);
      }
    }
  };
  bounds[0] = 0;
  search(0, 0, 0.0);

  std::vector<double> centroids(static_cast<size_t>(k));
  for (int c = 0; c < k; ++c) {
    double sum = 0;
    for (int64_t i = best_bounds[c]; i < best_bounds[c + 1]; ++i) sum += sorted[i];
    centroids[c] = sum / static_cast<double>(best_bounds[c + 1] - best_bounds[c]);
  }
  return centroids;
}

// The quantizer on W [rows, cols] with Hessian h, every column at `bits`,
// `per_tail` reserved entries at each tail, act order on or off. With a
// `row_grid`, each weight goes to its row's grid instead of the codebook.
inline bool reference_quantize(const std::vector<float>& weight, int64_t rows, int64_t cols,
                               std::vector<double> h, int bits, int64_t per_tail, bool act_order,
                               double lambda, const ReferenceCodebook& codebook_of,
                               ReferenceResult* result,
                               const ReferenceRowGrid* row_grid = nullptr) {
  std::vector<double> w(weight.begin(), weight.end());
  for (int64_t j = 0; j < cols; ++j) {
    if (h[j * cols + j] == 0) {
      h[j * cols + j] = 1;
      for (int64_t i = 0; i < rows; ++i) w[i * cols + j] = 0;
    }
  }

  std::vector<int32_t> perm(static_cast<size_t>(cols));
  std::iota(perm.begin(), perm.end(), 0);
  if (act_order) {
    std::stable_sort(perm.begin(), perm.end(),
                     [&](int32_t a, int32_t b) { return h[a * cols + a] > h[b * cols + b]; });
  }
  double mean_diagonal = 0;
  for (int64_t j = 0; j < cols; ++j) mean_diagonal += h[j * cols + j] / cols;
  std::vector<double> hp(static_cast<size_t>(cols * cols));
  for (int64_t r = 0; r < cols; ++r) {
    for (int64_t c = 0; c < cols; ++c) hp[r * cols + c] = h[perm[r] * cols + perm[c]];
    hp[r * cols + r] += lambda * mean_diagonal;
  }
  std::vector<double> u;
  if (!reference_inverse_factor(hp, cols, &u)) return false;

  // Columns in act order: wp[k][i].
  std::vector<double> wp(static_cast<size_t>(rows * cols));
  for (int64_t k = 0; k < cols; ++k) {
    for (int64_t i = 0; i < rows; ++i) wp[k * rows + i] = w[i * cols + perm[k]];
  }

  result->dequantized.assign(static_cast<size_t>(rows * cols), 0.0);
  result->permutation = perm;
  result->loss = 0;
  result->lambda = lambda;
  for (int64_t k = 0; k < cols; ++k) {
    double* column = wp.data() + k * rows;
    std::vector<int64_t> order(static_cast<size_t>(rows));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return static_cast<float>(column[a]) < static_cast<float>(column[b]);
    });
    std::vector<char> reserved(static_cast<size_t>(rows), 0);
    std::vector<float> kept;
    for (int64_t t = 0; t < rows; ++t) {
      if (t < per_tail || t >= rows - per_tail) {
        reserved[order[t]] = 1;
      } else {
        kept.push_back(static_cast<float>(column[order[t]]));
      }
    }

    std::vector<double> codebook = codebook_of(kept, bits);
    for (double& c : codebook) c = round_to_float16(static_cast<float>(c));

    const double d = u[k * cols + k];
    std::vector<double> error(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) {
      const double value = static_cast<float>(column[i]);
      double q = codebook[0];
      for (double c : codebook) {
        if (std::fabs(value - c) < std::fabs(value - q)) q = c;
      }
      if (reserved[i]) q = round_to_float16(static_cast<float>(value));
      if (row_grid != nullptr) q = reference_row_value(*row_grid, i, value);
      result->dequantized[i * cols + perm[k]] = q;
      result->loss += (value - q) * (value - q) / (2 * d * d);
      error[i] = (value - q) / d;
    }
    for (int64_t k2 = k + 1; k2 < cols; ++k2) {
      for (int64_t i = 0; i < rows; ++i) wp[k2 * rows + i] -= error[i] * u[k * cols + k2];
    }
  }
  return true;
}

}  // namespace claq::test
