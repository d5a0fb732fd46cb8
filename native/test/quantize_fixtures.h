// Generated layers and helpers shared by the quantizer tests.
#pragma once

#include <cstdint>
#include <vector>

#include "core/quantize.h"
#include "test/test_framework.h"

namespace claq::test {

struct Layer {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> weight;    // [rows, cols]
  std::vector<double> hessian;  // [cols, cols]
};

// Normal weights and H = (2 / n) X^T X over 4 * cols + 8 tokens of normal
// activations whose per-column scales differ, so act order is not the identity.
inline Layer make_layer(int64_t rows, int64_t cols, uint64_t seed) {
  Rng rng(seed);
  Layer layer;
  layer.rows = rows;
  layer.cols = cols;
  layer.weight.resize(static_cast<size_t>(rows * cols));
  for (float& w : layer.weight) w = static_cast<float>(rng.normal());

  const int64_t tokens = 4 * cols + 8;
  std::vector<double> scale(static_cast<size_t>(cols));
  for (double& s : scale) s = 0.5 + rng.uniform();
  std::vector<double> x(static_cast<size_t>(tokens * cols));
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t j = 0; j < cols; ++j) x[t * cols + j] = rng.normal() * scale[j];
  }
  layer.hessian.assign(static_cast<size_t>(cols * cols), 0.0);
  for (int64_t a = 0; a < cols; ++a) {
    for (int64_t b = 0; b < cols; ++b) {
      double s = 0;
      for (int64_t t = 0; t < tokens; ++t) s += x[t * cols + a] * x[t * cols + b];
      layer.hessian[a * cols + b] = 2 * s / static_cast<double>(tokens);
    }
  }
  return layer;
}

inline QuantizeOptions claq_options(int bits) {
  QuantizeOptions options;
  options.method = Method::kClaq;
  options.low_bits = options.high_bits = bits;
  options.target_bits = bits;
  options.outlier_high_fraction = options.outlier_low_fraction = 0;
  options.threads = 1;
  return options;
}

inline QuantizeOptions gptq_options(int bits) {
  QuantizeOptions options = claq_options(bits);
  options.method = Method::kGptq;
  return options;
}

// Dequantized weights [rows, cols]: codebook values (on a row grid, scaled
// and shifted by the row's scale and zero), replaced by the reserved outliers
// where there are some.
inline std::vector<double> dequantize(const QuantizedLayerData& out) {
  std::vector<double> w(static_cast<size_t>(out.rows * out.cols));
  const bool row_grid = !out.row_scales.empty();
  for (int64_t i = 0; i < out.rows; ++i) {
    for (int64_t j = 0; j < out.cols; ++j) {
      const uint8_t code = out.codes[i * out.cols + j];
      const double level = out.codebooks[out.codebook_offsets[j] + code];
      w[i * out.cols + j] =
          row_grid ? static_cast<double>(out.row_scales[i]) * (level - out.row_zeros[i]) : level;
    }
  }
  for (size_t t = 0; t < out.outlier_values.size(); ++t) {
    w[out.outlier_rows[t] * out.cols + out.outlier_cols[t]] = out.outlier_values[t];
  }
  return w;
}

}  // namespace claq::test
