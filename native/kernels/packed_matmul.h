// Y = X W_q^T for a packed layer (packed_layout.h): the permutation applied
// to X, the dense part by table look-up GEMV (lut_gemv.h) for few tokens or
// by dequantized panels and a float32 micro-kernel (packed_gemm.h) for
// batches, and the reserved outliers as a sparse product (GEMV) or folded
// into the panels (GEMM). A row-grid layer (gptq, rtn) gets its per-row scales
// and zero points applied last (row_grid_epilogue.h).
//
// The SIMD level is read once per call from active_simd_level(). The work is
// split over row panels (GEMV) or row tiles (GEMM) between the pool's threads.
// Scratch buffers are thread-local and reused between calls, so a call
// allocates only when it needs more scratch than the thread's last one.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "kernels/packed_layout.h"
#include "kernels/row_grid_epilogue.h"

namespace claq {

class ThreadPool;

struct PackedMatmulOptions {
  ThreadPool* pool = nullptr;    // splits the rows over its threads; null: the calling thread only
  // Batches of at least this many tokens use the GEMM path; 0 picks it from
  // the layer: 8 tokens per column look-up, so 16 for an all-2-bit layer
  // (two columns per look-up) and 8 for 3- and 4-bit layers. Measured on
  // 4096 x 4096 with AVX-512: 2 bits, 16 tokens, GEMV 2.7 ms vs GEMM 3.3 ms;
  // 4 bits, 8 tokens, GEMV 2.7 ms vs GEMM 1.7 ms (thread CPU time).
  int64_t gemm_min_tokens = 0;
  // The layer's per-row grid, applied after the product; null or empty for a
  // layer without one. Must have layer.rows entries.
  const PackedRowGrid* row_grid = nullptr;
};

// x: [tokens, layer.cols] row-major float32 in the original column order.
// y: [tokens, layer.rows] row-major; fully overwritten. x and y must not
// overlap. Float32 accumulation, with no narrower intermediate: the integer
// 3-bit tables of lut_3bit_int.h carry a power-of-two scale per block and sum
// in int32 without overflow. So finite activations as large as 1e30 give a
// finite y whenever the exact product is well inside the float32 range.
// Returns InvalidArgument for tokens < 1 or an empty (or released) layer;
// OutOfMemory when scratch buffers cannot be allocated.
Status packed_matmul(const PackedLayer& layer, const float* x, int64_t tokens, float* y,
                     const PackedMatmulOptions& options);

}  // namespace claq
