#include "core/llama_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/vector_math.h"
#include "core/thread_pool.h"
#include "kernels/gemm.h"

namespace claq {
namespace {

// Queries per attention step: a chunk of queries reads only the keys up to
// its last position, so causal attention does about half the work of the
// full square, and the score buffer stays small.
constexpr int64_t kQueryChunk = 64;

// Softmax of row[0, valid) in place, zeros in row[valid, width).
void causal_softmax_row(const VectorMathKernels& math, float* row, int64_t valid, int64_t width) {
  const float max_score = math.max(row, valid);
  const double total = math.exp_shifted(row, valid, max_score);
  const float inverse = static_cast<float>(1.0 / total);
  for (int64_t p = 0; p < valid; ++p) row[p] *= inverse;
  std::fill(row + valid, row + width, 0.0f);
}

}  // namespace

void causal_attention(const AttentionShape& shape, const float* q, int64_t count, int64_t start,
                      const float* keys, const float* values, float* out, ThreadPool* pool) {
  const int64_t hd = shape.head_dim;
  const int64_t q_stride = shape.num_heads * hd;
  const int64_t kv_stride = shape.num_kv_heads * hd;
  const int64_t group = shape.num_heads / shape.num_kv_heads;
  const int64_t length = start + count;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  const VectorMathKernels math = select_vector_math_kernels();

  auto run_heads = [&](int64_t begin, int64_t end) {
    std::vector<float> scores(std::min(count, kQueryChunk) * length);
    for (int64_t h = begin; h < end; ++h) {
      const int64_t kv_offset = (h / group) * hd;
      for (int64_t t0 = 0; t0 < count; t0 += kQueryChunk) {
        const int64_t rows = std::min(kQueryChunk, count - t0);
        const int64_t visible = start + t0 + rows;  // keys seen by the chunk's last query
        gemm_f32(false, true, rows, visible, hd, scale, q + t0 * q_stride + h * hd, q_stride,
                 keys + kv_offset, kv_stride, 0.0f, scores.data(), visible, nullptr);
        for (int64_t t = 0; t < rows; ++t) {
          causal_softmax_row(math, scores.data() + t * visible, start + t0 + t + 1, visible);
        }
        gemm_f32(false, false, rows, hd, visible, 1.0f, scores.data(), visible, values + kv_offset,
                 kv_stride, 0.0f, out + t0 * q_stride + h * hd, q_stride, nullptr);
      }
    }
  };
  if (pool == nullptr || shape.num_heads == 1) {
    run_heads(0, shape.num_heads);
  } else {
    pool->parallel_for(shape.num_heads, run_heads);
  }
}

}  // namespace claq
