// A Llama-family decoder: token embedding, then per block
//   x += o_proj(attention(rope(q_proj(n)), rope(k_proj(n)), v_proj(n))),  n = rmsnorm(x)
//   x += down_proj(silu(gate_proj(m)) * up_proj(m)),                      m = rmsnorm(x)
// then a final RMSNorm and the lm_head. Attention (llama_attention.h) is
// causal and grouped-query over the positions held in a KvCache.
//
// A forward call takes a window of tokens at once: every linear and every
// head's attention runs as GEMMs over the window (the batched prefill).
// Decoding is the same call with one token.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/llama_config.h"
#include "core/llama_linear.h"
#include "core/llama_rope.h"
#include "core/status.h"

namespace claq {

class ThreadPool;

struct LlamaBlockWeights {
  std::vector<float> input_norm;  // [hidden_size]
  std::unique_ptr<LlamaLinear> q_proj, k_proj, v_proj, o_proj;
  std::vector<float> post_attention_norm;  // [hidden_size]
  std::unique_ptr<LlamaLinear> gate_proj, up_proj, down_proj;
};

struct LlamaWeights {
  std::shared_ptr<const std::vector<float>> embed_tokens;  // [vocab_size, hidden_size]
  std::vector<LlamaBlockWeights> blocks;                   // [num_layers]
  std::vector<float> norm;                                 // [hidden_size]
  std::unique_ptr<LlamaLinear> lm_head;                    // may share embed_tokens (tied)
};

// Keys (after RoPE) and values of `slots` blocks (every block by default)
// for positions [0, length()).
class KvCache {
 public:
  KvCache(const LlamaConfig& config, int64_t capacity, int64_t slots = -1);

  int64_t capacity() const { return capacity_; }
  int64_t length() const { return length_; }
  void clear() { length_ = 0; }

  float* keys(int64_t block) { return keys_.data() + block * capacity_ * kv_size_; }
  float* values(int64_t block) { return values_.data() + block * capacity_ * kv_size_; }

 private:
  friend class LlamaModel;

  int64_t capacity_;
  int64_t kv_size_;
  int64_t length_ = 0;
  std::vector<float> keys_;    // [slots, capacity, kv_size]
  std::vector<float> values_;  // [slots, capacity, kv_size]
};

// The inputs of a block's linear layers, in the order the forward pass makes
// them. Quantization accumulates its Hessians from these.
enum class LinearInput {
  kAttention,  // rmsnorm output, feeds q_proj, k_proj, v_proj
  kOutput,     // attention output (heads concatenated), feeds o_proj
  kMlp,        // rmsnorm output, feeds gate_proj, up_proj
  kDown,       // silu(gate) * up, feeds down_proj
};

// The linear layers of a block, in HF names.
enum class LinearName { kQ, kK, kV, kO, kGate, kUp, kDown };

// Called from the forward pass's thread with a block's linear input:
// x is [rows, cols] row-major and only valid during the call.
using LinearInputObserver =
    std::function<void(int64_t block, LinearInput input, const float* x, int64_t rows, int64_t cols)>;

class LlamaModel {
 public:
  // Checks the config and that every tensor and linear has the shape the
  // config implies; on success *out owns the weights.
  static Status create(const LlamaConfig& config, LlamaWeights weights,
                       std::unique_ptr<LlamaModel>* out);

  const LlamaConfig& config() const { return config_; }
  LlamaWeights& weights() { return weights_; }

  // Runs tokens[0, count) at positions cache->length() onwards and appends
  // their keys and values to the cache. Writes the final-norm hidden states
  // [count, hidden_size] to `hidden` when it is not null. Fails without
  // touching the cache when a token id is out of range or the cache is too
  // short; returns kAborted when *abort is set (checked between blocks),
  // leaving the cache length unchanged.
  Status forward_hidden(const int32_t* tokens, int64_t count, KvCache* cache, float* hidden,
                        ThreadPool* pool, const std::atomic<bool>* abort = nullptr,
                        const LinearInputObserver* observer = nullptr) const;

  // logits[rows, vocab_size] = lm_head(hidden[rows, hidden_size]).
  Status logits(const float* hidden, int64_t rows, float* logits, ThreadPool* pool) const;

  // Runs one block on the residual stream x [count, hidden_size] of a
  // sequence at positions 0 .. count - 1 (its own KV cache) and updates x in
  // place. Block-by-block quantization calls it to move calibration states
  // through a block and, with an observer, to collect its linear inputs.
  Status forward_block(int64_t block, float* x, int64_t count, ThreadPool* pool,
                       const LinearInputObserver* observer) const;

  // Replaces one linear of a block, for example by a quantized one. Fails
  // when its shape differs from the one it replaces. Not safe while another
  // thread runs the model.
  Status set_linear(int64_t block, LinearName name, std::unique_ptr<LlamaLinear> linear);

  // forward_hidden followed by logits for every token: logits is [count, vocab_size].
  Status forward(const int32_t* tokens, int64_t count, KvCache* cache, float* logits,
                 ThreadPool* pool, const std::atomic<bool>* abort = nullptr) const;

 private:
  LlamaModel(const LlamaConfig& config, LlamaWeights weights);

  struct Scratch;
  // Runs block `block` with its keys and values in cache slot `slot`.
  Status run_block(int64_t block, int64_t slot, int64_t count, KvCache* cache, Scratch* s,
                   ThreadPool* pool, const LinearInputObserver* observer) const;
  void allocate(Scratch* s, int64_t start, int64_t count) const;

  LlamaConfig config_;
  LlamaWeights weights_;
  std::vector<double> rope_frequencies_;
};

// RMSNorm of each row: out = x / sqrt(mean(x^2) + eps) * weight, the mean in
// float64. out may alias x.
void rms_norm_rows(const float* x, int64_t rows, int64_t cols, const float* weight, double eps,
                   float* out);

}  // namespace claq
