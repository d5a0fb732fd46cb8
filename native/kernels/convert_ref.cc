#include <cstring>

#include "kernels/convert.h"
#include "kernels/simd_level.h"

namespace claq {
namespace {

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

uint16_t load_u16_le(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

void store_u16_le(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

}  // namespace

float f16_bits_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  uint32_t mantissa = h & 0x3FFu;

  if (exponent == 0x1F) {
    const uint32_t quiet = mantissa != 0 ? 0x00400000u : 0;
    return bits_float(sign | 0x7F800000u | quiet | (mantissa << 13));
  }
  if (exponent != 0) {
    return bits_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }
  if (mantissa == 0) return bits_float(sign);

  // Subnormal half: normalise. Value = mantissa * 2^-24.
  int shift = 0;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    ++shift;
  }
  const uint32_t float_exponent = static_cast<uint32_t>(113 - shift);
  return bits_float(sign | (float_exponent << 23) | ((mantissa & 0x3FFu) << 13));
}

float bf16_bits_to_f32(uint16_t b) {
  return bits_float(static_cast<uint32_t>(b) << 16);
}

uint16_t f32_to_f16_bits(float f) {
  const uint32_t u = float_bits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t exponent = (u >> 23) & 0xFFu;
  const uint32_t mantissa = u & 0x7FFFFFu;

  if (exponent == 0xFF) {
    if (mantissa == 0) return sign | 0x7C00u;
    return static_cast<uint16_t>(sign | 0x7E00u | (mantissa >> 13));
  }

  // Half exponent field for a normal result; below 1 the result is subnormal.
  const int half_exponent = static_cast<int>(exponent) - 127 + 15;
  if (half_exponent >= 0x1F) return sign | 0x7C00u;

  if (half_exponent >= 1) {
    // Round the 23-bit mantissa to 10 bits, ties to even. A carry out of the
    // mantissa moves into the exponent, which is the correct next binade (and
    // Inf after the largest one).
    uint32_t rounded = (static_cast<uint32_t>(half_exponent) << 10) | (mantissa >> 13);
    const uint32_t rest = mantissa & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (rounded & 1u))) ++rounded;
    return static_cast<uint16_t>(sign | rounded);
  }

  // Subnormal or zero result: value = significand * 2^(exponent - 150), and
  // the half subnormal unit is 2^-24, so shift right by 126 - exponent.
  if (half_exponent < -10) return sign;  // below half the smallest subnormal
  const uint32_t significand = mantissa | 0x800000u;
  const int shift = 126 - static_cast<int>(exponent);
  uint32_t rounded = significand >> shift;
  const uint32_t rest = significand & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (rounded & 1u))) ++rounded;
  return static_cast<uint16_t>(sign | rounded);
}

uint16_t f32_to_bf16_bits(float f) {
  const uint32_t u = float_bits(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
    return static_cast<uint16_t>((u >> 16) | 0x0040u);
  }
  // Adding 0x7FFF plus the lowest kept bit rounds to nearest, ties to even;
  // a carry into the exponent gives the next binade or Inf.
  const uint32_t rounded = u + 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(rounded >> 16);
}

void f16_to_f32_ref(const uint8_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = f16_bits_to_f32(load_u16_le(src + 2 * i));
}

void bf16_to_f32_ref(const uint8_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = bf16_bits_to_f32(load_u16_le(src + 2 * i));
}

void f32_to_f16_ref(const float* src, uint8_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) store_u16_le(dst + 2 * i, f32_to_f16_bits(src[i]));
}

void f32_to_bf16_ref(const float* src, uint8_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) store_u16_le(dst + 2 * i, f32_to_bf16_bits(src[i]));
}

void f16_to_f32(const uint8_t* src, float* dst, size_t n) {
  switch (active_simd_level()) {
#if defined(__x86_64__)
    case SimdLevel::kAvx512: return f16_to_f32_avx512(src, dst, n);
    case SimdLevel::kAvx2: return f16_to_f32_avx2(src, dst, n);
#endif
#if defined(__aarch64__)
    case SimdLevel::kNeon: return f16_to_f32_neon(src, dst, n);
#endif
    default: return f16_to_f32_ref(src, dst, n);
  }
}

void bf16_to_f32(const uint8_t* src, float* dst, size_t n) {
  switch (active_simd_level()) {
#if defined(__x86_64__)
    case SimdLevel::kAvx512: return bf16_to_f32_avx512(src, dst, n);
    case SimdLevel::kAvx2: return bf16_to_f32_avx2(src, dst, n);
#endif
#if defined(__aarch64__)
    case SimdLevel::kNeon: return bf16_to_f32_neon(src, dst, n);
#endif
    default: return bf16_to_f32_ref(src, dst, n);
  }
}

void f32_to_f16(const float* src, uint8_t* dst, size_t n) {
  switch (active_simd_level()) {
#if defined(__x86_64__)
    case SimdLevel::kAvx512: return f32_to_f16_avx512(src, dst, n);
    case SimdLevel::kAvx2: return f32_to_f16_avx2(src, dst, n);
#endif
#if defined(__aarch64__)
    case SimdLevel::kNeon: return f32_to_f16_neon(src, dst, n);
#endif
    default: return f32_to_f16_ref(src, dst, n);
  }
}

void f32_to_bf16(const float* src, uint8_t* dst, size_t n) {
  switch (active_simd_level()) {
#if defined(__x86_64__)
    case SimdLevel::kAvx512: return f32_to_bf16_avx512(src, dst, n);
    case SimdLevel::kAvx2: return f32_to_bf16_avx2(src, dst, n);
#endif
#if defined(__aarch64__)
    case SimdLevel::kNeon: return f32_to_bf16_neon(src, dst, n);
#endif
    default: return f32_to_bf16_ref(src, dst, n);
  }
}

}  // namespace claq
