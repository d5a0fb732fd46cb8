#include "core/llama_generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

namespace claq {
namespace {

// splitmix64: a small seeded generator, so a seed reproduces a sample on any
// platform (std::uniform_real_distribution is not specified bit for bit).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  double uniform() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
  }

 private:
  uint64_t state_;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int32_t sample_token(const float* logits, int64_t vocab, double temperature, double u) {
  int64_t best = 0;
  for (int64_t i = 1; i < vocab; ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  if (temperature == 0) return static_cast<int32_t>(best);

  std::vector<double> weights(vocab);
  double total = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    weights[i] = std::exp((static_cast<double>(logits[i]) - logits[best]) / temperature);
    total += weights[i];
  }
  double threshold = u * total;
  for (int64_t i = 0; i < vocab; ++i) {
    threshold -= weights[i];
    if (threshold < 0) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(best);  // u * total rounded up to total
}

Status generate_tokens(const LlamaModel& model, const std::vector<int32_t>& prompt,
                       const GenerateOptions& options, ThreadPool* pool,
                       const GenerateControl& control, GenerateResult* result) {
  const LlamaConfig& c = model.config();
  const int64_t prompt_length = static_cast<int64_t>(prompt.size());
  if (prompt_length < 1 || prompt_length > c.max_positions) {
    return Status::InvalidArgument("generate: the prompt must have 1 to " +
                                   std::to_string(c.max_positions) +
                                   " tokens (max_position_embeddings), got " +
                                   std::to_string(prompt_length));
  }
  if (options.max_tokens < 0) {
    return Status::InvalidArgument("generate: max_tokens must be >= 0, got " +
                                   std::to_string(options.max_tokens));
  }
  if (!std::isfinite(options.temperature) || options.temperature < 0) {
    return Status::InvalidArgument("generate: temperature must be a finite number >= 0, got " +
                                   std::to_string(options.temperature));
  }

  *result = GenerateResult();
  const int64_t capacity = std::min(c.max_positions, prompt_length + options.max_tokens);
  KvCache cache(c, capacity);
  std::vector<float> hidden(prompt_length * c.hidden_size);
  std::vector<float> logits(c.vocab_size);
  SplitMix64 rng(options.seed);
  const auto start = std::chrono::steady_clock::now();

  Status s = model.forward_hidden(prompt.data(), prompt_length, &cache, hidden.data(), pool,
                                  control.abort);
  if (!s.ok()) return s;
  s = model.logits(hidden.data() + (prompt_length - 1) * c.hidden_size, 1, logits.data(), pool);
  if (!s.ok()) return s;

  for (int64_t step = 0; step < options.max_tokens; ++step) {
    const int32_t token = sample_token(logits.data(), c.vocab_size, options.temperature, rng.uniform());
    result->tokens.push_back(token);
    if (step == 0) result->prefill_seconds = seconds_since(start);
    if (control.on_token) control.on_token(token);

    if (std::find(options.stop_tokens.begin(), options.stop_tokens.end(), token) !=
        options.stop_tokens.end()) {
      result->finish = FinishReason::kStopToken;
      break;
    }
    if (step + 1 == options.max_tokens) break;
    if (cache.length() == c.max_positions) {
      result->finish = FinishReason::kContext;
      break;
    }
    if (control.abort != nullptr && control.abort->load(std::memory_order_relaxed)) {
      return Status::Aborted("generate: aborted");
    }
    s = model.forward_hidden(&token, 1, &cache, hidden.data(), pool, control.abort);
    if (!s.ok()) return s;
    s = model.logits(hidden.data(), 1, logits.data(), pool);
    if (!s.ok()) return s;
  }
  result->decode_seconds = seconds_since(start) - result->prefill_seconds;
  return Status::Ok();
}

}  // namespace claq
