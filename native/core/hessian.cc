#include "core/hessian.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <system_error>

#include "core/thread_pool.h"
#include "kernels/gemm.h"

namespace claq {
namespace {

// Tokens per float32 chunk. Each Gram element of a chunk is a float32 sum of
// at most this many products (relative rounding error about
// sqrt(kChunkTokens) * 2^-24 for random signs) before it is added in float64.
constexpr int64_t kChunkTokens = 1024;

// The float32 scratch for one chunk contains a band of output rows at a time,
// at most this many floats (16 MiB), so wide layers need no cols^2 buffer.
constexpr int64_t kScratchFloats = int64_t{4} << 20;

// Chunks whose largest |x| lies outside [2^-kScaleExponent, 2^kScaleExponent]
// are scaled by a power of two before the float32 products: above, a sum of
// kChunkTokens squares could overflow float32 (2^128), and below, squares
// would fall into float32's subnormal range (2^-126) and lose their bits. The
// scaling is exact, and add_band multiplies it back out in float64.
constexpr int kScaleExponent = 56;
static_assert(2 * kScaleExponent + 10 < 127, "kChunkTokens squares of 2^kScaleExponent must fit float32");

// Returns e such that x * 2^e has its largest magnitude in [1, 2), or 0 when
// the chunk needs no scaling (or is all zero).
int chunk_scale_exponent(const float* x, int64_t count) {
  float largest = 0;
  for (int64_t k = 0; k < count; ++k) largest = std::max(largest, std::fabs(x[k]));
  if (largest == 0 || (largest >= std::ldexp(1.0f, -kScaleExponent) && largest <= std::ldexp(1.0f, kScaleExponent))) {
    return 0;
  }
  int exponent = 0;
  std::frexp(largest, &exponent);  // largest = m * 2^exponent, m in [0.5, 1)
  return 1 - exponent;
}

// Adds the lower-triangle rows [row0, row0 + rows) of the band scratch
// [rows, row0 + rows], times `factor`, into the float64 Gram, pairing short
// and long rows so every task has the same length.
void add_band(const float* scratch, int64_t row0, int64_t rows, double factor, double* gram, int64_t cols,
              ThreadPool* pool) {
  const int64_t width = row0 + rows;
  auto add_row = [&](int64_t r) {
    const float* from = scratch + r * width;
    double* to = gram + (row0 + r) * cols;
    for (int64_t j = 0; j <= row0 + r; ++j) to[j] += factor * from[j];
  };
  pool->parallel_for((rows + 1) / 2, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      add_row(t);
      if (rows - 1 - t != t) add_row(rows - 1 - t);
    }
  });
}

}  // namespace

HessianAccumulator::HessianAccumulator(int64_t cols)
    : cols_(cols), gram_(static_cast<size_t>(std::max<int64_t>(cols, 0) * std::max<int64_t>(cols, 0)), 0.0) {}

Status HessianAccumulator::add(const float* activations, int64_t tokens, int threads) {
  if (cols_ <= 0) {
    return Status::InvalidArgument("HessianAccumulator.add: the accumulator has " + std::to_string(cols_) +
                                   " columns; it needs at least 1");
  }
  if (tokens < 0) {
    return Status::InvalidArgument("HessianAccumulator.add: tokens must be >= 0, got " + std::to_string(tokens));
  }
  if (tokens > std::numeric_limits<int64_t>::max() / cols_) {
    return Status::InvalidArgument("HessianAccumulator.add: tokens * cols overflows (tokens = " +
                                   std::to_string(tokens) + ", cols = " + std::to_string(cols_) + ")");
  }
  if (threads < 0) {
    return Status::InvalidArgument("HessianAccumulator.add: threads must be >= 0, got " + std::to_string(threads));
  }
  if (tokens == 0) return Status::Ok();
  if (activations == nullptr) {
    return Status::InvalidArgument("HessianAccumulator.add: activations pointer is null");
  }

  try {
    add_unchecked(activations, tokens, threads);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("HessianAccumulator.add: out of memory for the work buffers of " +
                               std::to_string(cols_) + " columns; part of the batch may have been added");
  } catch (const std::system_error& error) {
    return Status::Internal(std::string("HessianAccumulator.add: could not start the worker threads: ") +
                            error.what());
  }
  samples_ += tokens;
  symmetric_ = false;
  return Status::Ok();
}

void HessianAccumulator::add_unchecked(const float* activations, int64_t tokens, int threads) {
  ThreadPool pool(threads);
  const int64_t cols = cols_;
  const int64_t band_rows = std::clamp<int64_t>(kScratchFloats / cols / 64 * 64, 64, cols);
  std::unique_ptr<float[]> scratch(new float[static_cast<size_t>(band_rows * cols)]);

  std::unique_ptr<float[]> scaled;
  for (int64_t t0 = 0; t0 < tokens; t0 += kChunkTokens) {
    const int64_t chunk = std::min(kChunkTokens, tokens - t0);
    const float* x = activations + t0 * cols;
    const int exponent = chunk_scale_exponent(x, chunk * cols);
    const double factor = std::ldexp(1.0, -2 * exponent);
    if (exponent != 0) {
      if (!scaled) scaled.reset(new float[static_cast<size_t>(std::min(kChunkTokens, tokens) * cols)]);
      for (int64_t k = 0; k < chunk * cols; ++k) scaled[k] = std::ldexp(x[k], exponent);
      x = scaled.get();
    }
    for (int64_t row0 = 0; row0 < cols; row0 += band_rows) {
      const int64_t rows = std::min(band_rows, cols - row0);
      const int64_t width = row0 + rows;
      // Band rows [row0, row0 + rows), columns [0, row0): a full rectangle.
      gemm_f32(true, false, rows, row0, chunk, 1.0f, x + row0, cols, x, cols, 0.0f, scratch.get(),
               width, &pool);
      // The diagonal square of the band: its lower triangle only.
      gemm_lower_f32(true, false, rows, chunk, 1.0f, x + row0, cols, x + row0, cols, 0.0f,
                     scratch.get() + row0, width, &pool);
      add_band(scratch.get(), row0, rows, factor, gram_.data(), cols, &pool);
    }
  }
}

Status HessianAccumulator::add_gram(const double* gram, int64_t samples) {
  if (cols_ <= 0) {
    return Status::InvalidArgument("HessianAccumulator.add_gram: the accumulator has " + std::to_string(cols_) +
                                   " columns; it needs at least 1");
  }
  if (samples < 0) {
    return Status::InvalidArgument("HessianAccumulator.add_gram: samples must be >= 0, got " +
                                   std::to_string(samples));
  }
  if (gram == nullptr) {
    return Status::InvalidArgument("HessianAccumulator.add_gram: gram pointer is null");
  }
  for (int64_t i = 0; i < cols_; ++i) {
    for (int64_t j = 0; j <= i; ++j) gram_[i * cols_ + j] += gram[i * cols_ + j];
  }
  samples_ += samples;
  symmetric_ = false;
  return Status::Ok();
}

// Tiles of kMirrorTile x kMirrorTile keep the strided side of the copy in
// cache: at 4096 columns this took 15 ms of CPU time, where hessian(), which
// writes a scaled full copy without tiles, took 140 ms.
void HessianAccumulator::make_symmetric() {
  if (symmetric_) return;
  constexpr int64_t kMirrorTile = 64;
  const int64_t n = cols_;
  double* g = gram_.data();
  // The copy also finds the largest magnitude, so a reader can skip its own
  // scan for NaN and Inf. A NaN fails the <= test, like an infinity.
  double largest = 0;
  bool finite = true;
  for (int64_t i0 = 0; i0 < n; i0 += kMirrorTile) {
    const int64_t i1 = std::min(i0 + kMirrorTile, n);
    for (int64_t j0 = 0; j0 <= i0; j0 += kMirrorTile) {
      // Upper row j gets lower column j of the rows i in the tile, i >= j.
      for (int64_t j = j0; j < std::min(j0 + kMirrorTile, i1); ++j) {
        for (int64_t i = std::max(i0, j); i < i1; ++i) {
          const double value = g[i * n + j];
          g[j * n + i] = value;
          const double magnitude = std::fabs(value);
          largest = std::max(largest, magnitude);
          finite &= magnitude <= std::numeric_limits<double>::max();
        }
      }
    }
  }
  largest_ = finite ? largest : std::numeric_limits<double>::infinity();
  symmetric_ = true;
}

bool HessianAccumulator::finite_when_scaled(double scale) const {
  // Rounding is monotonic, so no entry overflows when the largest does not.
  return std::isfinite(scale * largest_);
}

void HessianAccumulator::hessian(double* out) const {
  const int64_t n = std::max<int64_t>(cols_, 0);
  const double scale = samples_ == 0 ? 0.0 : 2.0 / static_cast<double>(samples_);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      const double value = scale * gram_[i * n + j];
      out[i * n + j] = value;
      out[j * n + i] = value;
    }
  }
}

}  // namespace claq
