// Hyperparameters of a Llama-family decoder (Llama 1/2/3, TinyLlama, SmolLM,
// the llama2.c family), in the terms of a Hugging Face config.json.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace claq {

enum class RopeScaling {
  kNone,    // inv_freq[i] = theta^(-2i / head_dim)
  kLinear,  // every inv_freq divided by factor (position interpolation)
  kLlama3,  // Llama 3.1: long wavelengths divided by factor, a smooth ramp between
};

struct LlamaConfig {
  int64_t hidden_size = 0;        // dim of the residual stream
  int64_t intermediate_size = 0;  // width of the SwiGLU MLP
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;       // grouped-query attention: num_heads % num_kv_heads == 0
  int64_t head_dim = 0;           // even; often hidden_size / num_heads, but not always
  int64_t vocab_size = 0;
  int64_t max_positions = 0;      // max_position_embeddings: the longest context
  double norm_eps = 1e-5;         // rms_norm_eps
  double rope_theta = 10000.0;

  RopeScaling rope_scaling = RopeScaling::kNone;
  double rope_factor = 1.0;
  double rope_low_freq_factor = 1.0;   // llama3 only
  double rope_high_freq_factor = 4.0;  // llama3 only
  int64_t rope_original_max_positions = 8192;  // llama3 only

  int64_t q_size() const { return num_heads * head_dim; }
  int64_t kv_size() const { return num_kv_heads * head_dim; }
};

// Checks every field against the rules above, with a message that names the
// field and its value.
Status validate_llama_config(const LlamaConfig& config);

}  // namespace claq
