// Accumulation of the GPTQ Hessian H = (2/n) sum_t x_t x_t^T over calibration
// tokens. The Gram matrix sum x x^T is kept in float64; each batch is reduced
// in float32 chunks by the SIMD SYRK kernel and then added in float64, which
// keeps the result close to a float64 reference over 100k+ tokens.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace claq {

class HessianAccumulator {
 public:
  explicit HessianAccumulator(int64_t cols);

  // Adds `tokens` rows of activations x [tokens, cols], row-major, on
  // `threads` threads (0: every core). Returns InvalidArgument for a null
  // pointer, negative sizes or a tokens * cols overflow, and adds nothing then.
  // Returns OutOfMemory when a work buffer cannot be allocated.
  Status add(const float* activations, int64_t tokens, int threads);

  // Adds a precomputed Gram matrix sum x x^T [cols, cols] over `samples`
  // tokens. Only its lower triangle, diagonal included, is read.
  Status add_gram(const double* gram, int64_t samples);

  int64_t cols() const { return cols_; }
  int64_t samples() const { return samples_; }

  // Writes H = (2 / samples) * gram, full and symmetric; zero when samples == 0.
  void hessian(double* out) const;
  // The Gram matrix: only its lower triangle is accumulated, so the upper one
  // is valid only while symmetric() holds.
  const std::vector<double>& gram() const { return gram_; }

  // Copies the lower triangle of the Gram matrix into the upper one, so a
  // reader can use gram() as a full matrix (quantize_layer with the scale
  // 2 / samples) without a copy. Does nothing when symmetric() already holds.
  void make_symmetric();
  // True until the next add or add_gram after make_symmetric (and when new).
  bool symmetric() const { return symmetric_; }
  // True when every entry of scale * gram() is finite, judged from the
  // largest magnitude that make_symmetric records. Valid while symmetric().
  bool finite_when_scaled(double scale) const;

 private:
  // add() after its checks: may throw std::bad_alloc or std::system_error.
  void add_unchecked(const float* activations, int64_t tokens, int threads);

  int64_t cols_;
  int64_t samples_ = 0;
  std::vector<double> gram_;  // full [cols, cols]; only the lower triangle is accumulated
  bool symmetric_ = true;     // the upper triangle mirrors the lower one
  double largest_ = 0;        // max |gram| at make_symmetric, infinity for a NaN or Inf entry
};

}  // namespace claq
