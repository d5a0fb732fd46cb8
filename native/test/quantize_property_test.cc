// quantize_layer on many small random layers and option sets, with extreme
// values mixed in (zeros, subnormals, 1e30, equal weights) and sometimes
// dead or indefinite Hessians. Every call must either fail with a status or
// return a well-formed result. Properties checked exactly; under
// SAN=address,undefined this also checks memory safety on odd shapes.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/float16.h"
#include "core/quantize.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

float extreme_value(test::Rng& rng) {
  switch (rng.next() % 8) {
    case 0: return 0.0f;
    case 1: return 1e-30f;
    case 2: return -1e30f;
    case 3: return 1.0f;
    default: return static_cast<float>(rng.normal());
  }
}

QuantizeOptions random_options(test::Rng& rng) {
  QuantizeOptions options;
  options.method = static_cast<Method>(rng.next() % 3);
  options.low_bits = 2 + static_cast<int>(rng.next() % 3);
  options.high_bits = options.low_bits + static_cast<int>(rng.next() % (5 - options.low_bits));
  options.target_bits = options.low_bits + rng.uniform() * (options.high_bits - options.low_bits);
  options.ranking = rng.next() % 4 == 0 ? Ranking::kHessian : Ranking::kOutlierOrder;
  options.kmeans = rng.next() % 4 == 0 ? KMeansAlgorithm::kLloyd : KMeansAlgorithm::kExact;
  options.outlier_column_fraction = rng.uniform();
  options.outlier_high_fraction = 0.45 * rng.uniform();
  options.outlier_low_fraction = rng.next() % 2 == 0 ? 0.0 : 0.2 * rng.uniform();
  options.outlier_threshold = 0.5 + 4 * rng.uniform();
  options.act_order = rng.next() % 2 == 0;
  options.block_size = 1 + static_cast<int>(rng.next() % 6);
  options.threads = static_cast<int>(rng.next() % 3);
  return options;
}

// Checks the output contract of quantize.h.
void check_well_formed(const QuantizedLayerData& out, int64_t rows, int64_t cols, uint64_t seed) {
  const std::string where = " (seed " + std::to_string(seed) + ")";
  if (out.rows != rows || out.cols != cols) test::record_failure(__FILE__, __LINE__, "shape" + where);

  std::vector<int32_t> sorted_permutation = out.permutation;
  std::sort(sorted_permutation.begin(), sorted_permutation.end());
  for (int64_t k = 0; k < cols; ++k) {
    if (sorted_permutation[k] != k) test::record_failure(__FILE__, __LINE__, "permutation" + where);
  }

  for (int64_t j = 0; j < cols; ++j) {
    const int levels = 1 << out.bits_per_column[j];
    CHECK_EQ(out.codebook_offsets[j + 1] - out.codebook_offsets[j], static_cast<uint32_t>(levels));
    for (uint32_t c = out.codebook_offsets[j]; c < out.codebook_offsets[j + 1]; ++c) {
      const float value = out.codebooks[c];
      if (!std::isfinite(value) || round_to_float16(value) != value ||
          (c > out.codebook_offsets[j] && out.codebooks[c - 1] > value)) {
        test::record_failure(__FILE__, __LINE__, "codebook" + where);
      }
    }
    for (int64_t i = 0; i < rows; ++i) {
      if (out.codes[i * cols + j] >= levels) test::record_failure(__FILE__, __LINE__, "code" + where);
    }
  }

  for (size_t t = 0; t < out.outlier_values.size(); ++t) {
    const bool in_range = out.outlier_rows[t] >= 0 && out.outlier_rows[t] < rows &&
                          out.outlier_cols[t] >= 0 && out.outlier_cols[t] < cols;
    const bool ordered = t == 0 || out.outlier_cols[t - 1] < out.outlier_cols[t] ||
                         (out.outlier_cols[t - 1] == out.outlier_cols[t] &&
                          out.outlier_rows[t - 1] < out.outlier_rows[t]);
    const float value = out.outlier_values[t];
    if (!in_range || !ordered || round_to_float16(value) != value) {
      test::record_failure(__FILE__, __LINE__, "outlier" + where);
    }
  }
  CHECK_EQ(out.stats.outlier_count, static_cast<int64_t>(out.outlier_values.size()));
  CHECK(std::isfinite(out.stats.loss));
  CHECK(out.stats.loss >= 0);
}

}  // namespace

CLAQ_TEST(quantize_random_layers_are_well_formed) {
  int succeeded = 0;
  for (uint64_t seed = 1000; seed < 1300; ++seed) {
    test::Rng rng(seed);
    const int64_t rows = 1 + static_cast<int64_t>(rng.next() % 24);
    const int64_t cols = 1 + static_cast<int64_t>(rng.next() % 12);
    std::vector<float> weight(static_cast<size_t>(rows * cols));
    for (float& w : weight) w = extreme_value(rng);

    // H = X^T X over a few tokens (often rank deficient), some dead inputs,
    // sometimes a negative diagonal entry.
    const int64_t tokens = 1 + static_cast<int64_t>(rng.next() % (2 * cols + 2));
    std::vector<double> x(static_cast<size_t>(tokens * cols));
    for (double& v : x) v = rng.normal();
    std::vector<double> h(static_cast<size_t>(cols * cols), 0.0);
    for (int64_t a = 0; a < cols; ++a) {
      for (int64_t b = 0; b < cols; ++b) {
        for (int64_t t = 0; t < tokens; ++t) h[a * cols + b] += x[t * cols + a] * x[t * cols + b];
      }
    }
    const int64_t dead = static_cast<int64_t>(rng.next() % cols);
    if (rng.next() % 3 == 0) {
      for (int64_t b = 0; b < cols; ++b) h[dead * cols + b] = h[b * cols + dead] = 0;
    }
    if (rng.next() % 10 == 0) h[dead * cols + dead] = -1;

    const QuantizeOptions options = random_options(rng);
    QuantizedLayerData out;
    const Status status = quantize_layer(weight.data(), rows, cols, h.data(), options, {}, &out);
    if (status.ok()) {
      ++succeeded;
      check_well_formed(out, rows, cols, seed);
    } else if (status.code() != StatusCode::kNotPositiveDefinite &&
               status.code() != StatusCode::kInvalidArgument) {
      test::record_failure(__FILE__, __LINE__,
                           "unexpected status " + status.message() + " (seed " +
                               std::to_string(seed) + ")");
    }
  }
  CHECK(succeeded > 150);  // most random cases must quantize, not just fail
}
