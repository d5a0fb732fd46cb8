#include "core/llama_linear.h"

#include <utility>

#include "kernels/gemm.h"
#include "kernels/packed_matmul.h"

namespace claq {

DenseLinear::DenseLinear(std::shared_ptr<const std::vector<float>> weight, int64_t out_features,
                         int64_t in_features)
    : weight_(std::move(weight)), out_(out_features), in_(in_features) {}

Status DenseLinear::forward(const float* x, int64_t rows, float* y, ThreadPool* pool) const {
  gemm_f32(false, true, rows, out_, in_, 1.0f, x, in_, weight_->data(), in_, 0.0f, y, out_, pool);
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
