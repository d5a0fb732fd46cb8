// F16/BF16 <-> F32 conversion at every supported level. Exact comparisons on
// bit patterns: the widening is checked over all 65,536 inputs against a
// float64 formula, the narrowing against a nearest-value search over the
// table of all finite halves, and every level against the scalar reference.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/convert.h"
#include "kernels/simd_level.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Independent value of a finite half: (-1)^s * 2^(e-15) * (1 + m/1024), or
// 2^-14 * m/1024 for subnormals, computed in double.
double half_value(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 31, mantissa = h & 1023;
  const double magnitude = exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
  return sign ? -magnitude : magnitude;
}

// Nearest half to x by search (ties to the even encoding); x finite.
uint16_t nearest_half(float x) {
  const double target = std::fabs(static_cast<double>(x));
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  if (target >= 65520.0) return sign | 0x7C00;  // 65504 + half an ulp rounds to Inf
  uint16_t lo = 0, hi = 0x7BFF;
  while (lo < hi) {  // largest encoding with value <= target
    const uint16_t mid = static_cast<uint16_t>((lo + hi + 1) / 2);
    if (half_value(mid) <= target) lo = mid; else hi = static_cast<uint16_t>(mid - 1);
  }
  uint16_t best = lo;
  if (lo < 0x7BFF) {
    const double below = target - half_value(lo), above = half_value(static_cast<uint16_t>(lo + 1)) - target;
    if (above < below || (above == below && (lo & 1))) best = static_cast<uint16_t>(lo + 1);
  }
  return sign | best;
}

std::vector<float> edge_floats(test::Rng& rng, size_t random_count) {
  std::vector<float> values = {0.0f, -0.0f, 1.0f, -1.0f, 65504.0f, 65519.99f, 65520.0f, -65520.0f, 1e-8f,
                               5.9604645e-08f, 2.9802322e-08f, 2.9802326e-08f, 8.940697e-08f, 6.1035156e-05f,
                               std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max(),
                               float_of(0x7FC00000u), float_of(0xFF812345u), float_of(0x7F800001u),
                               float_of(0x3F808000u), float_of(0x3F818000u), float_of(0x7F7F8000u)};
  for (size_t i = 0; i < random_count; ++i) values.push_back(float_of(static_cast<uint32_t>(rng.next())));
  // Values near half and bfloat16 rounding boundaries.
  for (size_t i = 0; i < random_count; ++i) {
    const uint32_t base = static_cast<uint32_t>(rng.next()) & 0xFFFFE000u;
    values.push_back(float_of(base | 0x1000u | (static_cast<uint32_t>(rng.next()) & 1u)));
    values.push_back(float_of((base & 0xFFFF0000u) | 0x8000u));
  }
  return values;
}

}  // namespace

CLAQ_TEST(f16_to_f32_ref_matches_float64_for_all_bit_patterns) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = f16_bits_to_f32(static_cast<uint16_t>(h));
    const int exponent = (h >> 10) & 31;
    if (exponent == 31) {
      const uint32_t expected = ((h & 0x8000u) << 16) | 0x7F800000u | ((h & 0x3FFu) << 13) |
                                ((h & 0x3FFu) != 0 ? 0x400000u : 0u);
      CHECK_EQ(bits_of(f), expected);
    } else {
      CHECK_EQ(static_cast<double>(f), half_value(static_cast<uint16_t>(h)));
      CHECK_EQ(std::signbit(f), (h & 0x8000u) != 0);
    }
  }
}

CLAQ_TEST(f32_to_f16_ref_rounds_to_nearest_even) {
  test::Rng rng(11);
  for (float x : edge_floats(rng, 20000)) {
    const uint16_t got = f32_to_f16_bits(x);
    if (std::isnan(x)) {
      CHECK_EQ(got, static_cast<uint16_t>(((bits_of(x) >> 16) & 0x8000u) | 0x7E00u | ((bits_of(x) >> 13) & 0x3FFu)));
    } else {
      CHECK_EQ(got, nearest_half(x));
    }
  }
  // Every half survives the round trip, and the midpoint between two
  // neighbours goes to the even one.
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    CHECK_EQ(f32_to_f16_bits(f16_bits_to_f32(static_cast<uint16_t>(h))), h);
    const double mid = (half_value(static_cast<uint16_t>(h)) + half_value(static_cast<uint16_t>(h + 1))) / 2;
    CHECK_EQ(f32_to_f16_bits(static_cast<float>(mid)), (h & 1) ? h + 1 : h);
  }
}

CLAQ_TEST(f32_to_bf16_ref_rounds_to_nearest_even) {
  test::Rng rng(12);
  for (float x : edge_floats(rng, 20000)) {
    const uint32_t u = bits_of(x);
    const uint16_t got = f32_to_bf16_bits(x);
    if (std::isnan(x)) {
      CHECK_EQ(got, static_cast<uint16_t>((u >> 16) | 0x40u));
      continue;
    }
    // Reference: the two candidates by truncation, compared in double.
    const uint32_t down = u & 0xFFFF0000u;
    const double below = std::fabs(static_cast<double>(x) - float_of(down));
    const uint32_t up = down + 0x10000u;
    const double above = (up & 0x7F800000u) == 0x7F800000u && (up & 0x7FFFFFu) == 0
                             ? std::ldexp(1.0, 128) - std::fabs(static_cast<double>(x))
                             : std::fabs(static_cast<double>(float_of(up)) - x);
    const bool round_up = above < below || (above == below && ((down >> 16) & 1u));
    CHECK_EQ(got, static_cast<uint16_t>((round_up ? up : down) >> 16));
  }
}

CLAQ_TEST(conversions_match_scalar_at_every_level_and_length) {
  test::Rng rng(13);
  const SimdLevel original = active_simd_level();
  std::vector<float> values = edge_floats(rng, 3000);
  std::vector<uint8_t> halves(2 * 65536);
  for (uint32_t h = 0; h < 65536; ++h) {
    halves[2 * h] = static_cast<uint8_t>(h);
    halves[2 * h + 1] = static_cast<uint8_t>(h >> 8);
  }
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    for (size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 65536}) {
      // Odd byte offsets test unaligned access.
      std::vector<uint8_t> src(2 * n + 1);
      for (size_t i = 0; i < 2 * n; ++i) src[i + 1] = halves[(2 * (i / 2) * 7919 + (i % 2)) % halves.size()];
      std::vector<float> expected(n + 1, 42.0f), got(n + 1, 42.0f);
      f16_to_f32_ref(src.data() + 1, expected.data(), n);
      f16_to_f32(src.data() + 1, got.data(), n);
      CHECK(std::memcmp(expected.data(), got.data(), 4 * (n + 1)) == 0);
      bf16_to_f32_ref(src.data() + 1, expected.data(), n);
      bf16_to_f32(src.data() + 1, got.data(), n);
      CHECK(std::memcmp(expected.data(), got.data(), 4 * (n + 1)) == 0);
    }
    for (size_t n : {size_t{0}, size_t{1}, size_t{8}, size_t{15}, size_t{16}, size_t{17}, values.size()}) {
      std::vector<uint8_t> expected(2 * n + 2, 0xAB), got(2 * n + 2, 0xAB);
      f32_to_f16_ref(values.data(), expected.data(), n);
      f32_to_f16(values.data(), got.data(), n);
      CHECK(std::memcmp(expected.data(), got.data(), expected.size()) == 0);
      f32_to_bf16_ref(values.data(), expected.data(), n);
      f32_to_bf16(values.data(), got.data(), n);
      CHECK(std::memcmp(expected.data(), got.data(), expected.size()) == 0);
    }
  }
  set_simd_level(original);
}
