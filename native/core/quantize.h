// The layer quantizer: CLAQ (K-Means codebook per column, Outlier Order,
// adaptive precision, outlier reservation) and the GPTQ and RTN baselines, on
// one weight matrix W [rows = out_features, cols = in_features], row-major.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/status.h"
#include "core/work_allocator.h"

namespace claq {

class ThreadPool;

enum class Method { kClaq, kGptq, kRtn };
enum class Ranking { kOutlierOrder, kHessian };

// The uniform grid of the GPTQ and RTN baselines. kRow is one min-max grid per
// output row of the original W, the standard GPTQ grid that the quantizeLayer
// requirements name (core/row_grid.h). It needs one bit width for every
// column and no OR. kColumn is a min-max grid per column, as the design notes
// describe, fit on the current column inside the loop (core/uniform_grid.h).
// It combines with AP and OR. CLAQ fits its own codebooks per column and accepts only kColumn.
// The TypeScript API defaults to kRow for gptq and rtn; this struct defaults
// to kColumn, the one value every method accepts.
enum class Grid { kColumn, kRow };

// The K-Means that fits each CLAQ codebook. kExact is the globally optimal 1-D
// K-Means; kLloyd iterates from equal-count clusters and may stop in a local
// optimum. On 4064 normal values (one 4096-row column after OR) Lloyd was
// about 6x faster at 4 centroids with 0.01 % more squared error, but had 4 %
// more error at 16 centroids (native/core/kmeans1d.h has the numbers).
enum class KMeansAlgorithm { kExact, kLloyd };

struct QuantizeOptions {
  Method method = Method::kClaq;
  Grid grid = Grid::kColumn;

  // Adaptive precision (AP): the top columns of the ranking get high_bits,
  // the rest low_bits, so that the mean code width is target_bits. Without AP
  // low_bits == high_bits == target_bits.
  int low_bits = 2;
  int high_bits = 2;
  double target_bits = 2.0;
  Ranking ranking = Ranking::kOutlierOrder;
  KMeansAlgorithm kmeans = KMeansAlgorithm::kExact;  // CLAQ only

  // Outlier reservation (OR): the top `outlier_column_fraction` of columns by
  // Outlier Order keep `outlier_high_fraction` of their weights in floating
  // point, the others `outlier_low_fraction`; 0 and 0 turn OR off.
  double outlier_column_fraction = 0.10;
  double outlier_high_fraction = 0.0;
  double outlier_low_fraction = 0.0;

  double outlier_threshold = 13.0;  // t in OO[j] = #{i : |W[i][j]| >= t * mean|W|}
  bool act_order = true;
  int block_size = 128;
  double damping = 0.01;            // lambda, relative to mean(diag H)
  int threads = 0;                  // 0: every available core
};

// Everything is in the original column order unless stated otherwise.
struct QuantizedLayerData {
  int64_t rows = 0;
  int64_t cols = 0;

  std::vector<uint8_t> bits_per_column;   // [cols]
  std::vector<int32_t> permutation;       // [cols]: permutation[k] is the column quantized k-th
  WorkVector<uint8_t> codes;              // [rows, cols] row-major, one code per byte
  std::vector<uint32_t> codebook_offsets; // [cols + 1]: column j's centroids are
  std::vector<float> codebooks;           //   codebooks[offsets[j] .. offsets[j+1]), ascending,
                                          //   2^bits[j] of them, each exactly a float16 value;
                                          //   for a row grid, the levels 0, 1, ..., 2^bits - 1

  // The row grid (Grid::kRow), else empty: [rows] each. The weight at row i
  // with code c in column j is row_scales[i] * (codebook_j[c] - row_zeros[i]).
  std::vector<float> row_scales;          // float16 values > 0
  std::vector<float> row_zeros;           // integers in [0, 2^bits - 1]

  // Reserved outliers sorted by column, then row. The code at a reserved
  // position is still the nearest centroid; the value replaces it.
  std::vector<int32_t> outlier_rows;
  std::vector<int32_t> outlier_cols;
  std::vector<float> outlier_values;      // exactly float16 values

  struct Stats {
    double loss = 0;           // sum over columns of sum_i (w - q)^2 / (2 U[j][j]^2);
                               // RTN, which has no U, reports sum (w - q)^2 / 2
    double damping = 0;        // lambda actually used (0 for RTN)
    int64_t dead_columns = 0;
    int64_t outlier_count = 0;
    double seconds = 0;
    double factorization_seconds = 0;  // damping, Cholesky and the inverse factor
    double kmeans_seconds = 0;         // sorting and codebook fitting (the 1-D K-Means)
    double reservation_seconds = 0;    // choosing the reserved outliers (OR)
    double assignment_seconds = 0;     // codes, quantized values and squared errors
    double update_seconds = 0;         // the rest of the column loop (error feedback); the
                                       // far update overlaps the column steps on a second thread
  } stats;
};

struct QuantizeControl {
  // Polled between column blocks; when set, quantize_layer returns kAborted.
  const std::atomic<bool>* abort = nullptr;
  // Called from the calling thread after each block with columns done and total.
  std::function<void(int64_t done, int64_t total)> progress;
  // Set by a caller that has already found the weights and hessian_scale *
  // hessian finite: quantize_layer then skips its own scan of both.
  bool inputs_finite = false;
  // Threads to run on, instead of a pool of options.threads threads started
  // for the call (and stopped after it). A pool kept across calls keeps its
  // threads' GEMM packing buffers too. Results do not depend on its size.
  ThreadPool* pool = nullptr;
};

// Quantizes W. `hessian` is H = (2/n) sum x x^T, [cols, cols] row-major in
// float64; it may be null only for Method::kRtn. Neither input is modified.
Status quantize_layer(const float* weight, int64_t rows, int64_t cols, const double* hessian,
                      const QuantizeOptions& options, const QuantizeControl& control,
                      QuantizedLayerData* out);

// The same with H = hessian_scale * hessian, where `hessian` is full and
// symmetric: a HessianAccumulator's Gram matrix with hessian_scale = 2 / n is
// read in place, without a scaled float64 copy. Results equal those for the
// matrix of HessianAccumulator::hessian bit for bit.
Status quantize_layer(const float* weight, int64_t rows, int64_t cols, const double* hessian,
                      double hessian_scale, const QuantizeOptions& options,
                      const QuantizeControl& control, QuantizedLayerData* out);

// Checks every option and shape; quantize_layer calls it first.
Status validate_quantize_options(const QuantizeOptions& options, int64_t rows, int64_t cols,
                                 bool has_hessian);

}  // namespace claq
