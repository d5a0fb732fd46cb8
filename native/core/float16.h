// IEEE 754 binary16 ("half") conversion with round-to-nearest-even, exact for
// every float32 input, subnormal halves included. Codebooks and reserved
// outliers are stored as float16. The quantizer rounds them with these
// functions inside the column loop, so the error feedback works on the values
// that are stored.
#pragma once

#include <cstdint>
#include <cstring>

namespace claq {

constexpr float kFloat16Max = 65504.0f;

inline uint32_t float_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

inline float float_from_bits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// Rounds `kept` (the result truncated to its last kept bit) to nearest even,
// given the `dropped` low bits and the bit weight `half` of one half unit.
inline uint32_t round_nearest_even(uint32_t kept, uint32_t dropped, uint32_t half) {
  if (dropped > half || (dropped == half && (kept & 1u) != 0)) return kept + 1;
  return kept;
}

// Converts to half bits. Values too large for a half become infinity, NaN
// stays NaN (quiet).
inline uint16_t float_to_half_bits(float value) {
  const uint32_t bits = float_bits(value);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const uint32_t magnitude = bits & 0x7fffffffu;
  const uint32_t exponent = magnitude >> 23;

  if (exponent == 0xff) {
    const uint32_t nan_payload = (magnitude & 0x7fffffu) != 0 ? 0x200u : 0u;
    return static_cast<uint16_t>(sign | 0x7c00u | nan_payload);
  }

  // Normal halves have biased float exponents 113 (2^-14) to 142 (2^15). The
  // increment may carry into the exponent, which is the correct rounding, up
  // to 0x7c00 (infinity) above 65504 + half an ulp.
  if (exponent >= 113) {
    if (exponent > 142) return static_cast<uint16_t>(sign | 0x7c00u);
    const uint32_t kept = ((exponent - 112) << 10) | ((magnitude >> 13) & 0x3ffu);
    const uint32_t rounded = round_nearest_even(kept, magnitude & 0x1fffu, 0x1000u);
    return static_cast<uint16_t>(sign | (rounded > 0x7c00u ? 0x7c00u : rounded));
  }

  // Subnormal halves count units of 2^-24. A float with biased exponent e and
  // significand s (implicit bit included) is s * 2^(e - 150), that is
  // s >> (126 - e) units; at a shift of 25 or more it is below half a unit.
  if (exponent < 102) return static_cast<uint16_t>(sign);
  const uint32_t significand = (magnitude & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - exponent;
  const uint32_t kept = significand >> shift;
  const uint32_t dropped = significand & ((1u << shift) - 1);
  return static_cast<uint16_t>(sign | round_nearest_even(kept, dropped, 1u << (shift - 1)));
}

inline float half_bits_to_float(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1fu;
  const uint32_t mantissa = half & 0x3ffu;

  if (exponent == 0x1f) return float_from_bits(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) return float_from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13));

  // Subnormal or zero: mantissa * 2^-24 is exact in float32.
  const float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
  return sign != 0 ? -magnitude : magnitude;
}

// The float16 value nearest to `value`, as a float. Values beyond the largest
// finite half are clamped to +-65504 first, so a stored weight never becomes
// infinite. NaN stays NaN.
inline float round_to_float16(float value) {
  if (value > kFloat16Max) value = kFloat16Max;
  if (value < -kFloat16Max) value = -kFloat16Max;
  return half_bits_to_float(float_to_half_bits(value));
}

}  // namespace claq
