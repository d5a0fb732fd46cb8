// Causal grouped-query attention of a window of queries over a KV cache.
#pragma once

#include <cstdint>

namespace claq {

class ThreadPool;

struct AttentionShape {
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // query head h reads kv head h / (num_heads / num_kv_heads)
  int64_t head_dim = 0;
};

// q [count, num_heads * head_dim] contains the queries at positions
// start .. start + count - 1; keys and values [start + count, num_kv_heads *
// head_dim] contain every position up to the last query. Writes
// out [count, num_heads * head_dim]: for each query at position p and head h,
// softmax over positions 0..p of (q . k) / sqrt(head_dim), applied to v.
//
// Each head is two GEMMs (scores = Q K^T, out = P V) over the window; the
// positions after each query get probability 0. Heads run in parallel.
void causal_attention(const AttentionShape& shape, const float* q, int64_t count, int64_t start,
                      const float* keys, const float* values, float* out, ThreadPool* pool);

}  // namespace claq
