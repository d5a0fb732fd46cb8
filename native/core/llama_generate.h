// Text generation with a Llama model: the prompt runs as one batched window,
// then one token per step, each sampled from the last logits (greedy at
// temperature 0) and fed back through the KV cache.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/llama_model.h"
#include "core/status.h"

namespace claq {

struct GenerateOptions {
  int64_t max_tokens = 256;
  // 0 picks the arg max (the lowest id among equal logits); above 0 samples
  // from softmax(logits / temperature).
  double temperature = 0;
  uint64_t seed = 0;
  // Generation ends after emitting one of these (the token is kept).
  std::vector<int32_t> stop_tokens;
};

enum class FinishReason {
  kMaxTokens,  // max_tokens were generated
  kStopToken,  // a stop token was generated
  kContext,    // the context reached max_position_embeddings
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated tokens only
  FinishReason finish = FinishReason::kMaxTokens;
  double prefill_seconds = 0;   // the prompt window and the first token
  double decode_seconds = 0;    // every later step
};

struct GenerateControl {
  const std::atomic<bool>* abort = nullptr;  // polled before each step
  std::function<void(int32_t token)> on_token;  // called on the calling thread
};

// Fails when the prompt is empty, longer than max_position_embeddings or has
// a token id outside the vocabulary, or when max_tokens < 0 or temperature is
// negative or not finite.
Status generate_tokens(const LlamaModel& model, const std::vector<int32_t>& prompt,
                       const GenerateOptions& options, ThreadPool* pool,
                       const GenerateControl& control, GenerateResult* result);

// The sampling step alone: arg max at temperature 0, otherwise a draw with
// the uniform number u in [0, 1).
int32_t sample_token(const float* logits, int64_t vocab, double temperature, double u);

}  // namespace claq
