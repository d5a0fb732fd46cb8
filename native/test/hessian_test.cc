// HessianAccumulator against a float64 accumulation written here.
//
// Tolerance: each float32 chunk sums at most 1024 products, so an element of
// the Gram matrix has relative rounding error below 1030 * 2^-24 of
// sum_t |x_ti x_tj|, and the float64 sum of the chunks adds nothing visible.
// The check uses that bound per element. With random signs the real error is
// far smaller, but a wrong index or a lost chunk breaks the bound.
#include <cmath>
#include <limits>
#include <vector>

#include "core/hessian.h"
#include "kernels/simd_level.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

constexpr double kChunkBound = 1030.0 / (1 << 24);

}  // namespace

CLAQ_TEST(hessian_100k_tokens_match_float64) {
  const int64_t cols = 45;
  const int64_t tokens = 100003;
  test::Rng rng(11);
  std::vector<float> x(tokens * cols);
  for (float& v : x) v = static_cast<float>(rng.normal());
  for (int64_t t = 0; t < tokens; t += 97) x[t * cols + 3] *= 50.0f;  // an outlier channel

  std::vector<double> exact(cols * cols, 0.0), magnitude(cols * cols, 0.0);
  for (int64_t t = 0; t < tokens; ++t) {
    const float* row = &x[t * cols];
    for (int64_t i = 0; i < cols; ++i) {
      for (int64_t j = 0; j <= i; ++j) {
        const double product = double(row[i]) * row[j];
        exact[i * cols + j] += product;
        magnitude[i * cols + j] += std::fabs(product);
      }
    }
  }

  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    HessianAccumulator acc(cols);
    // Three uneven batches, the last on one thread.
    CHECK(acc.add(x.data(), 1500, 2).ok());
    CHECK(acc.add(x.data() + 1500 * cols, 60000, 2).ok());
    CHECK(acc.add(x.data() + 61500 * cols, tokens - 61500, 1).ok());
    CHECK_EQ(acc.samples(), tokens);

    std::vector<double> h(cols * cols, -1.0);
    acc.hessian(h.data());
    const double scale = 2.0 / tokens;
    for (int64_t i = 0; i < cols; ++i) {
      for (int64_t j = 0; j <= i; ++j) {
        const double expected = scale * exact[i * cols + j];
        const double tolerance = scale * kChunkBound * magnitude[i * cols + j];
        CHECK_NEAR(h[i * cols + j], expected, tolerance);
        CHECK_EQ(h[j * cols + i], h[i * cols + j]);
      }
    }
  }
  set_simd_level(original);
}

CLAQ_TEST(hessian_wide_layer_in_bands) {
  // 2100 columns: more than one band of the float32 scratch (4 Mi floats /
  // 2100 columns = 1984 rows per band), so the band rectangle path runs.
  const int64_t cols = 2100;
  const int64_t tokens = 3;
  test::Rng rng(12);
  std::vector<float> x(tokens * cols);
  for (float& v : x) v = static_cast<float>(rng.uniform() * 2 - 1);
  HessianAccumulator acc(cols);
  CHECK(acc.add(x.data(), tokens, 2).ok());
  const std::vector<double>& gram = acc.gram();
  int failures = 0;
  for (int64_t i = 0; i < cols && failures < 5; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      double expected = 0;
      for (int64_t t = 0; t < tokens; ++t) expected += double(x[t * cols + i]) * x[t * cols + j];
      if (std::fabs(gram[i * cols + j] - expected) > 1e-6) {
        ++failures;
        CHECK_NEAR(gram[i * cols + j], expected, 1e-6);
      }
    }
  }
  CHECK_EQ(failures, 0);
}

CLAQ_TEST(hessian_add_gram_and_empty_state) {
  const int64_t cols = 3;
  HessianAccumulator acc(cols);
  std::vector<double> h(cols * cols, 5.0);
  acc.hessian(h.data());
  for (double v : h) CHECK_EQ(v, 0.0);

  // Only the lower triangle of the Gram matrix is read.
  const std::vector<double> gram = {4, 99, 99, 2, 6, 99, 1, 3, 8};
  CHECK(acc.add_gram(gram.data(), 2).ok());
  const float x[3] = {1, 2, 3};
  CHECK(acc.add(x, 1, 1).ok());
  acc.hessian(h.data());
  const double scale = 2.0 / 3.0;
  const double expected[9] = {5, 4, 4, 4, 10, 9, 4, 9, 17};
  for (int i = 0; i < 9; ++i) CHECK_NEAR(h[i], scale * expected[i], 1e-12);
}

CLAQ_TEST(hessian_rejects_invalid_input) {
  HessianAccumulator acc(4);
  const float x[4] = {1, 2, 3, 4};
  CHECK(acc.add(nullptr, 1, 1).code() == StatusCode::kInvalidArgument);
  CHECK(acc.add(x, -1, 1).code() == StatusCode::kInvalidArgument);
  CHECK(acc.add(x, std::numeric_limits<int64_t>::max() / 2, 1).code() == StatusCode::kInvalidArgument);
  CHECK(acc.add(x, 1, -1).code() == StatusCode::kInvalidArgument);
  CHECK(acc.add_gram(nullptr, 1).code() == StatusCode::kInvalidArgument);
  const double gram[16] = {};
  CHECK(acc.add_gram(gram, -1).code() == StatusCode::kInvalidArgument);
  CHECK_EQ(acc.samples(), int64_t{0});
  CHECK(acc.add(nullptr, 0, 1).ok());

  HessianAccumulator empty(0);
  CHECK(empty.add(x, 1, 1).code() == StatusCode::kInvalidArgument);
  HessianAccumulator negative(-5);
  CHECK(negative.add(x, 1, 1).code() == StatusCode::kInvalidArgument);
}
