// row_dot_f32 at every supported level against a float64 dot product.
// Tolerance: float32 partial sums of `depth` products round with relative
// error at most about depth * 2^-24 of the sum of |W[o][k] x[t][k]|, so
// depth * 2^-23 of that sum bounds every case here.
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/row_dot.h"
#include "kernels/simd_level.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

struct Case {
  int64_t rows, depth, tokens, row_begin, row_end;
};

// Runs one case at the active level. Every y entry outside the requested
// rows must keep its NaN.
void check_case(const Case& c, test::Rng& rng) {
  std::vector<float> w(static_cast<size_t>(c.rows * c.depth));
  std::vector<float> x(static_cast<size_t>(c.tokens * c.depth));
  for (float& v : w) v = static_cast<float>(rng.uniform() * 2 - 1);
  for (float& v : x) v = static_cast<float>((rng.uniform() * 2 - 1) * 1e3);
  const int64_t ldy = c.rows + 2;
  std::vector<float> y(static_cast<size_t>(c.tokens * ldy), std::numeric_limits<float>::quiet_NaN());

  select_row_dot_f32()(w.data(), c.depth, c.row_begin, c.row_end, x.data(), c.tokens, y.data(), ldy);

  for (int64_t t = 0; t < c.tokens; ++t) {
    for (int64_t o = 0; o < ldy; ++o) {
      const float got = y[static_cast<size_t>(t * ldy + o)];
      if (o < c.row_begin || o >= c.row_end) {
        CHECK(std::isnan(got));
        continue;
      }
      double expected = 0;
      double magnitude = 0;
      for (int64_t k = 0; k < c.depth; ++k) {
        const double product = static_cast<double>(w[o * c.depth + k]) * x[t * c.depth + k];
        expected += product;
        magnitude += std::fabs(product);
      }
      CHECK_NEAR(got, expected, static_cast<double>(c.depth) * std::ldexp(magnitude, -23));
    }
  }
}

}  // namespace

CLAQ_TEST(row_dot_f32_matches_float64_at_every_level) {
  test::Rng rng(11);
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    for (int64_t depth : {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 127, 129, 1000}) {
      for (int64_t tokens : {1, 2, 3, 4, 5, 8, 9}) {
        check_case(Case{5, depth, tokens, 0, 5}, rng);
        check_case(Case{9, depth, tokens, 2, 7}, rng);
      }
    }
  }
  set_simd_level(original);
}

CLAQ_TEST(row_dot_f32_empty_row_range_writes_nothing) {
  test::Rng rng(12);
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    check_case(Case{4, 17, 3, 2, 2}, rng);
  }
  set_simd_level(original);
}
