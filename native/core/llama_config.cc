#include "core/llama_config.h"

#include <cmath>
#include <string>

namespace claq {
namespace {

Status positive(const char* name, int64_t value) {
  if (value > 0) return Status::Ok();
  return Status::InvalidArgument(std::string("llama config: ") + name + " must be positive, got " +
                                 std::to_string(value));
}

Status positive_finite(const char* name, double value) {
  if (std::isfinite(value) && value > 0) return Status::Ok();
  return Status::InvalidArgument(std::string("llama config: ") + name +
                                 " must be a positive finite number, got " + std::to_string(value));
}

}  // namespace

Status validate_llama_config(const LlamaConfig& c) {
  for (Status s : {positive("hidden_size", c.hidden_size),
                   positive("intermediate_size", c.intermediate_size),
                   positive("num_hidden_layers", c.num_layers),
                   positive("num_attention_heads", c.num_heads),
                   positive("num_key_value_heads", c.num_kv_heads),
                   positive("head_dim", c.head_dim), positive("vocab_size", c.vocab_size),
                   positive("max_position_embeddings", c.max_positions),
                   positive_finite("rms_norm_eps", c.norm_eps),
                   positive_finite("rope_theta", c.rope_theta)}) {
    if (!s.ok()) return s;
  }
  if (c.num_heads % c.num_kv_heads != 0) {
    return Status::InvalidArgument("llama config: num_attention_heads (" + std::to_string(c.num_heads) +
                                   ") must be a multiple of num_key_value_heads (" +
                                   std::to_string(c.num_kv_heads) + ")");
  }
  if (c.head_dim % 2 != 0) {
    return Status::InvalidArgument("llama config: head_dim must be even for rotary embeddings, got " +
                                   std::to_string(c.head_dim));
  }
  if (c.rope_scaling != RopeScaling::kNone) {
    Status s = positive_finite("rope_scaling.factor", c.rope_factor);
    if (!s.ok()) return s;
  }
  if (c.rope_scaling == RopeScaling::kLlama3) {
    for (Status s : {positive_finite("rope_scaling.low_freq_factor", c.rope_low_freq_factor),
                     positive_finite("rope_scaling.high_freq_factor", c.rope_high_freq_factor),
                     positive("rope_scaling.original_max_position_embeddings",
                              c.rope_original_max_positions)}) {
      if (!s.ok()) return s;
    }
    if (!(c.rope_high_freq_factor > c.rope_low_freq_factor)) {
      return Status::InvalidArgument(
          "llama config: rope_scaling.high_freq_factor (" + std::to_string(c.rope_high_freq_factor) +
          ") must be greater than low_freq_factor (" + std::to_string(c.rope_low_freq_factor) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace claq
