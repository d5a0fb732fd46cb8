#include "core/output_error.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/gemm.h"

namespace claq {
namespace {

// Rows of W per GEMM call: bounds the scratch to kRowBlock * cols floats.
constexpr int64_t kRowBlock = 256;

// sum over the block of x_i G x_i^T, with E = X G computed by a float32 GEMM
// and the final dot products summed in float64.
double quadratic_form(const float* x, int64_t rows, int64_t cols, const float* g, float* scratch,
                      ThreadPool* pool) {
  gemm_f32(false, false, rows, cols, cols, 1.0f, x, cols, g, cols, 0.0f, scratch, cols, pool);
  double sum = 0;
  for (int64_t k = 0; k < rows * cols; ++k) sum += static_cast<double>(scratch[k]) * x[k];
  return sum;
}

}  // namespace

Status relative_output_error(const float* weight, const float* quantized, int64_t rows, int64_t cols,
                             const double* gram, int threads, double* out) {
  if (weight == nullptr || quantized == nullptr || gram == nullptr || out == nullptr) {
    return Status::InvalidArgument("relative_output_error: a pointer argument is null");
  }
  if (rows < 1 || cols < 1 || rows > std::numeric_limits<int64_t>::max() / cols) {
    return Status::InvalidArgument("relative_output_error: rows and cols must be >= 1, got " +
                                   std::to_string(rows) + " x " + std::to_string(cols));
  }
  if (threads < 0) {
    return Status::InvalidArgument("relative_output_error: threads must be >= 0, got " + std::to_string(threads));
  }

  // Full symmetric float32 copy of G from its lower triangle.
  std::vector<float> g(static_cast<size_t>(cols * cols));
  for (int64_t i = 0; i < cols; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      const float value = static_cast<float>(gram[i * cols + j]);
      g[i * cols + j] = value;
      g[j * cols + i] = value;
    }
  }

  ThreadPool pool(threads);
  const int64_t block = std::min(rows, kRowBlock);
  std::vector<float> difference(static_cast<size_t>(block * cols));
  std::vector<float> scratch(static_cast<size_t>(block * cols));
  double error = 0;
  double reference = 0;
  for (int64_t row0 = 0; row0 < rows; row0 += block) {
    const int64_t count = std::min(block, rows - row0);
    const float* w = weight + row0 * cols;
    const float* q = quantized + row0 * cols;
    for (int64_t k = 0; k < count * cols; ++k) difference[k] = w[k] - q[k];
    error += quadratic_form(difference.data(), count, cols, g.data(), scratch.data(), &pool);
    reference += quadratic_form(w, count, cols, g.data(), scratch.data(), &pool);
  }

  if (reference > 0) {
    *out = error / reference;
  } else {
    *out = error > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  }
  return Status::Ok();
}

}  // namespace claq
