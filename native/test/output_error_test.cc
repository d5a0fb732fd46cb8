// relative_output_error against ||X W^T - X Q^T||^2 / ||X W^T||^2 computed
// here in float64 from the activations themselves.
//
// Tolerance: the code rounds G = X^T X to float32 and runs a float32 GEMM, so
// each quadratic form carries a relative error of a few 1e-6; 1e-4 relative
// on the ratio leaves room, while a wrong index or a transposed G (G is
// symmetric, but only its lower triangle is passed) would be far off.
#include <cmath>
#include <limits>
#include <vector>

#include "core/output_error.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

struct Case {
  int64_t rows;
  int64_t cols;
  int64_t tokens;
  std::vector<float> x, w, q;
  std::vector<double> gram_lower;  // only j <= i filled; the upper part is NaN
};

Case make_case(int64_t rows, int64_t cols, int64_t tokens, uint64_t seed) {
  test::Rng rng(seed);
  Case c{rows, cols, tokens, {}, {}, {}, {}};
  c.x.resize(tokens * cols);
  c.w.resize(rows * cols);
  c.q.resize(rows * cols);
  for (float& v : c.x) v = static_cast<float>(rng.normal());
  for (size_t k = 0; k < c.w.size(); ++k) {
    c.w[k] = static_cast<float>(rng.normal());
    c.q[k] = c.w[k] + 0.1f * static_cast<float>(rng.normal());
  }
  c.gram_lower.assign(cols * cols, std::numeric_limits<double>::quiet_NaN());
  for (int64_t i = 0; i < cols; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      double sum = 0;
      for (int64_t t = 0; t < tokens; ++t) sum += double(c.x[t * cols + i]) * c.x[t * cols + j];
      c.gram_lower[i * cols + j] = sum;
    }
  }
  return c;
}

double brute_force_ratio(const Case& c) {
  double error = 0, reference = 0;
  for (int64_t t = 0; t < c.tokens; ++t) {
    for (int64_t i = 0; i < c.rows; ++i) {
      double y = 0, yq = 0;
      for (int64_t j = 0; j < c.cols; ++j) {
        y += double(c.x[t * c.cols + j]) * c.w[i * c.cols + j];
        yq += double(c.x[t * c.cols + j]) * c.q[i * c.cols + j];
      }
      error += (y - yq) * (y - yq);
      reference += y * y;
    }
  }
  return error / reference;
}

}  // namespace

CLAQ_TEST(relative_output_error_matches_brute_force) {
  // 300 rows cross the 256-row block; 37 and 1 columns are odd widths.
  const int64_t shapes[][3] = {{300, 37, 50}, {5, 1, 3}, {1, 64, 80}};
  for (const auto& shape : shapes) {
    const Case c = make_case(shape[0], shape[1], shape[2], 5 + shape[0]);
    for (int threads : {1, 2}) {
      double ratio = -1;
      const Status status =
          relative_output_error(c.w.data(), c.q.data(), c.rows, c.cols, c.gram_lower.data(), threads, &ratio);
      CHECK(status.ok());
      const double expected = brute_force_ratio(c);
      CHECK_NEAR(ratio, expected, 1e-4 * expected);
    }
  }
}

CLAQ_TEST(relative_output_error_edge_values) {
  Case c = make_case(4, 3, 5, 9);
  double ratio = -1;
  CHECK(relative_output_error(c.w.data(), c.w.data(), 4, 3, c.gram_lower.data(), 1, &ratio).ok());
  CHECK_EQ(ratio, 0.0);

  std::vector<float> zero(12, 0.0f);
  CHECK(relative_output_error(zero.data(), c.q.data(), 4, 3, c.gram_lower.data(), 1, &ratio).ok());
  CHECK(std::isinf(ratio));
  CHECK(relative_output_error(zero.data(), zero.data(), 4, 3, c.gram_lower.data(), 1, &ratio).ok());
  CHECK_EQ(ratio, 0.0);
}

CLAQ_TEST(relative_output_error_rejects_bad_arguments) {
  Case c = make_case(2, 2, 2, 3);
  double ratio = 0;
  CHECK(!relative_output_error(nullptr, c.q.data(), 2, 2, c.gram_lower.data(), 1, &ratio).ok());
  CHECK(!relative_output_error(c.w.data(), c.q.data(), 0, 2, c.gram_lower.data(), 1, &ratio).ok());
  CHECK(!relative_output_error(c.w.data(), c.q.data(), 2, 2, c.gram_lower.data(), -1, &ratio).ok());
  CHECK(relative_output_error(c.w.data(), c.q.data(), 2, 2, c.gram_lower.data(), 1, nullptr).code() ==
        StatusCode::kInvalidArgument);
}
