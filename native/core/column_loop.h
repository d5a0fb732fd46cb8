// The blocked column loop shared by CLAQ, GPTQ and RTN (internal to the
// quantizer; quantize.cc prepares its inputs). Columns are in act order.
//
// For each column k: sort its current values, reserve the tails (OR), fit a
// codebook on the rest, round the codebook and the reserved values to
// float16, assign each weight its nearest centroid (ties to the lower one),
// then feed err = (w - q) / U[k][k] back into the later columns. Feedback
// inside a block of `block_size` columns goes through sub-blocks of
// kSubBlockColumns columns. Rank-1 updates run inside a sub-block, one GEMM
// carries a sub-block's errors to the rest of its block, and GEMMs carry the
// block's errors to every later column: GPTQ's lazy batch updates, applied at
// two levels. The update of columns beyond the next block overlaps with
// quantizing the next block.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/kmeans1d.h"
#include "core/status.h"
#include "core/work_buffer.h"

namespace claq {

class ThreadPool;
struct RowGrid;

// Fits `1 << bits` ascending centroids (float64, not yet rounded) to the n
// ascending values in `sorted`.
using CodebookFitter =
    std::function<void(const float* sorted, int64_t n, int bits, KMeansWorkspace& workspace,
                       double* centroids)>;

CodebookFitter kmeans_codebook_fitter();
CodebookFitter lloyd_codebook_fitter();
CodebookFitter uniform_grid_codebook_fitter();

struct ColumnLoopInput {
  int64_t rows = 0;
  int64_t cols = 0;
  float* weight_t = nullptr;                 // [cols, rows]: current values, updated in place
  const float* inverse_factor = nullptr;     // U [cols, cols] upper; null: no error feedback
  const uint8_t* bits = nullptr;             // [cols]
  const int64_t* reserved_per_tail = nullptr;  // [cols]: OR entries at each tail
  int block_size = 128;
  CodebookFitter fit_codebook;
  const RowGrid* row_grid = nullptr;         // non-null: the per-row grid replaces fit_codebook
  const std::atomic<bool>* abort = nullptr;
  std::function<void(int64_t done, int64_t total)> progress;
};

struct ReservedEntry {
  int32_t row;
  float value;  // a float16 value
};

struct ColumnLoopOutput {
  WorkBuffer<uint8_t> codes_t;               // [cols, rows]
  std::vector<std::vector<float>> codebooks; // per column, 1 << bits float16 values
  std::vector<std::vector<ReservedEntry>> reserved;  // per column, by ascending row
  double loss = 0;
  double kmeans_seconds = 0;       // sorting and codebook fitting
  double reservation_seconds = 0;  // choosing the reserved outliers of each column
  double assignment_seconds = 0;   // codes, quantized values and squared errors
  double update_seconds = 0;       // the rest of the loop: error feedback, mostly GEMMs
};

// Runs the loop; returns Aborted when the abort flag is seen between blocks.
Status run_column_loop(const ColumnLoopInput& input, ThreadPool* pool, ColumnLoopOutput* out);

}  // namespace claq
