// column_feedback_f32 at every supported level against float64. The error
// is two float32 roundings from (w - q) * d, so within 2^-22 of it relative.
// Each target is one or two roundings from t - f * e, which the tolerance
// 2^-22 * (|t| + |f e|) covers, plus the error's own tolerance times |f|.
#include <cmath>
#include <vector>

#include "kernels/column_feedback.h"
#include "kernels/simd_level.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

void check_case(int64_t rows, int64_t count, test::Rng& rng) {
  const int64_t stride = rows + 3;
  std::vector<float> w(rows), q(rows), factors(count), error(rows);
  std::vector<float> targets(static_cast<size_t>(count * stride));
  for (float& v : w) v = static_cast<float>(rng.uniform() * 2 - 1);
  for (float& v : q) v = static_cast<float>(rng.uniform() * 2 - 1);
  for (float& v : factors) v = static_cast<float>(rng.uniform() * 4 - 2);
  for (float& v : targets) v = static_cast<float>(rng.uniform() * 2 - 1);
  const std::vector<float> before = targets;
  const float inverse_diagonal = 1.75f;

  select_column_feedback_f32()(w.data(), q.data(), inverse_diagonal, rows, factors.data(), count,
                               targets.data(), stride, error.data());

  for (int64_t i = 0; i < rows; ++i) {
    const double e = (static_cast<double>(w[i]) - q[i]) * inverse_diagonal;
    const double error_tolerance = std::ldexp(std::fabs(e), -22);
    CHECK_NEAR(error[i], e, error_tolerance);
    for (int64_t j = 0; j < count; ++j) {
      const double t = before[j * stride + i];
      const double f = factors[j];
      const double tolerance = std::ldexp(std::fabs(t) + std::fabs(f * e), -22) + std::fabs(f) * error_tolerance;
      CHECK_NEAR(targets[j * stride + i], t - f * e, tolerance);
    }
  }
  // The padding between targets stays as it was.
  for (int64_t j = 0; j < count; ++j) {
    for (int64_t i = rows; i < stride; ++i) CHECK_EQ(targets[j * stride + i], before[j * stride + i]);
  }
}

}  // namespace

CLAQ_TEST(column_feedback_f32_matches_float64_at_every_level) {
  test::Rng rng(21);
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    for (int64_t rows : {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 127, 129}) {
      for (int64_t count : {0, 1, 2, 15}) check_case(rows, count, rng);
    }
  }
  set_simd_level(original);
}
