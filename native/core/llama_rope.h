// Rotary position embeddings in the Hugging Face "rotate half" convention:
// within each head, element i pairs with element i + head_dim / 2. llama2.c
// and Meta's original code pair 2i with 2i + 1 instead, so HF checkpoints
// have their q/k rows permuted to match this convention.
//
//   out[i]          = x[i] cos(p w_i) - x[i + h] sin(p w_i)
//   out[i + h]      = x[i + h] cos(p w_i) + x[i] sin(p w_i),   h = head_dim / 2
#pragma once

#include <cstdint>
#include <vector>

#include "core/llama_config.h"

namespace claq {

// The head_dim / 2 angular frequencies w_i, with the config's rope scaling
// applied (computed in float64).
std::vector<double> rope_inverse_frequencies(const LlamaConfig& config);

// cos and sin of p * w_i for positions [first, first + count), [count,
// head_dim / 2] each. The angles are formed in float64 and rounded once to
// float32.
struct RopeTable {
  int64_t first = 0;
  int64_t half = 0;
  std::vector<float> cos;
  std::vector<float> sin;
};
RopeTable make_rope_table(const std::vector<double>& frequencies, int64_t first, int64_t count);

// Rotates `heads` consecutive heads of one token in place, at `position`,
// which must lie in the table's range.
void apply_rope(const RopeTable& table, int64_t position, int64_t heads, float* x);

}  // namespace claq
