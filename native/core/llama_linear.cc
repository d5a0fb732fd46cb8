#include "core/llama_linear.h"

#include <utility>

#include "core/thread_pool.h"
#include "kernels/gemm.h"
#include "kernels/packed_matmul.h"
#include "kernels/row_dot.h"

namespace claq {

DenseLinear::DenseLinear(std::shared_ptr<const std::vector<float>> weight, int64_t out_features,
                         int64_t in_features)
    : weight_(std::move(weight)), out_(out_features), in_(in_features) {}

namespace {

// Up to this many rows of x, a dense layer reads W once per four rows with
// row_dot_f32 instead of packing it for gemm_f32. For a 16384 x 4096 layer
// on one Zen 5 thread, row dots took 10 ms for 1 row and 55 ms for 16, and
// gemm_f32 took 61 to 68 ms for any of 1 to 16 rows.
constexpr int64_t kMaxRowDotRows = 16;

}  // namespace

Status DenseLinear::forward(const float* x, int64_t rows, float* y, ThreadPool* pool) const {
  if (rows > kMaxRowDotRows) {
    gemm_f32(false, true, rows, out_, in_, 1.0f, x, in_, weight_->data(), in_, 0.0f, y, out_, pool);
    return Status::Ok();
  }

  const RowDotFn row_dot = select_row_dot_f32();
  const float* w = weight_->data();
  const auto run = [&](int64_t begin, int64_t end) { row_dot(w, in_, begin, end, x, rows, y, out_); };
  if (pool == nullptr) {
    run(0, out_);
  } else {
    pool->parallel_for(out_, run);
  }
  return Status::Ok();
}

PackedLlamaLinear::PackedLlamaLinear(std::shared_ptr<const PackedLayer> layer, std::shared_ptr<const PackedRowGrid> row_grid)
    : layer_(std::move(layer)), row_grid_(std::move(row_grid)) {}

Status PackedLlamaLinear::forward(const float* x, int64_t rows, float* y, ThreadPool* pool) const {
  PackedMatmulOptions options;
  options.pool = pool;
  options.row_grid = row_grid_.get();
  return packed_matmul(*layer_, x, rows, y, options);
}

}  // namespace claq
