#include "core/llama_perplexity.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/vector_math.h"

namespace claq {
namespace {

// Rows of hidden states sent through the lm_head at once, so the logits of a
// large vocabulary (128k for Llama 3) never need a [context, vocab] buffer.
constexpr int64_t kHeadRows = 64;

}  // namespace

double token_nll(float* logits, int64_t vocab, int32_t target) {
  const double target_logit = logits[target];
  const float max_logit = max_f32(logits, vocab);
  const double total = exp_shifted_f32(logits, vocab, max_logit);
  return std::log(total) + max_logit - target_logit;
}

Status evaluate_perplexity(const LlamaModel& model, const int32_t* tokens, int64_t count,
                           const PerplexityOptions& options, ThreadPool* pool,
                           const PerplexityControl& control, PerplexityResult* result) {
  const LlamaConfig& c = model.config();
  if (count < 2) {
    return Status::InvalidArgument("perplexity: needs at least 2 tokens, got " + std::to_string(count));
  }
  if (options.context < 1 || options.context > c.max_positions) {
    return Status::InvalidArgument("perplexity: context must be in [1, " +
                                   std::to_string(c.max_positions) + "] (max_position_embeddings), got " +
                                   std::to_string(options.context));
  }
  for (int64_t i = 0; i < count; ++i) {
    if (tokens[i] < 0 || tokens[i] >= c.vocab_size) {
      return Status::InvalidArgument("perplexity: token id " + std::to_string(tokens[i]) + " at index " +
                                     std::to_string(i) + " is outside [0, " +
                                     std::to_string(c.vocab_size) + ")");
    }
  }

  const int64_t targets = count - 1;
  const int64_t windows = (targets + options.context - 1) / options.context;
  KvCache cache(c, options.context);
  std::vector<float> hidden(options.context * c.hidden_size);
  std::vector<float> logits(kHeadRows * c.vocab_size);
  *result = PerplexityResult();

  for (int64_t w = 0; w < windows; ++w) {
    const int64_t begin = w * options.context;
    const int64_t length = std::min(options.context, targets - begin);
    cache.clear();
    Status s = model.forward_hidden(tokens + begin, length, &cache, hidden.data(), pool, control.abort);
    if (!s.ok()) return s;

    for (int64_t row = 0; row < length; row += kHeadRows) {
      const int64_t rows = std::min(kHeadRows, length - row);
      s = model.logits(hidden.data() + row * c.hidden_size, rows, logits.data(), pool);
      if (!s.ok()) return s;
      for (int64_t r = 0; r < rows; ++r) {
        const int32_t target = tokens[begin + row + r + 1];
        result->nll_sum += token_nll(logits.data() + r * c.vocab_size, c.vocab_size, target);
      }
    }
    result->targets += length;
    result->windows = w + 1;
    if (control.progress) control.progress(w + 1, windows, *result);
  }
  return Status::Ok();
}

}  // namespace claq
