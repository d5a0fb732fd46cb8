#include "core/column_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/float16.h"
#include "core/radix_sort.h"
#include "core/row_grid.h"
#include "core/thread_pool.h"
#include "core/uniform_grid.h"
#include "kernels/codebook_assign.h"
#include "kernels/column_feedback.h"
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
  std::vector<uint8_t> flags;
  std::vector<int32_t> reserved_rows;  // room for every row and 16 more
  RadixSortWorkspace radix;
  KMeansWorkspace kmeans;
};

// The largest float <= x, so that for every float w, w > result exactly when
// w > x.
float float_at_or_below(double x) {
  const float rounded = static_cast<float>(x);
  return static_cast<double>(rounded) > x ? std::nextafter(rounded, -INFINITY) : rounded;
}

// Rounds the fitted centroids to float16 and returns the decision thresholds:
// a weight w gets code #{c : w > threshold[c]}, where threshold[c] stands for
// the midpoint of centroids c and c + 1 (exactly, see float_at_or_below).
// Rounding can make neighbours equal. Inside a run of equal centroids every
// threshold is the one above the run (infinity at the top), so a weight skips
// the whole run or lands on its first, lowest-index centroid.
void round_codebook(const double* centroids, int levels, float* codebook, float* thresholds) {
  for (int c = 0; c < levels; ++c) codebook[c] = round_to_float16(static_cast<float>(centroids[c]));
  float above = INFINITY;
  for (int c = levels - 1; c >= 1; --c) {
    const double lower = codebook[c - 1];
    const double upper = codebook[c];
    if (upper > lower) above = float_at_or_below(0.5 * (lower + upper));
    thresholds[c - 1] = above;
  }
}

// Flags the `per_tail` smallest and largest values of w, given the values
// `low` and `high` at the inner edges of the tails. Every value beyond them
// is flagged first. Values equal to a threshold fill the rest of each tail:
// the first rows at the low one, the last rows not yet taken at the high one.
void flag_tails_with_ties(const float* w, int64_t rows, int64_t per_tail, float low, float high,
                          uint8_t* flag) {
  int64_t below;
  const int64_t above = flag_tails(w, rows, low, high, flag, &below);
  int64_t low_ties = per_tail - below;
  for (int64_t i = 0; i < rows && low_ties > 0; ++i) {
    if (w[i] == low) {
      flag[i] = 1;
      --low_ties;
    }
  }
  int64_t high_ties = per_tail - above;
  for (int64_t i = rows - 1; i >= 0 && high_ties > 0; --i) {
    if (w[i] == high && flag[i] == 0) {
      flag[i] = 1;
      --high_ties;
    }
  }
}

// Lists the OR entries by ascending row in reserved[0 ..) and returns their
// count: the `per_tail` smallest and largest values in (value, row) order,
// so ties at a threshold go to the earlier rows at the low tail and to the
// later rows at the high tail.
int64_t find_reserved(const float* w, int64_t rows, int64_t per_tail, const float* sorted,
                      std::vector<uint8_t>& flags, std::vector<int32_t>& reserved) {
  if (per_tail == 0) return 0;

  const float low = sorted[per_tail - 1];
  const float high = sorted[rows - per_tail];
  flags.resize(static_cast<size_t>(rows));
  reserved.resize(static_cast<size_t>(rows) + 16);
  uint8_t* flag = flags.data();

  // Column data rarely repeat a value. When the sorted value next to each
  // tail's edge differs from it, a tail is every value at or beyond its edge,
  // ties included. One pass with the neighbouring floats as strict thresholds
  // then flags and lists them. Otherwise the rows settle the ties.
  if (sorted[per_tail] > low && sorted[rows - per_tail - 1] < high) {
    int64_t below;
    const int64_t above = flag_tails(w, rows, std::nextafter(low, INFINITY),
                                     std::nextafter(high, -INFINITY), flag, &below,
                                     reserved.data());
    return below + above;
  }
  flag_tails_with_ties(w, rows, per_tail, low, high, flag);

  // Eight flags at a time: only 2 * per_tail of them are set.
  int64_t count = 0;
  for (int64_t i = 0; i < rows; i += 8) {
    uint64_t eight = 1;
    if (i + 8 <= rows) std::memcpy(&eight, flag + i, sizeof eight);
    if (eight == 0) continue;
    for (int64_t r = i; r < std::min(i + 8, rows); ++r) {
      if (flag[r] != 0) reserved[count++] = static_cast<int32_t>(r);
    }
  }
  return count;
}

// Quantizes one column w [rows]: writes its codes, the quantized values q
// (float16 centroids, or the float16 value itself where reserved), its
// codebook and its reserved entries, and adds the time of each step to
// `out`. Returns sum (w - q)^2.
double quantize_column(const float* w, int64_t rows, int bits, int64_t per_tail,
                       const CodebookFitter& fit_codebook, ColumnWorkspace& ws, uint8_t* codes,
                       float* quantized, std::vector<float>& codebook,
                       std::vector<ReservedEntry>& reserved, ColumnLoopOutput* out) {
  const Clock::time_point start = Clock::now();
  ws.sorted.resize(static_cast<size_t>(rows));
  sort_column_f32(w, rows, ws.sorted.data(), ws.radix);
  const Clock::time_point sorted = Clock::now();
  const int64_t reserved_count =
      find_reserved(w, rows, per_tail, ws.sorted.data(), ws.flags, ws.reserved_rows);
  const Clock::time_point chosen = Clock::now();

  const int levels = 1 << bits;
  double centroids[kMaxCentroids];
  float thresholds[kMaxCentroids];
  codebook.resize(static_cast<size_t>(levels));
  fit_codebook(ws.sorted.data() + per_tail, rows - 2 * per_tail, bits, ws.kmeans, centroids);
  const Clock::time_point fitted = Clock::now();
  out->kmeans_seconds += std::chrono::duration<double>((sorted - start) + (fitted - chosen)).count();
  out->reservation_seconds += std::chrono::duration<double>(chosen - sorted).count();
  round_codebook(centroids, levels, codebook.data(), thresholds);

  // Reserved rows keep their own float16 value. The kernel assigns the rest
  // and sums the squared error of all.
  reserved.reserve(static_cast<size_t>(reserved_count));
  for (int64_t t = 0; t < reserved_count; ++t) {
    const int32_t i = ws.reserved_rows[t];
    quantized[i] = round_to_float16(w[i]);
    reserved.push_back({i, quantized[i]});
  }
  const double squared_error = assign_codebook(w, rows, thresholds, levels, codebook.data(),
                                               per_tail > 0 ? ws.flags.data() : nullptr, codes,
                                               quantized);
  out->assignment_seconds += seconds_since(fitted);
  return squared_error;
}

// Writes err = (w - q) / U[k][k] to `error` and subtracts err * U[k][k2] from
// each remaining column k2 of the sub-block.
void feed_back_in_sub_block(const ColumnLoopInput& in, ColumnFeedbackFn column_feedback, int64_t k,
                            int64_t sub_end, const float* quantized, float* error) {
  const int64_t rows = in.rows;
  const float* u_row = in.inverse_factor + k * in.cols;
  column_feedback(in.weight_t + k * rows, quantized, 1.0f / u_row[k], rows, u_row + k + 1, sub_end - k - 1,
                  in.weight_t + (k + 1) * rows, rows, error);
}

// Subtracts U[sources, targets]^T * errors from W_t[targets], for the `count`
// source columns from `first_source` (their errors are `errors`, [count,
// rows]) and the target columns [first_target, target_end).
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

CodebookFitter lloyd_codebook_fitter() {
  // Lloyd converges in a few dozen passes on column data; the cap only bounds
  // pathological inputs.
  constexpr int kMaxLloydIterations = 100;
  return [](const float* sorted, int64_t n, int bits, KMeansWorkspace& ws, double* centroids) {
    kmeans1d_lloyd(sorted, n, 1 << bits, kMaxLloydIterations, ws, centroids);
  };
}

CodebookFitter uniform_grid_codebook_fitter() {
  return [](const float* sorted, int64_t n, int bits, KMeansWorkspace&, double* centroids) {
    const double lo = n > 0 ? sorted[0] : 0.0;
    const double hi = n > 0 ? sorted[n - 1] : 0.0;
    uniform_grid_values(fit_uniform_grid(lo, hi, bits), centroids);
  };
}

namespace {

// Target columns per task of the far update, which both threads share. The
// block's errors are packed once for all tasks, so a task costs little more
// than its GEMM, and small tasks let the two threads finish a block's far
// update close together.
constexpr int64_t kFarUpdateColumns = 128;

// The loop over blocks. After block B = [b0, b1) its feedback goes first to
// the next block [b1, b2) (the near update, one GEMM on every thread), and then
// to [b2, cols) (the far update) while the next block is being quantized: one
// thread quantizes and joins the far update when done, the other starts on it
// at once. Each target column still receives the blocks' updates in block
// order, and each task is one single-threaded GEMM on a fixed range, so the
// result does not depend on the thread count or on which thread ran a task.
class BlockLoop {
 public:
  BlockLoop(const ColumnLoopInput& in, ThreadPool* pool, ColumnLoopOutput* out)
      : in_(in), pool_(pool), out_(out), rows_(in.rows), cols_(in.cols),
        feedback_(in.inverse_factor != nullptr), quantized_(static_cast<size_t>(in.rows)) {
    const int64_t block_columns = std::min<int64_t>(in.block_size, in.cols);
    errors_.resize(feedback_ ? static_cast<size_t>(block_columns * rows_) : 0);
  }

  Status run() {
    const int64_t block_size = in_.block_size;
    for (int64_t block = 0; block < cols_; block += block_size) {
      if (in_.abort != nullptr && in_.abort->load(std::memory_order_relaxed)) {
        return Status::Aborted("quantize_layer: aborted after " + std::to_string(block) + " of " +
                               std::to_string(cols_) + " columns");
      }
      const int64_t block_end = std::min(block + block_size, cols_);
      quantize_overlapped(block, block_end);

      if (feedback_) {
        const int64_t next_end = std::min(block_end + block_size, cols_);
        packed_errors_.pack(false, block_end - block, rows_, errors_.data(), rows_, pool_);
        feed_back_packed(block, block_end, next_end, pool_);
        far_update_ = {block, block_end - block, next_end};
      }
      if (in_.progress) in_.progress(block_end, cols_);
    }
    return Status::Ok();
  }

 private:
  struct FarUpdate {
    int64_t first_source = 0;
    int64_t count = 0;  // 0: nothing pending
    int64_t first_target = 0;
  };

  // Quantizes [block, block_end) while both threads apply the pending far
  // update of the previous block.
  void quantize_overlapped(int64_t block, int64_t block_end) {
    const FarUpdate far = far_update_;
    const int64_t tasks =
        far.count == 0 ? 0 : (cols_ - far.first_target + kFarUpdateColumns - 1) / kFarUpdateColumns;
    if (tasks == 0) {
      quantize_block(block, block_end);
      return;
    }

    std::atomic<int64_t> next_task{0};
    const auto run_far_tasks = [&] {
      for (int64_t t = next_task++; t < tasks; t = next_task++) {
        const int64_t first = far.first_target + t * kFarUpdateColumns;
        const int64_t end = std::min(first + kFarUpdateColumns, cols_);
        feed_back_packed(far.first_source, first, end, nullptr);
      }
    };
    pool_->parallel_for(2, [&](int64_t begin, int64_t end) {
      for (int64_t role = begin; role < end; ++role) {
        if (role == 0) quantize_block(block, block_end);
        run_far_tasks();
      }
    });
    far_update_ = {};
  }

  // Subtracts U[sources, targets]^T * errors from W_t[targets] for the
  // target columns [first_target, target_end), with the errors of the block
  // that starts at `first_source` as packed in packed_errors_.
  void feed_back_packed(int64_t first_source, int64_t first_target, int64_t target_end,
                        ThreadPool* pool) const {
    if (target_end <= first_target) return;
    gemm_packed_b_f32(true, target_end - first_target, -1.0f,
                      in_.inverse_factor + first_source * cols_ + first_target, cols_,
                      packed_errors_, 1.0f, in_.weight_t + first_target * rows_, rows_, pool);
  }

  // Quantizes the columns of one block with feedback inside the block; the
  // block's errors go to errors_.
  void quantize_block(int64_t block, int64_t block_end) {
    float* errors = errors_.data();
    for (int64_t sub = block; sub < block_end; sub += kSubBlockColumns) {
      const int64_t sub_end = std::min(sub + kSubBlockColumns, block_end);
      for (int64_t k = sub; k < sub_end; ++k) {
        const double squared_error = in_.row_grid != nullptr ? on_row_grid(k) : quantize_column(
            in_.weight_t + k * rows_, rows_, in_.bits[k], in_.reserved_per_tail[k],
            in_.fit_codebook, ws_, out_->codes_t.get() + k * rows_, quantized_.data(),
            out_->codebooks[k], out_->reserved[k], out_);

        if (!feedback_) {
          out_->loss += 0.5 * squared_error;
          continue;
        }
        const double diagonal = in_.inverse_factor[k * cols_ + k];
        out_->loss += squared_error / (2 * diagonal * diagonal);
        feed_back_in_sub_block(in_, column_feedback_, k, sub_end, quantized_.data(),
                               errors + (k - block) * rows_);
      }
      if (feedback_) {
        feed_back_gemm(in_, sub, sub_end - sub, errors + (sub - block) * rows_, sub_end,
                       block_end, nullptr);
      }
    }
  }

  // Quantizes column k on the per-row grid (GPTQ and RTN), a code
  // assignment; returns sum (w - q)^2.
  double on_row_grid(int64_t k) {
    const Clock::time_point start = Clock::now();
    const double squared_error =
        quantize_row_grid_column(in_.weight_t + k * rows_, *in_.row_grid,
                                 out_->codes_t.get() + k * rows_, quantized_.data(),
                                 out_->codebooks[k]);
    out_->assignment_seconds += seconds_since(start);
    return squared_error;
  }

  const ColumnLoopInput& in_;
  ThreadPool* pool_;
  ColumnLoopOutput* out_;
  const int64_t rows_;
  const int64_t cols_;
  const bool feedback_;
  const ColumnFeedbackFn column_feedback_ = select_column_feedback_f32();
  ColumnWorkspace ws_;
  std::vector<float> quantized_;
  // The errors of the block being quantized. The previous block's errors were
  // packed into packed_errors_ before it, so the far update reads only that.
  WorkVector<float> errors_;
  GemmPackedB packed_errors_;
  FarUpdate far_update_;
};

}  // namespace

Status run_column_loop(const ColumnLoopInput& in, ThreadPool* pool, ColumnLoopOutput* out) {
  const Clock::time_point start = Clock::now();
  out->codes_t = WorkBuffer<uint8_t>(in.rows * in.cols);
  out->codebooks.assign(static_cast<size_t>(in.cols), {});
  out->reserved.assign(static_cast<size_t>(in.cols), {});
  out->loss = 0;
  out->kmeans_seconds = 0;
  out->reservation_seconds = 0;
  out->assignment_seconds = 0;

  BlockLoop loop(in, pool, out);
  const Status status = loop.run();
  out->update_seconds = seconds_since(start) - out->kmeans_seconds - out->reservation_seconds -
                        out->assignment_seconds;
  return status;
}

}  // namespace claq
