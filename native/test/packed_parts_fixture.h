// Random quantized layers for the packed-kernel tests, and the float64
// product, built from the parts alone, that the kernels must match.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "core/quantize.h"
#include "test/test_framework.h"

namespace claq::test {

// Bits per column: a single width, or AP-style mixes.
enum class BitsMix { k2, k3, k4, k2And4, k3And4, kAll };

// Rounds to the nearest float16 value (11 significant bits; normal range only,
// which the generators stay in).
inline float round_to_half(double v) {
  if (v == 0) return 0.0f;
  int exponent;
  std::frexp(v, &exponent);
  const double step = std::ldexp(1.0, exponent - 11);
  return static_cast<float>(std::nearbyint(v / step) * step);
}

inline int pick_bits(BitsMix mix, Rng& rng) {
  switch (mix) {
    case BitsMix::k2: return 2;
    case BitsMix::k3: return 3;
    case BitsMix::k4: return 4;
    case BitsMix::k2And4: return rng.uniform() < 0.2 ? 4 : 2;
    case BitsMix::k3And4: return rng.uniform() < 0.5 ? 4 : 3;
    case BitsMix::kAll: return 2 + static_cast<int>(rng.next() % 3);
  }
  return 2;
}

// A layer with random bits, permutation, codes, ascending float16 codebooks
// and, with probability `outlier_rate` per weight, reserved outliers.
inline QuantizedLayerData make_parts(int64_t rows, int64_t cols, BitsMix mix, double outlier_rate, Rng& rng) {
  QuantizedLayerData d;
  d.rows = rows;
  d.cols = cols;
  d.bits_per_column.resize(cols);
  d.permutation.resize(cols);
  std::iota(d.permutation.begin(), d.permutation.end(), 0);
  for (int64_t k = cols - 1; k > 0; --k) std::swap(d.permutation[k], d.permutation[rng.next() % (k + 1)]);

  d.codebook_offsets.push_back(0);
  for (int64_t j = 0; j < cols; ++j) {
    const int bits = pick_bits(mix, rng);
    d.bits_per_column[j] = static_cast<uint8_t>(bits);
    std::vector<float> centroids(1u << bits);
    for (float& c : centroids) c = round_to_half(rng.normal());
    std::sort(centroids.begin(), centroids.end());
    d.codebooks.insert(d.codebooks.end(), centroids.begin(), centroids.end());
    d.codebook_offsets.push_back(static_cast<uint32_t>(d.codebooks.size()));
  }

  d.codes.resize(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < cols; ++j) {
      d.codes[r * cols + j] = static_cast<uint8_t>(rng.next() % (1u << d.bits_per_column[j]));
    }
  }
  for (int64_t j = 0; j < cols; ++j) {
    for (int64_t r = 0; r < rows; ++r) {
      if (rng.uniform() >= outlier_rate) continue;
      d.outlier_rows.push_back(static_cast<int32_t>(r));
      d.outlier_cols.push_back(static_cast<int32_t>(j));
      d.outlier_values.push_back(round_to_half(rng.normal() * 40));
    }
  }
  return d;
}

// Dense weights from the parts: the centroid, or the reserved value.
inline std::vector<double> dequantize(const QuantizedLayerData& d) {
  std::vector<double> w(d.rows * d.cols);
  for (int64_t r = 0; r < d.rows; ++r) {
    for (int64_t j = 0; j < d.cols; ++j) {
      w[r * d.cols + j] = d.codebooks[d.codebook_offsets[j] + d.codes[r * d.cols + j]];
    }
  }
  for (size_t k = 0; k < d.outlier_rows.size(); ++k) {
    w[int64_t{d.outlier_rows[k]} * d.cols + d.outlier_cols[k]] = d.outlier_values[k];
  }
  return w;
}

// Y = X W^T in float64, and the error bound scale: sum over j of
// (|centroid| + |outlier correction|) * |x_j| for each output.
struct Reference {
  std::vector<double> y;
  std::vector<double> scale;
};

inline Reference reference_matmul(const QuantizedLayerData& d, const std::vector<float>& x, int64_t tokens) {
  const std::vector<double> w = dequantize(d);
  std::vector<double> magnitude(d.rows * d.cols);
  for (int64_t r = 0; r < d.rows; ++r) {
    for (int64_t j = 0; j < d.cols; ++j) {
      const double centroid = d.codebooks[d.codebook_offsets[j] + d.codes[r * d.cols + j]];
      magnitude[r * d.cols + j] = std::fabs(centroid) + std::fabs(w[r * d.cols + j] - centroid);
    }
  }
  Reference ref;
  ref.y.assign(tokens * d.rows, 0);
  ref.scale.assign(tokens * d.rows, 0);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t r = 0; r < d.rows; ++r) {
      double sum = 0, scale = 0;
      for (int64_t j = 0; j < d.cols; ++j) {
        sum += w[r * d.cols + j] * x[t * d.cols + j];
        scale += magnitude[r * d.cols + j] * std::fabs(x[t * d.cols + j]);
      }
      ref.y[t * d.rows + r] = sum;
      ref.scale[t * d.rows + r] = scale;
    }
  }
  return ref;
}

// The error that integer 3-bit tables (kernels/lut_3bit_int.h) may add to
// one output: each entry is rounded to within 2^(1 - 7 digits) of the largest
// entry of its block, so an output moves by at most the number of 3-bit
// columns times that step of the largest |C_j[c] x_j| over 3-bit columns.
inline double integer_table_error(const QuantizedLayerData& d, const float* x, int digits) {
  int64_t columns = 0;
  double largest = 0;
  for (int64_t j = 0; j < d.cols; ++j) {
    if (d.bits_per_column[j] != 3) continue;
    ++columns;
    for (uint32_t k = d.codebook_offsets[j]; k < d.codebook_offsets[j + 1]; ++k) {
      largest = std::max(largest, std::fabs(double{d.codebooks[k]} * x[j]));
    }
  }
  return static_cast<double>(columns) * std::ldexp(largest, 1 - 7 * digits);
}

inline std::vector<float> random_x(int64_t tokens, int64_t cols, double magnitude, Rng& rng) {
  std::vector<float> x(tokens * cols);
  for (float& v : x) v = static_cast<float>(rng.normal() * magnitude);
  return x;
}

}  // namespace claq::test
