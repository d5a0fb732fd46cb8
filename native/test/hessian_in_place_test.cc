// The Gram matrix read in place: make_symmetric mirrors the accumulated lower
// triangle and records whether it is finite, and quantize_layer with the
// scale 2 / n gives the same bytes as with the scaled copy that
// HessianAccumulator::hessian writes.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/hessian.h"
#include "core/quantize.h"
#include "test/quantize_fixtures.h"
#include "test/test_framework.h"

using namespace claq;
using namespace claq::test;

namespace {

std::vector<float> normal_floats(Rng& rng, int64_t count, double scale) {
  std::vector<float> values(static_cast<size_t>(count));
  for (float& v : values) v = static_cast<float>(rng.normal() * scale);
  return values;
}

// Per-column scales from 0.1 to 3, so act order permutes the columns.
HessianAccumulator accumulated(int64_t cols, uint64_t seed) {
  Rng rng(seed);
  HessianAccumulator acc(cols);
  for (int64_t tokens : {37, 200}) {
    std::vector<float> x = normal_floats(rng, tokens * cols, 1.0);
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t j = 0; j < cols; ++j) x[t * cols + j] *= static_cast<float>(0.1 + 2.9 * j / cols);
    }
    CHECK(acc.add(x.data(), tokens, 2).ok());
  }
  return acc;
}

bool same_layer(const QuantizedLayerData& a, const QuantizedLayerData& b) {
  const auto same_floats = [](const std::vector<float>& x, const std::vector<float>& y) {
    return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
  };
  return a.permutation == b.permutation && a.bits_per_column == b.bits_per_column && a.codes == b.codes &&
         a.codebook_offsets == b.codebook_offsets && same_floats(a.codebooks, b.codebooks) &&
         a.outlier_rows == b.outlier_rows && a.outlier_cols == b.outlier_cols &&
         same_floats(a.outlier_values, b.outlier_values) && a.stats.loss == b.stats.loss &&
         a.stats.damping == b.stats.damping;
}

}  // namespace

CLAQ_TEST(make_symmetric_mirrors_the_lower_triangle) {
  // 150 columns: two full 64-wide tiles and a partial one.
  const int64_t cols = 150;
  HessianAccumulator acc(cols);
  CHECK(acc.symmetric());
  acc = accumulated(cols, 3);
  CHECK(!acc.symmetric());
  const std::vector<double> before = acc.gram();

  acc.make_symmetric();
  CHECK(acc.symmetric());
  const std::vector<double>& gram = acc.gram();
  for (int64_t i = 0; i < cols; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      CHECK_EQ(gram[i * cols + j], before[i * cols + j]);
      CHECK_EQ(gram[j * cols + i], before[i * cols + j]);
    }
  }

  // A later add or add_gram updates the lower triangle only.
  const float x[150] = {1};
  CHECK(acc.add(x, 1, 1).ok());
  CHECK(!acc.symmetric());
  acc.make_symmetric();
  CHECK_EQ(acc.gram()[0 * cols + 0], before[0] + 1.0);
  CHECK(acc.add_gram(before.data(), 1).ok());
  CHECK(!acc.symmetric());
}

CLAQ_TEST(make_symmetric_records_whether_scaled_entries_are_finite) {
  HessianAccumulator fresh(2);
  CHECK(fresh.finite_when_scaled(2.0));

  // Entries in the lower triangle only: the strict upper one is never read.
  const double big = std::numeric_limits<double>::max() / 1.5;
  const std::vector<double> large = {1, 0, big, 1};
  HessianAccumulator acc(2);
  CHECK(acc.add_gram(large.data(), 1).ok());
  acc.make_symmetric();
  CHECK(acc.finite_when_scaled(1.0));
  CHECK(!acc.finite_when_scaled(2.0));

  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    const std::vector<double> gram = {1, 0, 0, bad};
    HessianAccumulator with_bad(2);
    CHECK(with_bad.add_gram(gram.data(), 1).ok());
    with_bad.make_symmetric();
    CHECK(!with_bad.finite_when_scaled(0.5));
  }
}

CLAQ_TEST(quantize_layer_on_the_gram_matrix_equals_the_scaled_copy) {
  const int64_t rows = 40;
  const int64_t cols = 70;
  HessianAccumulator acc = accumulated(cols, 5);
  acc.make_symmetric();
  std::vector<double> hessian(static_cast<size_t>(cols * cols));
  acc.hessian(hessian.data());
  const double scale = 2.0 / static_cast<double>(acc.samples());
  Rng rng(7);
  const std::vector<float> weight = normal_floats(rng, rows * cols, 0.02);

  QuantizeOptions ap_or = claq_options(2);
  ap_or.high_bits = 4;
  ap_or.target_bits = 2.3;
  ap_or.outlier_high_fraction = 0.05;
  ap_or.outlier_low_fraction = 0.01;
  ap_or.block_size = 16;
  QuantizeOptions hessian_ranking = gptq_options(3);
  hessian_ranking.high_bits = 4;
  hessian_ranking.target_bits = 3.5;
  hessian_ranking.ranking = Ranking::kHessian;
  for (const QuantizeOptions& options : {ap_or, hessian_ranking}) {
    QuantizedLayerData copied;
    QuantizedLayerData in_place;
    CHECK(quantize_layer(weight.data(), rows, cols, hessian.data(), options, {}, &copied).ok());
    CHECK(quantize_layer(weight.data(), rows, cols, acc.gram().data(), scale, options, {}, &in_place).ok());
    CHECK(same_layer(copied, in_place));
    // The scale matters: without it the loss is n / 2 times larger.
    QuantizedLayerData unscaled;
    CHECK(quantize_layer(weight.data(), rows, cols, acc.gram().data(), 1.0, options, {}, &unscaled).ok());
    CHECK(unscaled.stats.loss > 10 * copied.stats.loss);
  }
}

CLAQ_TEST(quantize_layer_checks_the_scaled_hessian) {
  const std::vector<float> weight = {1, -1, 0.5f, 2};
  QuantizedLayerData out;
  // Finite entries that overflow once doubled.
  const double big = std::numeric_limits<double>::max() / 1.5;
  const std::vector<double> gram = {big, 0, 0, 1};
  Status status = quantize_layer(weight.data(), 2, 2, gram.data(), 2.0, claq_options(2), {}, &out);
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(status.message().find("hessian must be finite, found inf at row 0, column 0") != std::string::npos);

  const std::vector<double> identity = {1, 0, 0, 1};
  for (double scale : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    status = quantize_layer(weight.data(), 2, 2, identity.data(), scale, claq_options(2), {}, &out);
    CHECK(status.code() == StatusCode::kInvalidArgument);
  }
  CHECK(quantize_layer(weight.data(), 2, 2, identity.data(), 0.5, claq_options(2), {}, &out).ok());
}
