#include "core/column_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/float16.h"
#include "core/radix_sort.h"
#include "core/uniform_grid.h"
#include "kernels/gemm.h"

namespace claq {
namespace {

// Columns per sub-block: rank-1 feedback runs inside one, a GEMM carries it
// to the rest of the block.
constexpr int64_t kSubBlockColumns = 16;
constexpr int kMaxCentroids = 16;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct ColumnWorkspace {
  std::vector<float> sorted;
  std::vector<uint8_t> reserved;
  RadixSortWorkspace radix;
  KMeansWorkspace kmeans;
};

// Rounds the fitted centroids to float16 and returns the decision midpoints:
// a weight w gets code #{c : w > midpoint[c]}. A repeated centroid gets an
// infinite midpoint, so a tie always resolves to the lowest equal centroid.
void round_codebook(const double* centroids, int levels, float* codebook, double* midpoints) {
  for (int c = 0; c < levels; ++c) codebook[c] = round_to_float16(static_cast<float>(centroids[c]));
  for (int c = 1; c < levels; ++c) {
    const double lower = codebook[c - 1];
    const double upper = codebook[c];
    midpoints[c - 1] = upper > lower ? 0.5 * (lower + upper) : std::numeric_limits<double>::infinity();
  }
}

// Marks the OR entries: the `per_tail` smallest and largest values by
// (value, row) order, so ties at a threshold go to the earlier rows at the
// low tail and to the later rows at the high tail.
void mark_reserved(const float* w, int64_t rows, int64_t per_tail, const float* sorted,
                   uint8_t* reserved) {
  std::fill(reserved, reserved + rows, uint8_t{0});
  if (per_tail == 0) return;

  const float low = sorted[per_tail - 1];
  const float high = sorted[rows - per_tail];
  int64_t low_ties = per_tail;
  int64_t high_ties = per_tail;
  for (int64_t i = 0; i < rows; ++i) {
    if (w[i] < low) --low_ties;
    if (w[i] > high) --high_ties;
  }

  for (int64_t i = 0; i < rows; ++i) {
    if (w[i] < low) {
      reserved[i] = 1;
    } else if (w[i] == low && low_ties > 0) {
      reserved[i] = 1;
      --low_ties;
    }
  }
  for (int64_t i = rows - 1; i >= 0; --i) {
    if (reserved[i] != 0) continue;
    if (w[i] > high) {
      reserved[i] = 1;
    } else if (w[i] == high && high_ties > 0) {
      reserved[i] = 1;
      --high_ties;
    }
  }
}

// Quantizes one column w [rows]: writes its codes, the quantized values q
// (float16 centroids, or the float16 value itself where reserved), its
// codebook and its reserved entries. Returns sum (w - q)^2.
double quantize_column(const float* w, int64_t rows, int bits, int64_t per_tail,
                       const CodebookFitter& fit_codebook, ColumnWorkspace& ws, uint8_t* codes,
                       float* quantized, std::vector<float>& codebook,
                       std::vector<ReservedEntry>& reserved) {
  ws.sorted.resize(static_cast<size_t>(rows));
  ws.reserved.resize(static_cast<size_t>(rows));
  radix_sort_f32(w, rows, ws.sorted.data(), ws.radix);
  mark_reserved(w, rows, per_tail, ws.sorted.data(), ws.reserved.data());

  const int levels = 1 << bits;
  double centroids[kMaxCentroids];
  double midpoints[kMaxCentroids];
  codebook.resize(static_cast<size_t>(levels));
  fit_codebook(ws.sorted.data() + per_tail, rows - 2 * per_tail, bits, ws.kmeans, centroids);
  round_codebook(centroids, levels, codebook.data(), midpoints);

  double squared_error = 0;
  for (int64_t i = 0; i < rows; ++i) {
    const double value = w[i];
    int code = 0;
    for (int c = 0; c < levels - 1; ++c) code += value > midpoints[c] ? 1 : 0;
    codes[i] = static_cast<uint8_t>(code);
    float q = codebook[code];
    if (ws.reserved[i] != 0) {
      q = round_to_float16(w[i]);
      reserved.push_back({static_cast<int32_t>(i), q});
    }
    quantized[i] = q;
    const double difference = value - q;
    squared_error += difference * difference;
  }
  return squared_error;
}

// err = (w - q) / d into `error`, and w -= err * U[k][k2] for the remaining
// columns k2 of the sub-block.
void feed_back_in_sub_block(const ColumnLoopInput& in, int64_t k, int64_t sub_end,
                            const float* quantized, float* error) {
  const int64_t rows = in.rows;
  const float* w = in.weight_t + k * rows;
  const float* u_row = in.inverse_factor + k * in.cols;
  const float inverse_diagonal = 1.0f / u_row[k];
  for (int64_t i = 0; i < rows; ++i) error[i] = (w[i] - quantized[i]) * inverse_diagonal;

  for (int64_t k2 = k + 1; k2 < sub_end; ++k2) {
    const float factor = u_row[k2];
    float* target = in.weight_t + k2 * rows;
    for (int64_t i = 0; i < rows; ++i) target[i] -= factor * error[i];
  }
}

// W_t[first_target ..] -= U[sources, first_target ..]^T * errors, where the
// `count` source columns start at column `first_source` and their errors at
// `errors` ([count, rows]).
void feed_back_gemm(const ColumnLoopInput& in, int64_t first_source, int64_t count,
                    const float* errors, int64_t first_target, int64_t target_end,
                    ThreadPool* pool) {
  if (target_end <= first_target || count == 0) return;
  gemm_f32(true, false, target_end - first_target, in.rows, count, -1.0f,
           in.inverse_factor + first_source * in.cols + first_target, in.cols, errors, in.rows,
           1.0f, in.weight_t + first_target * in.rows, in.rows, pool);
}

}  // namespace

CodebookFitter kmeans_codebook_fitter() {
  return [](const float* sorted, int64_t n, int bits, KMeansWorkspace& ws, double* centroids) {
    kmeans1d_exact(sorted, n, 1 << bits, ws, centroids);
  };
}

CodebookFitter uniform_grid_codebook_fitter() {
  return [](const float* sorted, int64_t n, int bits, KMeansWorkspace&, double* centroids) {
    const double lo = n > 0 ? sorted[0] : 0.0;
    const double hi = n > 0 ? sorted[n - 1] : 0.0;
    uniform_grid_values(fit_uniform_grid(lo, hi, bits), centroids);
  };
}

Status run_column_loop(const ColumnLoopInput& in, ThreadPool* pool, ColumnLoopOutput* out) {
  const int64_t rows = in.rows;
  const int64_t cols = in.cols;
  const bool feedback = in.inverse_factor != nullptr;
  const int64_t block_size = in.block_size;

  out->codes_t.assign(static_cast<size_t>(rows * cols), 0);
  out->codebooks.assign(static_cast<size_t>(cols), {});
  out->reserved.assign(static_cast<size_t>(cols), {});
  out->loss = 0;
  out->kmeans_seconds = 0;
  out->update_seconds = 0;

  ColumnWorkspace ws;
  std::vector<float> quantized(static_cast<size_t>(rows));
  std::vector<float> errors(feedback ? static_cast<size_t>(std::min(block_size, cols) * rows) : 0);

  for (int64_t block = 0; block < cols; block += block_size) {
    if (in.abort != nullptr && in.abort->load(std::memory_order_relaxed)) {
      return Status::Aborted("quantize_layer: aborted after " + std::to_string(block) + " of " +
                             std::to_string(cols) + " columns");
    }
    const int64_t block_end = std::min(block + block_size, cols);

    for (int64_t sub = block; sub < block_end; sub += kSubBlockColumns) {
      const int64_t sub_end = std::min(sub + kSubBlockColumns, block_end);

      for (int64_t k = sub; k < sub_end; ++k) {
        const float* w = in.weight_t + k * rows;
        const Clock::time_point fit_start = Clock::now();
        const double squared_error =
            quantize_column(w, rows, in.bits[k], in.reserved_per_tail[k], in.fit_codebook, ws,
                            out->codes_t.data() + k * rows, quantized.data(), out->codebooks[k],
                            out->reserved[k]);
        out->kmeans_seconds += seconds_since(fit_start);

        if (!feedback) {
          out->loss += 0.5 * squared_error;
          continue;
        }
        const double diagonal = in.inverse_factor[k * cols + k];
        out->loss += squared_error / (2 * diagonal * diagonal);

        const Clock::time_point update_start = Clock::now();
        feed_back_in_sub_block(in, k, sub_end, quantized.data(),
                               errors.data() + (k - block) * rows);
        out->update_seconds += seconds_since(update_start);
      }

      if (feedback) {
        const Clock::time_point update_start = Clock::now();
        feed_back_gemm(in, sub, sub_end - sub, errors.data() + (sub - block) * rows, sub_end,
                       block_end, pool);
        out->update_seconds += seconds_since(update_start);
      }
    }

    if (feedback) {
      const Clock::time_point update_start = Clock::now();
      feed_back_gemm(in, block, block_end - block, errors.data(), block_end, cols, pool);
      out->update_seconds += seconds_since(update_start);
    }
    if (in.progress) in.progress(block_end, cols);
  }
  return Status::Ok();
}

}  // namespace claq
