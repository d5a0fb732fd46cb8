#include "kernels/dense_f32.h"

#include <algorithm>
#include <new>
#include <string>

#include "core/thread_pool.h"
#include "kernels/packed_gemm.h"
#include "kernels/simd_level.h"

namespace claq {
namespace {

constexpr int64_t kDepth = 256;

using PanelFn = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t, bool);

struct Kernel {
  PanelFn panel;
  int token_block;
};

Kernel kernel_for(SimdLevel level) {
  switch (level) {
#if defined(__x86_64__)
    case SimdLevel::kAvx512: return {gemm_f32_panel16_avx512, kTokenBlockAvx512};
    case SimdLevel::kAvx2: return {gemm_f32_panel16_avx2, kTokenBlockAvx2};
#endif
#if defined(__aarch64__)
    case SimdLevel::kNeon: return {gemm_f32_panel16_neon, kTokenBlockNeon};
#endif
    default: return {gemm_f32_panel16_ref, kTokenBlockRef};
  }
}

}  // namespace

Status dense_f32_pack(const float* weight, int64_t rows, int64_t cols, DenseF32Layer* out) {
  if (rows < 1 || cols < 1) return Status::InvalidArgument("denseF32Pack: rows and cols must be >= 1");
  DenseF32Layer layer;
  layer.rows = rows;
  layer.cols = cols;
  layer.row_tiles = (rows + kPackedTileRows - 1) / kPackedTileRows;
  if (!layer.panels.reset(static_cast<size_t>(layer.row_tiles * cols * 16))) {
    return Status::OutOfMemory("denseF32Pack: cannot allocate the panels");
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* panel = layer.panels.data() + (r / 16) * cols * 16 + r % 16;
    for (int64_t k = 0; k < cols; ++k) panel[k * 16] = weight[r * cols + k];
  }
  *out = std::move(layer);
  return Status::Ok();
}

Status dense_f32_matmul(const DenseF32Layer& layer, const float* x, int64_t tokens, float* y, ThreadPool* pool) {
  if (tokens < 1) return Status::InvalidArgument("denseF32Matmul: tokens must be >= 1");
  const Kernel kernel = kernel_for(active_simd_level());
  auto rows = [&](int64_t begin, int64_t end) {
    thread_local AlignedArray<float> tail, x_panel;
    if (!tail.grow(static_cast<size_t>(tokens * 16)) || !x_panel.grow(static_cast<size_t>(tokens * kDepth))) {
      throw std::bad_alloc();
    }
    const bool partial_last = end * 16 > layer.rows;
    for (int64_t k = 0; k < layer.cols; k += kDepth) {
      const int64_t depth = std::min(kDepth, layer.cols - k);
      gemm_f32_pack_x(x + k, layer.cols, tokens, depth, kernel.token_block, x_panel.data());
      for (int64_t tile = begin; tile < end; ++tile) {
        const bool is_tail = partial_last && tile + 1 == end;
        float* c = is_tail ? tail.data() : y + tile * 16;
        kernel.panel(layer.panels.data() + (tile * layer.cols + k) * 16, depth, x_panel.data(), tokens, c,
                     is_tail ? 16 : layer.rows, k > 0);
      }
    }
    if (partial_last) {
      const int64_t row_begin = (end - 1) * 16;
      for (int64_t t = 0; t < tokens; ++t) {
        std::copy(tail.data() + t * 16, tail.data() + t * 16 + (layer.rows - row_begin), y + t * layer.rows + row_begin);
      }
    }
  };
  try {
    if (pool == nullptr) {
      rows(0, layer.row_tiles);
    } else {
      pool->parallel_for(layer.row_tiles, rows);
    }
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("denseF32Matmul: cannot allocate scratch");
  }
  return Status::Ok();
}

}  // namespace claq
