// The linear layers of a Llama model behind one small interface, so a dense
// float32 layer and a packed low-bit one are interchangeable in the forward
// pass. Weights follow nn.Linear: W is [out_features, in_features] row-major
// and y = x W^T, with no bias (Llama linears have none).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "kernels/packed_layout.h"
#include "kernels/row_grid_epilogue.h"

namespace claq {

class ThreadPool;

class LlamaLinear {
 public:
  virtual ~LlamaLinear() = default;

  virtual int64_t in_features() const = 0;
  virtual int64_t out_features() const = 0;

  // y[rows, out_features] = x[rows, in_features] W^T, both row-major and
  // packed (leading dimension = width). y must not alias x. pool may be null.
  // Fails only when scratch memory cannot be allocated.
  virtual Status forward(const float* x, int64_t rows, float* y, ThreadPool* pool) const = 0;
};

// A float32 weight matrix. The storage is shared, so a tied lm_head and the
// token embedding use one copy. A few rows (decoding) run as row dot
// products straight from W. More go through gemm_f32, which packs all of W
// on each call, a cost the rows share.
class DenseLinear final : public LlamaLinear {
 public:
  DenseLinear(std::shared_ptr<const std::vector<float>> weight, int64_t out_features,
              int64_t in_features);

  int64_t in_features() const override { return in_; }
  int64_t out_features() const override { return out_; }
  Status forward(const float* x, int64_t rows, float* y, ThreadPool* pool) const override;

  const float* weight() const { return weight_->data(); }

 private:
  std::shared_ptr<const std::vector<float>> weight_;
  int64_t out_;
  int64_t in_;
};

// A quantized layer in the packed kernel layout (packed_matmul.h): look-up
// table GEMV for a few rows, dequantized panels and a float32 GEMM for more,
// then the per-row grid of a gptq or rtn layer (empty for claq layers).
class PackedLlamaLinear final : public LlamaLinear {
 public:
  PackedLlamaLinear(std::shared_ptr<const PackedLayer> layer, std::shared_ptr<const PackedRowGrid> row_grid);

  int64_t in_features() const override { return layer_->cols; }
  int64_t out_features() const override { return layer_->rows; }
  Status forward(const float* x, int64_t rows, float* y, ThreadPool* pool) const override;

 private:
  std::shared_ptr<const PackedLayer> layer_;
  std::shared_ptr<const PackedRowGrid> row_grid_;
};

}  // namespace claq
