// float16 conversion against a reference that searches every finite half for
// the nearest one (ties to the even bit pattern). Exact: no tolerance.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/float16.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

// Positive finite halves in ascending order: bit patterns 0 .. 0x7bff.
double half_value(uint16_t bits) {
  const int exponent = (bits >> 10) & 0x1f;
  const int mantissa = bits & 0x3ff;
  if (exponent == 0) return std::ldexp(mantissa, -24);
  return std::ldexp(1024 + mantissa, exponent - 25);
}

// Nearest half by search; beyond the largest finite half the result is
// infinity once the value reaches 65504 + half an ulp (65520).
uint16_t reference_half_bits(double x) {
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::fabs(x);
  if (a >= 65520.0) return sign | 0x7c00;
  uint16_t low = 0, high = 0x7bff;
  while (high - low > 1) {
    const uint16_t middle = static_cast<uint16_t>((low + high) / 2);
    if (half_value(middle) <= a) low = middle; else high = middle;
  }
  const double below = std::fabs(a - half_value(low));
  const double above = std::fabs(half_value(high) - a);
  uint16_t best;
  if (below < above) best = low;
  else if (above < below) best = high;
  else best = (low & 1) == 0 ? low : high;
  return sign | best;
}

}  // namespace

CLAQ_TEST(float16_round_trips_every_finite_half) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const uint16_t half = static_cast<uint16_t>(bits);
    if ((half & 0x7c00) == 0x7c00) continue;
    CHECK_EQ(float_to_half_bits(half_bits_to_float(half)), half);
  }
}

CLAQ_TEST(float16_rounds_midpoints_to_even) {
  for (uint16_t bits = 0; bits < 0x7bff; ++bits) {
    const double midpoint = 0.5 * (half_value(bits) + half_value(bits + 1));
    const float f = static_cast<float>(midpoint);  // 12 significant bits: exact
    CHECK_EQ(static_cast<double>(f), midpoint);
    const uint16_t even = (bits & 1) == 0 ? bits : static_cast<uint16_t>(bits + 1);
    CHECK_EQ(float_to_half_bits(f), even);
    CHECK_EQ(float_to_half_bits(std::nextafter(f, 0.0f)), bits);
    CHECK_EQ(float_to_half_bits(std::nextafter(f, 1e9f)), static_cast<uint16_t>(bits + 1));
    CHECK_EQ(float_to_half_bits(-f), static_cast<uint16_t>(0x8000 | even));
  }
}

CLAQ_TEST(float16_matches_nearest_search_on_random_floats) {
  test::Rng rng(11);
  for (int t = 0; t < 200000; ++t) {
    // Exponents from far below the subnormal range to beyond the largest half.
    const double magnitude = std::ldexp(rng.uniform() + 0.5, static_cast<int>(rng.next() % 48) - 30);
    const float x = static_cast<float>(rng.uniform() < 0.5 ? -magnitude : magnitude);
    const uint16_t expected = reference_half_bits(x);
    const uint16_t actual = float_to_half_bits(x);
    if (actual != expected) {
      std::ostringstream os;
      os << "x = " << x << " gives " << actual << ", expected " << expected << " (seed 11)";
      test::record_failure(__FILE__, __LINE__, os.str());
      break;
    }
  }
}

CLAQ_TEST(float16_keeps_subnormals_and_ties_tiny_values) {
  CHECK_EQ(round_to_float16(std::ldexp(1.0f, -24)), std::ldexp(1.0f, -24));
  CHECK_EQ(round_to_float16(std::ldexp(1.0f, -25)), 0.0f);                   // tie: to even 0
  CHECK_EQ(round_to_float16(std::ldexp(1.5f, -25)), std::ldexp(1.0f, -24));
  CHECK_EQ(round_to_float16(std::ldexp(3.0f, -25)), std::ldexp(1.0f, -23));  // 1.5 units: to 2
  CHECK_EQ(round_to_float16(std::ldexp(1.0f, -140)), 0.0f);
  CHECK_EQ(round_to_float16(-std::ldexp(1023.0f, -24)), -std::ldexp(1023.0f, -24));
}

CLAQ_TEST(float16_clamps_large_values_instead_of_infinity) {
  CHECK_EQ(round_to_float16(65504.0f), 65504.0f);
  CHECK_EQ(round_to_float16(65519.0f), 65504.0f);
  CHECK_EQ(round_to_float16(65520.0f), 65504.0f);
  CHECK_EQ(round_to_float16(1e30f), 65504.0f);
  CHECK_EQ(round_to_float16(-1e6f), -65504.0f);
  CHECK_EQ(float_to_half_bits(65520.0f), uint16_t{0x7c00});  // the raw conversion overflows
  CHECK(std::isnan(round_to_float16(std::nanf(""))));
}
