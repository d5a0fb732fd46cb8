// Perplexity of a Llama model over a token stream, in non-overlapping windows.
// Window w reads tokens [w * context, w * context + context) and predicts the
// token after each of them. So every token but the first is a target exactly
// once, and the context restarts at each window. The last window is shorter
// when (count - 1) is not a multiple of context.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "core/llama_model.h"
#include "core/status.h"
#include "kernels/vector_math.h"

namespace claq {

struct PerplexityOptions {
  int64_t context = 512;
};

struct PerplexityResult {
  double nll_sum = 0;    // sum over targets of -ln p(target), in nats
  int64_t targets = 0;   // count - 1
  int64_t windows = 0;
};

struct PerplexityControl {
  // Polled between blocks of the forward pass; when set, the run returns kAborted.
  const std::atomic<bool>* abort = nullptr;
  // Called on the calling thread after each window with the totals so far.
  std::function<void(int64_t windows_done, int64_t windows_total, const PerplexityResult& partial)>
      progress;
};

// Fails when count < 2, when context is not in [1, max_position_embeddings]
// or when a token id is outside the vocabulary.
Status evaluate_perplexity(const LlamaModel& model, const int32_t* tokens, int64_t count,
                           const PerplexityOptions& options, ThreadPool* pool,
                           const PerplexityControl& control, PerplexityResult* result);

// -ln softmax(logits)[target] for one row of `vocab` logits: exp in float32
// (math.exp_shifted), the logarithm in float64. Overwrites logits.
double token_nll(const VectorMathKernels& math, float* logits, int64_t vocab, int32_t target);

}  // namespace claq
