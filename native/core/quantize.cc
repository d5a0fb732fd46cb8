// quantize_layer: prepares the column loop (dead inputs, act order, damping
// and the inverse factor, Outlier Order, AP and OR), runs it, and writes the
// result back in the original column order.
#include "core/quantize.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <new>
#include <numeric>
#include <optional>
#include <utility>

#include "core/column_loop.h"
#include "core/linalg.h"
#include "core/outlier_order.h"
#include "core/row_grid.h"
#include "core/quantize_checks.h"
#include "core/thread_pool.h"
#include "core/work_buffer.h"

namespace claq {
namespace {

using Clock = std::chrono::steady_clock;

// Transposes are done in square tiles so that both sides stay in cache.
constexpr int64_t kTransposeTile = 64;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The Hessian diagonal after the dead-input rule (H[j][j] == 0 becomes 1),
// and the dead flags.
struct Diagonal {
  std::vector<double> values;
  std::vector<uint8_t> dead;
  int64_t dead_count = 0;
};

Diagonal read_diagonal(const double* hessian, double scale, int64_t cols) {
  Diagonal d;
  d.values.assign(static_cast<size_t>(cols), 1.0);
  d.dead.assign(static_cast<size_t>(cols), 0);
  if (hessian == nullptr) return d;

  for (int64_t j = 0; j < cols; ++j) {
    const double value = scale * hessian[j * cols + j];
    if (value == 0) {
      d.dead[j] = 1;
      ++d.dead_count;
    } else {
      d.values[j] = value;
    }
  }
  return d;
}

// Act order: columns by descending Hessian diagonal, ties in original order.
std::vector<int32_t> act_order_permutation(const Diagonal& diagonal, bool enabled) {
  std::vector<int32_t> permutation(diagonal.values.size());
  std::iota(permutation.begin(), permutation.end(), 0);
  if (!enabled) return permutation;
  std::stable_sort(permutation.begin(), permutation.end(), [&](int32_t a, int32_t b) {
    return diagonal.values[a] > diagonal.values[b];
  });
  return permutation;
}

int64_t tile_count(int64_t size) { return (size + kTransposeTile - 1) / kTransposeTile; }

// weight_t[position[j]][i] = W[i][j], zero for dead columns. Threads take
// tiles of kTransposeTile columns. Each tile of W goes through a local buffer:
// read row by row, written column by column as runs of kTransposeTile floats.
// Reading W down a column directly would touch rows cols floats apart, which
// map to the same L1 sets when cols is a power of two.
void gather_columns(const float* weight, int64_t rows, int64_t cols,
                    const std::vector<int32_t>& position, const Diagonal& diagonal,
                    float* weight_t, ThreadPool* pool) {
  pool->parallel_for(tile_count(cols), [&](int64_t tile_begin, int64_t tile_end) {
    float tile[kTransposeTile][kTransposeTile];
    for (int64_t t = tile_begin; t < tile_end; ++t) {
      const int64_t j0 = t * kTransposeTile;
      const int64_t width = std::min(kTransposeTile, cols - j0);
      for (int64_t i0 = 0; i0 < rows; i0 += kTransposeTile) {
        const int64_t height = std::min(kTransposeTile, rows - i0);
        for (int64_t ii = 0; ii < height; ++ii) {
          std::copy(weight + (i0 + ii) * cols + j0, weight + (i0 + ii) * cols + j0 + width, tile[ii]);
        }
        for (int64_t jj = 0; jj < width; ++jj) {
          float* target = weight_t + static_cast<int64_t>(position[j0 + jj]) * rows + i0;
          if (diagonal.dead[j0 + jj] != 0) {
            std::fill(target, target + height, 0.0f);
            continue;
          }
          for (int64_t ii = 0; ii < height; ++ii) target[ii] = tile[ii][jj];
        }
      }
    }
  });
}

// codes[i][j] = codes_t[position[j]][i], through a local tile like
// gather_columns; threads take tiles of rows.
void scatter_codes(const uint8_t* codes_t, int64_t rows, int64_t cols,
                   const std::vector<int32_t>& position, uint8_t* codes, ThreadPool* pool) {
  pool->parallel_for(tile_count(rows), [&](int64_t tile_begin, int64_t tile_end) {
    uint8_t tile[kTransposeTile][kTransposeTile];
    for (int64_t t = tile_begin; t < tile_end; ++t) {
      const int64_t i0 = t * kTransposeTile;
      const int64_t height = std::min(kTransposeTile, rows - i0);
      for (int64_t j0 = 0; j0 < cols; j0 += kTransposeTile) {
        const int64_t width = std::min(kTransposeTile, cols - j0);
        for (int64_t jj = 0; jj < width; ++jj) {
          const uint8_t* source = codes_t + static_cast<int64_t>(position[j0 + jj]) * rows + i0;
          std::copy(source, source + height, tile[jj]);
        }
        for (int64_t ii = 0; ii < height; ++ii) {
          uint8_t* target = codes + (i0 + ii) * cols + j0;
          for (int64_t jj = 0; jj < width; ++jj) target[jj] = tile[jj][ii];
        }
      }
    }
  });
}

// position[permutation[k]] = k: where each original column is quantized.
std::vector<int32_t> inverse_permutation(const std::vector<int32_t>& permutation) {
  std::vector<int32_t> position(permutation.size());
  for (size_t k = 0; k < permutation.size(); ++k) {
    position[permutation[k]] = static_cast<int32_t>(k);
  }
  return position;
}

std::string format_lambda(double lambda) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", lambda);
  return text;
}

// Returns an even e with mean / 2^e near 1 when the mean of diag H lies
// outside [2^-64, 2^64], else 0 (ordinary Hessians are not touched).
int hessian_scale_exponent(double diagonal_mean) {
  if (!(diagonal_mean > 0) || (diagonal_mean >= 0x1p-64 && diagonal_mean <= 0x1p64)) return 0;
  int exponent = 0;
  std::frexp(diagonal_mean, &exponent);
  return exponent - (exponent & 1);
}

// The upper triangle of the damped, permuted and scaled Hessian, in float32:
// u[r][c] = scale * H[p[r]][p[c]] * to_scaled for c > r (H may be a Gram
// matrix that `scale` turns into the Hessian), and the diagonal from
// `diagonal` plus `damping`. The strict lower triangle is not written (the
// factorization ignores it). Row r reads row p[r] of H once, gathering its
// columns p[c]; each task takes rows r and cols - 1 - r, so the triangle
// splits evenly over threads.
void load_permuted_upper(const double* hessian, double scale, int64_t cols,
                         const std::vector<int32_t>& permutation,
                         const Diagonal& diagonal, double damping, double to_scaled, ThreadPool* pool,
                         float* u) {
  const auto copy_row = [&](int64_t r) {
    const double* source = hessian + static_cast<int64_t>(permutation[r]) * cols;
    float* target = u + r * cols;
    target[r] = static_cast<float>((diagonal.values[permutation[r]] + damping) * to_scaled);
    for (int64_t c = r + 1; c < cols; ++c) target[c] = static_cast<float>(scale * source[permutation[c]] * to_scaled);
  };
  pool->parallel_for((cols + 1) / 2, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      copy_row(r);
      if (cols - 1 - r != r) copy_row(cols - 1 - r);
    }
  });
}

// Damps the permuted Hessian and computes U with H^-1 = U^T U, retrying with
// lambda * 10 while lambda <= 1 (lambda = 0 retries with 0.01).
Status factorize(const double* hessian, double scale, int64_t cols, const std::vector<int32_t>& permutation,
                 const Diagonal& diagonal, double lambda, ThreadPool* pool,
                 float* inverse_factor, double* lambda_used) {
  const double diagonal_mean =
      std::accumulate(diagonal.values.begin(), diagonal.values.end(), 0.0) / cols;
  // The factorization runs in float32. Activations of 1e19 give Hessian
  // entries above float32's maximum, and activations of 1e-30 give entries
  // that round to 0, so such a Hessian is scaled by 2^-e first (e even).
  // Power-of-two scaling is exact. U of the scaled matrix is 2^(e/2) times U
  // of H, so U is scaled back below and the results do not change.
  const int scale_exponent = hessian_scale_exponent(diagonal_mean);
  const double to_scaled = std::ldexp(1.0, -scale_exponent);

  Status status;
  for (;;) {
    load_permuted_upper(hessian, scale, cols, permutation, diagonal, lambda * diagonal_mean,
                        to_scaled, pool, inverse_factor);
    status = inverse_upper_factor_in_place_f32(inverse_factor, cols, cols, pool);
    if (status.ok()) {
      if (scale_exponent != 0) {
        const float to_original = std::ldexp(1.0f, -scale_exponent / 2);
        for (int64_t k = 0; k < cols * cols; ++k) inverse_factor[k] *= to_original;
      }
      *lambda_used = lambda;
      return status;
    }
    if (status.code() != StatusCode::kNotPositiveDefinite) return status;

    const double next = lambda == 0 ? 0.01 : lambda * 10;
    if (next > 1 + 1e-9) break;
    lambda = next;
  }
  return Status::NotPositiveDefinite(
      "quantize_layer: the Hessian is not positive definite even with damping lambda = " +
      format_lambda(lambda) + " (" + status.message() +
      "); use more calibration tokens or a larger damping");
}

// Outlier Order per column in act order, as ranking scores.
std::vector<double> outlier_order_scores(const QuantizeOptions& options, const float* weight_t,
                                         int64_t rows, int64_t cols, ThreadPool* pool) {
  const std::vector<int64_t> counts = outlier_order(weight_t, rows, cols, options.outlier_threshold, pool);
  return std::vector<double>(counts.begin(), counts.end());
}

// The 'hessian' ranking per column in act order: mean_i W[i][j]^2 / U[j][j]^2.
std::vector<double> hessian_scores(const float* weight_t, int64_t rows, int64_t cols,
                                   const float* inverse_factor) {
  std::vector<double> score(static_cast<size_t>(cols));
  for (int64_t k = 0; k < cols; ++k) {
    const float* column = weight_t + k * rows;
    double sum = 0;
    for (int64_t i = 0; i < rows; ++i) sum += static_cast<double>(column[i]) * column[i];
    const double d = inverse_factor[k * cols + k];
    score[k] = sum / rows / (d * d);
  }
  return score;
}

// Writes the loop's per-column results in the original column order.
void assemble_output(const ColumnLoopOutput& loop, const std::vector<int32_t>& permutation,
                     const std::vector<uint8_t>& bits_act, int64_t rows, int64_t cols,
                     ThreadPool* pool, QuantizedLayerData* out) {
  out->rows = rows;
  out->cols = cols;
  out->permutation = permutation;

  const std::vector<int32_t> position = inverse_permutation(permutation);

  out->bits_per_column.resize(static_cast<size_t>(cols));
  out->codebook_offsets.assign(static_cast<size_t>(cols) + 1, 0);
  for (int64_t j = 0; j < cols; ++j) {
    out->bits_per_column[j] = bits_act[position[j]];
    out->codebook_offsets[j + 1] = out->codebook_offsets[j] + (1u << out->bits_per_column[j]);
  }

  out->codebooks.clear();
  out->codebooks.reserve(out->codebook_offsets[cols]);
  size_t reserved_count = 0;
  for (const std::vector<ReservedEntry>& entries : loop.reserved) reserved_count += entries.size();
  out->outlier_rows.clear();
  out->outlier_cols.clear();
  out->outlier_values.clear();
  out->outlier_rows.reserve(reserved_count);
  out->outlier_cols.reserve(reserved_count);
  out->outlier_values.reserve(reserved_count);
  for (int64_t j = 0; j < cols; ++j) {
    const int32_t k = position[j];
    const std::vector<float>& codebook = loop.codebooks[k];
    out->codebooks.insert(out->codebooks.end(), codebook.begin(), codebook.end());
    for (const ReservedEntry& entry : loop.reserved[k]) {
      out->outlier_rows.push_back(entry.row);
      out->outlier_cols.push_back(static_cast<int32_t>(j));
      out->outlier_values.push_back(entry.value);
    }
  }

  out->codes.resize(static_cast<size_t>(rows * cols));
  scatter_codes(loop.codes_t.get(), rows, cols, position, out->codes.data(), pool);
  out->stats.outlier_count = static_cast<int64_t>(out->outlier_values.size());
}

Status quantize_checked(const float* weight, int64_t rows, int64_t cols, const double* hessian,
                        double hessian_scale, const QuantizeOptions& options, const QuantizeControl& control,
                        QuantizedLayerData* out) {
  const Clock::time_point start = Clock::now();
  std::optional<ThreadPool> own_pool;
  if (control.pool == nullptr) own_pool.emplace(options.threads);
  ThreadPool* const pool = control.pool != nullptr ? control.pool : &*own_pool;
  const bool feedback = options.method != Method::kRtn;
  const bool needs_factor = feedback || options.ranking == Ranking::kHessian;

  const Diagonal diagonal = read_diagonal(hessian, hessian_scale, cols);
  const std::vector<int32_t> permutation =
      act_order_permutation(diagonal, options.act_order && feedback);

  WorkBuffer<float> inverse_factor;
  double lambda_used = 0;
  const Clock::time_point factor_start = Clock::now();
  if (needs_factor) {
    inverse_factor = WorkBuffer<float>(cols * cols);
    Status status = factorize(hessian, hessian_scale, cols, permutation, diagonal, options.damping, pool,
                              inverse_factor.get(), &lambda_used);
    if (!status.ok()) return status;
  }
  const double factorization_seconds = seconds_since(factor_start);

  WorkBuffer<float> weight_t(rows * cols);
  gather_columns(weight, rows, cols, inverse_permutation(permutation), diagonal, weight_t.get(),
                 pool);

  // AP follows the chosen ranking; OR always follows the Outlier Order.
  const std::vector<int32_t> by_outlier_order =
      rank_columns(outlier_order_scores(options, weight_t.get(), rows, cols, pool));
  const std::vector<int32_t> ranking =
      options.ranking == Ranking::kHessian
          ? rank_columns(hessian_scores(weight_t.get(), rows, cols, inverse_factor.get()))
          : by_outlier_order;
  const std::vector<uint8_t> bits =
      allocate_bits(ranking, options.low_bits, options.high_bits, options.target_bits);
  const std::vector<double> fractions =
      reservation_fractions(by_outlier_order, options.outlier_column_fraction,
                            options.outlier_high_fraction, options.outlier_low_fraction);
  std::vector<int64_t> per_tail(static_cast<size_t>(cols));
  for (int64_t k = 0; k < cols; ++k) per_tail[k] = reserved_per_tail(rows, fractions[k]);

  ColumnLoopInput input;
  input.rows = rows;
  input.cols = cols;
  input.weight_t = weight_t.get();
  input.inverse_factor = feedback ? inverse_factor.get() : nullptr;
  input.bits = bits.data();
  input.reserved_per_tail = per_tail.data();
  input.block_size = options.block_size;
  if (options.method != Method::kClaq) {
    input.fit_codebook = uniform_grid_codebook_fitter();
  } else if (options.kmeans == KMeansAlgorithm::kLloyd) {
    input.fit_codebook = lloyd_codebook_fitter();
  } else {
    input.fit_codebook = kmeans_codebook_fitter();
  }
  // The row grid comes from the original W, before dead-input zeroing, as
  // GPTQ's reference fits it before it zeroes dead columns.
  RowGrid row_grid;
  if (options.grid == Grid::kRow) {
    row_grid = fit_row_grid(weight, rows, cols, options.low_bits, pool);
    input.row_grid = &row_grid;
  }
  input.abort = control.abort;
  input.progress = control.progress;

  ColumnLoopOutput loop;
  Status status = run_column_loop(input, pool, &loop);
  if (!status.ok()) return status;

  // Finite inputs can still overflow float32 in the error feedback (weights
  // near 3e38, or a nearly singular Hessian), which leaves NaN behind.
  if (!std::isfinite(loop.loss)) {
    return Status::InvalidArgument(
        "quantize_layer: the error feedback overflowed float32 (loss " + std::to_string(loop.loss) +
        "); scale the weights down or raise the damping");
  }

  assemble_output(loop, permutation, bits, rows, cols, pool, out);
  out->row_scales = std::move(row_grid.scales);
  out->row_zeros = std::move(row_grid.zeros);
  out->stats.loss = loop.loss;
  out->stats.damping = lambda_used;
  out->stats.dead_columns = diagonal.dead_count;
  out->stats.factorization_seconds = factorization_seconds;
  out->stats.kmeans_seconds = loop.kmeans_seconds;
  out->stats.reservation_seconds = loop.reservation_seconds;
  out->stats.assignment_seconds = loop.assignment_seconds;
  out->stats.update_seconds = loop.update_seconds;
  out->stats.seconds = seconds_since(start);
  return Status::Ok();
}

}  // namespace

Status quantize_layer(const float* weight, int64_t rows, int64_t cols, const double* hessian,
                      const QuantizeOptions& options, const QuantizeControl& control,
                      QuantizedLayerData* out) {
  return quantize_layer(weight, rows, cols, hessian, 1.0, options, control, out);
}

Status quantize_layer(const float* weight, int64_t rows, int64_t cols, const double* hessian,
                      double hessian_scale, const QuantizeOptions& options,
                      const QuantizeControl& control, QuantizedLayerData* out) {
  if (weight == nullptr || out == nullptr) {
    return Status::InvalidArgument("quantize_layer: weight and output must not be null");
  }
  if (!(hessian_scale > 0) || !std::isfinite(hessian_scale)) {
    return Status::InvalidArgument("quantize_layer: hessian_scale must be finite and positive");
  }
  Status status = validate_quantize_options(options, rows, cols, hessian != nullptr);
  if (!status.ok()) return status;
  if (!control.inputs_finite) {
    status = check_finite_inputs(weight, rows, cols, hessian, hessian_scale);
    if (!status.ok()) return status;
  }

  try {
    return quantize_checked(weight, rows, cols, hessian, hessian_scale, options, control, out);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("quantize_layer: out of memory for a " + std::to_string(rows) +
                               " x " + std::to_string(cols) + " layer");
  } catch (const std::exception& error) {
    return Status::Internal(std::string("quantize_layer: ") + error.what());
  }
}

}  // namespace claq
