// Float32 Y = X W^T with W pre-packed into the same 16-row panels the packed
// GEMM dequantizes into, run by the same micro-kernels (packed_gemm.h). It is
// the float32 baseline of the packed-kernel benchmarks, so both sides share
// one micro-kernel and differ only in the weight format.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "kernels/packed_layout.h"

namespace claq {

class ThreadPool;

struct DenseF32Layer {
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_tiles = 0;
  AlignedArray<float> panels;  // [row_tiles][cols][16]; rows past `rows` are zero
};

// Packs row-major W [rows, cols] (float32).
Status dense_f32_pack(const float* weight, int64_t rows, int64_t cols, DenseF32Layer* out);

// y [tokens, rows] = x [tokens, cols] W^T, split over row tiles on `pool`
// (null: the calling thread only).
Status dense_f32_matmul(const DenseF32Layer& layer, const float* x, int64_t tokens, float* y, ThreadPool* pool);

}  // namespace claq
