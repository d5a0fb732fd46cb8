#include "core/llama_rope.h"

#include <cmath>

namespace claq {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Llama 3.1 scaling (the "llama3" rope_type of HF transformers): wavelengths
// shorter than original_max / high_freq_factor keep their frequency, those
// longer than original_max / low_freq_factor are divided by factor, and the
// band between is interpolated linearly in original_max / wavelength.
double llama3_scaled(const LlamaConfig& c, double frequency) {
  const double original = static_cast<double>(c.rope_original_max_positions);
  const double wavelength = kTwoPi / frequency;
  const double low_freq_wavelength = original / c.rope_low_freq_factor;
  const double high_freq_wavelength = original / c.rope_high_freq_factor;
  if (wavelength < high_freq_wavelength) return frequency;
  if (wavelength > low_freq_wavelength) return frequency / c.rope_factor;
  const double smooth = (original / wavelength - c.rope_low_freq_factor) /
                        (c.rope_high_freq_factor - c.rope_low_freq_factor);
  return (1 - smooth) * frequency / c.rope_factor + smooth * frequency;
}

}  // namespace

std::vector<double> rope_inverse_frequencies(const LlamaConfig& c) {
  const int64_t half = c.head_dim / 2;
  std::vector<double> result(half);
  for (int64_t i = 0; i < half; ++i) {
    const double frequency =
        1.0 / std::pow(c.rope_theta, static_cast<double>(2 * i) / static_cast<double>(c.head_dim));
    switch (c.rope_scaling) {
      case RopeScaling::kNone: result[i] = frequency; break;
      case RopeScaling::kLinear: result[i] = frequency / c.rope_factor; break;
      case RopeScaling::kLlama3: result[i] = llama3_scaled(c, frequency); break;
    }
  }
  return result;
}

RopeTable make_rope_table(const std::vector<double>& frequencies, int64_t first, int64_t count) {
  RopeTable table;
  table.first = first;
  table.half = static_cast<int64_t>(frequencies.size());
  table.cos.resize(count * table.half);
  table.sin.resize(count * table.half);
  for (int64_t p = 0; p < count; ++p) {
    for (int64_t i = 0; i < table.half; ++i) {
      const double angle = static_cast<double>(first + p) * frequencies[i];
      table.cos[p * table.half + i] = static_cast<float>(std::cos(angle));
      table.sin[p * table.half + i] = static_cast<float>(std::sin(angle));
    }
  }
  return table;
}

void apply_rope(const RopeTable& table, int64_t position, int64_t heads, float* x) {
  const int64_t half = table.half;
  const float* cos = table.cos.data() + (position - table.first) * half;
  const float* sin = table.sin.data() + (position - table.first) * half;
  for (int64_t h = 0; h < heads; ++h) {
    float* head = x + h * 2 * half;
    for (int64_t i = 0; i < half; ++i) {
      const float a = head[i];
      const float b = head[i + half];
      head[i] = a * cos[i] - b * sin[i];
      head[i + half] = b * cos[i] + a * sin[i];
    }
  }
}

}  // namespace claq
