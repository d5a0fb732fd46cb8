#include "core/llama_perplexity.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/vector_math.h"

namespace claq {
namespace {

// Rows of hidden states sent through the lm_head at once, so the logits of a
// large vocabulary (128k for Llama 3) never need a [context, vocab] buffer.
constexpr int64_t kHeadRows = 64;

// Buffers of one window in flight.
struct WindowScratch {
  WindowScratch(const LlamaConfig& c, int64_t context)
      : cache(c, context), hidden(context * c.hidden_size), logits(kHeadRows * c.vocab_size) {}
  KvCache cache;
  std::vector<float> hidden;
  std::vector<float> logits;
};

// Above this many bytes of buffers per window, windows run one at a time on
// every thread instead of one per thread: a large model keeps its memory and
// its GEMMs are big enough to split, while a small model's GEMMs are too
// small to split well (stories260K: 1.18x from a second thread when its
// GEMMs are split, 1.9x when windows are).
constexpr int64_t kMaxBytesPerConcurrentWindow = int64_t{64} << 20;

int64_t concurrent_windows(const LlamaConfig& c, int64_t context, ThreadPool* pool) {
  if (pool == nullptr || pool->size() < 2) return 1;
  const int64_t activations = c.hidden_size * 4 + c.q_size() * 2 + c.kv_size() * 2 + c.intermediate_size * 2;
  const int64_t floats = c.num_layers * context * c.kv_size() * 2 + context * activations +
                         kHeadRows * c.vocab_size + context * c.hidden_size;
  return floats * 4 <= kMaxBytesPerConcurrentWindow ? pool->size() : 1;
}

// Sum of -ln p(target) over one window of `length` inputs starting at tokens.
Status window_nll_sum(const LlamaModel& model, const int32_t* tokens, int64_t length, WindowScratch* w,
                      ThreadPool* pool, const std::atomic<bool>* abort, double* nll_sum) {
  const LlamaConfig& c = model.config();
  w->cache.clear();
  Status s = model.forward_hidden(tokens, length, &w->cache, w->hidden.data(), pool, abort);
  if (!s.ok()) return s;

  const VectorMathKernels math = select_vector_math_kernels();
  double sum = 0;
  for (int64_t row = 0; row < length; row += kHeadRows) {
    const int64_t rows = std::min(kHeadRows, length - row);
    s = model.logits(w->hidden.data() + row * c.hidden_size, rows, w->logits.data(), pool);
    if (!s.ok()) return s;
    for (int64_t r = 0; r < rows; ++r) {
      sum += token_nll(math, w->logits.data() + r * c.vocab_size, c.vocab_size, tokens[row + r + 1]);
    }
  }
  *nll_sum = sum;
  return Status::Ok();
}

}  // namespace

double token_nll(const VectorMathKernels& math, float* logits, int64_t vocab, int32_t target) {
  const double target_logit = logits[target];
  const float max_logit = math.max(logits, vocab);
  const double total = math.exp_shifted(logits, vocab, max_logit);
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
  const int64_t lanes = concurrent_windows(c, options.context, pool);
  std::vector<WindowScratch> scratch;
  for (int64_t lane = 0; lane < lanes; ++lane) scratch.emplace_back(c, options.context);
  std::vector<double> window_nll(lanes);
  std::vector<Status> window_status(lanes);
  *result = PerplexityResult();

  // Rounds of `lanes` windows. With one lane the window's GEMMs use the pool;
  // with more, each window runs on one thread. The sums are added in window
  // order either way, so the result does not depend on the thread count.
  for (int64_t first = 0; first < windows; first += lanes) {
    const int64_t round = std::min(lanes, windows - first);
    auto run = [&](int64_t lane, ThreadPool* window_pool) {
      const int64_t begin = (first + lane) * options.context;
      const int64_t length = std::min(options.context, targets - begin);
      window_status[lane] = window_nll_sum(model, tokens + begin, length, &scratch[lane], window_pool,
                                           control.abort, &window_nll[lane]);
    };
    if (lanes == 1) {
      run(0, pool);
    } else {
      pool->parallel_for(round, [&](int64_t begin, int64_t end) {
        for (int64_t lane = begin; lane < end; ++lane) run(lane, nullptr);
      });
    }
    for (int64_t lane = 0; lane < round; ++lane) {
      if (!window_status[lane].ok()) return window_status[lane];
      result->nll_sum += window_nll[lane];
      result->targets += std::min(options.context, targets - (first + lane) * options.context);
    }
    result->windows = first + round;
    if (control.progress) control.progress(result->windows, windows, *result);
  }
  return Status::Ok();
}

}  // namespace claq
