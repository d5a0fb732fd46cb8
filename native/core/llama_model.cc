#include "core/llama_model.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "core/llama_attention.h"
#include "core/thread_pool.h"
#include "kernels/vector_math.h"

namespace claq {
namespace {

Status check_vector(const std::vector<float>& v, int64_t expected, const std::string& name) {
  if (static_cast<int64_t>(v.size()) == expected) return Status::Ok();
  return Status::InvalidArgument("llama weights: " + name + " has " + std::to_string(v.size()) +
                                 " values, expected " + std::to_string(expected));
}

Status check_linear(const std::unique_ptr<LlamaLinear>& linear, int64_t out, int64_t in,
                    const std::string& name) {
  if (!linear) return Status::InvalidArgument("llama weights: " + name + " is missing");
  if (linear->out_features() == out && linear->in_features() == in) return Status::Ok();
  return Status::InvalidArgument("llama weights: " + name + " is [" +
                                 std::to_string(linear->out_features()) + ", " +
                                 std::to_string(linear->in_features()) + "], expected [" +
                                 std::to_string(out) + ", " + std::to_string(in) + "]");
}

Status check_weights(const LlamaConfig& c, const LlamaWeights& w) {
  if (!w.embed_tokens) return Status::InvalidArgument("llama weights: embed_tokens is missing");
  Status s = check_vector(*w.embed_tokens, c.vocab_size * c.hidden_size, "embed_tokens");
  if (!s.ok()) return s;
  if (static_cast<int64_t>(w.blocks.size()) != c.num_layers) {
    return Status::InvalidArgument("llama weights: " + std::to_string(w.blocks.size()) +
                                   " blocks, expected num_hidden_layers = " +
                                   std::to_string(c.num_layers));
  }
  for (size_t i = 0; i < w.blocks.size(); ++i) {
    const LlamaBlockWeights& b = w.blocks[i];
    const std::string prefix = "layers." + std::to_string(i) + ".";
    const int64_t d = c.hidden_size;
    for (Status t : {check_vector(b.input_norm, d, prefix + "input_layernorm"),
                     check_vector(b.post_attention_norm, d, prefix + "post_attention_layernorm"),
                     check_linear(b.q_proj, c.q_size(), d, prefix + "q_proj"),
                     check_linear(b.k_proj, c.kv_size(), d, prefix + "k_proj"),
                     check_linear(b.v_proj, c.kv_size(), d, prefix + "v_proj"),
                     check_linear(b.o_proj, d, c.q_size(), prefix + "o_proj"),
                     check_linear(b.gate_proj, c.intermediate_size, d, prefix + "gate_proj"),
                     check_linear(b.up_proj, c.intermediate_size, d, prefix + "up_proj"),
                     check_linear(b.down_proj, d, c.intermediate_size, prefix + "down_proj")}) {
      if (!t.ok()) return t;
    }
  }
  s = check_vector(w.norm, c.hidden_size, "norm");
  if (!s.ok()) return s;
  return check_linear(w.lm_head, c.vocab_size, c.hidden_size, "lm_head");
}

}  // namespace

void rms_norm_rows(const float* x, int64_t rows, int64_t cols, const float* weight, double eps,
                   float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += static_cast<double>(in[j]) * in[j];
    const float scale = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(cols) + eps));
    float* o = out + r * cols;
    for (int64_t j = 0; j < cols; ++j) o[j] = in[j] * scale * weight[j];
  }
}

KvCache::KvCache(const LlamaConfig& config, int64_t capacity, int64_t slots)
    : capacity_(capacity),
      kv_size_(config.kv_size()),
      keys_((slots < 0 ? config.num_layers : slots) * capacity * config.kv_size()),
      values_((slots < 0 ? config.num_layers : slots) * capacity * config.kv_size()) {}

// Activations of one window, [count, width] each.
struct LlamaModel::Scratch {
  std::vector<float> x;       // residual stream, hidden_size
  std::vector<float> normed;  // hidden_size
  std::vector<float> q;       // q_size
  std::vector<float> k;       // kv_size
  std::vector<float> v;       // kv_size
  std::vector<float> attended;  // q_size
  std::vector<float> delta;     // hidden_size
  std::vector<float> gate;      // intermediate_size
  std::vector<float> up;        // intermediate_size
  RopeTable rope;
};

LlamaModel::LlamaModel(const LlamaConfig& config, LlamaWeights weights)
    : config_(config), weights_(std::move(weights)), rope_frequencies_(rope_inverse_frequencies(config)) {}

Status LlamaModel::create(const LlamaConfig& config, LlamaWeights weights,
                          std::unique_ptr<LlamaModel>* out) {
  Status s = validate_llama_config(config);
  if (!s.ok()) return s;
  s = check_weights(config, weights);
  if (!s.ok()) return s;
  out->reset(new LlamaModel(config, std::move(weights)));
  return Status::Ok();
}

Status LlamaModel::forward_hidden(const int32_t* tokens, int64_t count, KvCache* cache,
                                  float* hidden, ThreadPool* pool, const std::atomic<bool>* abort,
                                  const LinearInputObserver* observer) const {
  const LlamaConfig& c = config_;
  const int64_t start = cache->length();
  if (count < 0 || start + count > cache->capacity()) {
    return Status::InvalidArgument("llama forward: " + std::to_string(count) + " tokens at position " +
                                   std::to_string(start) + " exceed the KV cache capacity " +
                                   std::to_string(cache->capacity()));
  }
  for (int64_t t = 0; t < count; ++t) {
    if (tokens[t] < 0 || tokens[t] >= c.vocab_size) {
      return Status::InvalidArgument("llama forward: token id " + std::to_string(tokens[t]) +
                                     " at index " + std::to_string(t) + " is outside [0, " +
                                     std::to_string(c.vocab_size) + ")");
    }
  }

  Scratch s;
  const int64_t d = c.hidden_size;
  allocate(&s, start, count);

  const float* embed = weights_.embed_tokens->data();
  for (int64_t t = 0; t < count; ++t) {
    std::copy_n(embed + static_cast<int64_t>(tokens[t]) * d, d, s.x.data() + t * d);
  }

  for (int64_t block = 0; block < c.num_layers; ++block) {
    if (abort != nullptr && abort->load(std::memory_order_relaxed)) {
      return Status::Aborted("llama forward: aborted");
    }
    Status status = run_block(block, block, count, cache, &s, pool, observer);
    if (!status.ok()) return status;
  }
  cache->length_ = start + count;

  if (hidden != nullptr) {
    rms_norm_rows(s.x.data(), count, d, weights_.norm.data(), c.norm_eps, hidden);
  }
  return Status::Ok();
}

void LlamaModel::allocate(Scratch* s, int64_t start, int64_t count) const {
  const LlamaConfig& c = config_;
  s->x.resize(count * c.hidden_size);
  s->normed.resize(count * c.hidden_size);
  s->q.resize(count * c.q_size());
  s->k.resize(count * c.kv_size());
  s->v.resize(count * c.kv_size());
  s->attended.resize(count * c.q_size());
  s->delta.resize(count * c.hidden_size);
  s->gate.resize(count * c.intermediate_size);
  s->up.resize(count * c.intermediate_size);
  s->rope = make_rope_table(rope_frequencies_, start, count);
}

Status LlamaModel::run_block(int64_t block, int64_t slot, int64_t count, KvCache* cache, Scratch* s,
                             ThreadPool* pool, const LinearInputObserver* observer) const {
  const LlamaConfig& c = config_;
  const LlamaBlockWeights& w = weights_.blocks[block];
  const int64_t d = c.hidden_size;
  const int64_t start = cache->length();
  Status status;

  rms_norm_rows(s->x.data(), count, d, w.input_norm.data(), c.norm_eps, s->normed.data());
  if (observer) (*observer)(block, LinearInput::kAttention, s->normed.data(), count, d);
  status = w.q_proj->forward(s->normed.data(), count, s->q.data(), pool);
  if (!status.ok()) return status;
  status = w.k_proj->forward(s->normed.data(), count, s->k.data(), pool);
  if (!status.ok()) return status;
  status = w.v_proj->forward(s->normed.data(), count, s->v.data(), pool);
  if (!status.ok()) return status;

  // RoPE, then the new keys and values go to the cache at their positions.
  const int64_t kv = c.kv_size();
  float* keys = cache->keys(slot) + start * kv;
  float* values = cache->values(slot) + start * kv;
  for (int64_t t = 0; t < count; ++t) {
    apply_rope(s->rope, start + t, c.num_heads, s->q.data() + t * c.q_size());
    apply_rope(s->rope, start + t, c.num_kv_heads, s->k.data() + t * kv);
  }
  std::copy(s->k.begin(), s->k.end(), keys);
  std::copy(s->v.begin(), s->v.end(), values);

  const AttentionShape shape{c.num_heads, c.num_kv_heads, c.head_dim};
  causal_attention(shape, s->q.data(), count, start, cache->keys(slot), cache->values(slot),
                   s->attended.data(), pool);
  if (observer) (*observer)(block, LinearInput::kOutput, s->attended.data(), count, c.q_size());
  status = w.o_proj->forward(s->attended.data(), count, s->delta.data(), pool);
  if (!status.ok()) return status;
  for (int64_t i = 0; i < count * d; ++i) s->x[i] += s->delta[i];

  rms_norm_rows(s->x.data(), count, d, w.post_attention_norm.data(), c.norm_eps, s->normed.data());
  if (observer) (*observer)(block, LinearInput::kMlp, s->normed.data(), count, d);
  status = w.gate_proj->forward(s->normed.data(), count, s->gate.data(), pool);
  if (!status.ok()) return status;
  status = w.up_proj->forward(s->normed.data(), count, s->up.data(), pool);
  if (!status.ok()) return status;
  silu_mul_f32(s->gate.data(), s->up.data(), count * c.intermediate_size);
  if (observer) (*observer)(block, LinearInput::kDown, s->gate.data(), count, c.intermediate_size);
  status = w.down_proj->forward(s->gate.data(), count, s->delta.data(), pool);
  if (!status.ok()) return status;
  for (int64_t i = 0; i < count * d; ++i) s->x[i] += s->delta[i];
  return Status::Ok();
}

Status LlamaModel::logits(const float* hidden, int64_t rows, float* logits, ThreadPool* pool) const {
  return weights_.lm_head->forward(hidden, rows, logits, pool);
}

Status LlamaModel::forward_block(int64_t block, float* x, int64_t count, ThreadPool* pool,
                                 const LinearInputObserver* observer) const {
  if (block < 0 || block >= config_.num_layers) {
    return Status::InvalidArgument("llama forward_block: block " + std::to_string(block) + " is outside [0, " +
                                   std::to_string(config_.num_layers) + ")");
  }
  if (count < 1 || count > config_.max_positions) {
    return Status::InvalidArgument("llama forward_block: " + std::to_string(count) +
                                   " positions, expected 1 to max_position_embeddings = " +
                                   std::to_string(config_.max_positions));
  }
  KvCache cache(config_, count, 1);
  Scratch s;
  allocate(&s, 0, count);
  std::copy_n(x, count * config_.hidden_size, s.x.data());
  Status status = run_block(block, 0, count, &cache, &s, pool, observer);
  if (!status.ok()) return status;
  std::copy(s.x.begin(), s.x.end(), x);
  return Status::Ok();
}

Status LlamaModel::set_linear(int64_t block, LinearName name, std::unique_ptr<LlamaLinear> linear) {
  if (block < 0 || block >= config_.num_layers) {
    return Status::InvalidArgument("llama set_linear: block " + std::to_string(block) + " is outside [0, " +
                                   std::to_string(config_.num_layers) + ")");
  }
  LlamaBlockWeights& b = weights_.blocks[block];
  std::unique_ptr<LlamaLinear>* slot = nullptr;
  switch (name) {
    case LinearName::kQ: slot = &b.q_proj; break;
    case LinearName::kK: slot = &b.k_proj; break;
    case LinearName::kV: slot = &b.v_proj; break;
    case LinearName::kO: slot = &b.o_proj; break;
    case LinearName::kGate: slot = &b.gate_proj; break;
    case LinearName::kUp: slot = &b.up_proj; break;
    case LinearName::kDown: slot = &b.down_proj; break;
  }
  Status status = check_linear(linear, (*slot)->out_features(), (*slot)->in_features(),
                               "layers." + std::to_string(block) + " replacement linear");
  if (!status.ok()) return status;
  *slot = std::move(linear);
  return Status::Ok();
}

Status LlamaModel::forward(const int32_t* tokens, int64_t count, KvCache* cache, float* logits,
                           ThreadPool* pool, const std::atomic<bool>* abort) const {
  std::vector<float> hidden(count * config_.hidden_size);
  Status s = forward_hidden(tokens, count, cache, hidden.data(), pool, abort);
  if (!s.ok()) return s;
  return this->logits(hidden.data(), count, logits, pool);
}

}  // namespace claq
