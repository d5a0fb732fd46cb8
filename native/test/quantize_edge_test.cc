// quantize_layer edge cases: act order, dead inputs, zero layers, damping
// retries, abort, determinism, OR selection, float16 clamping, validation.
// Expected values are exact unless a tolerance is stated.
#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "core/float16.h"
#include "core/quantize.h"
#include "core/thread_pool.h"
#include "test/quantize_fixtures.h"
#include "test/test_framework.h"

using namespace claq;
using namespace claq::test;

namespace {

// Compares bit patterns, so -0 differs from 0 and equal NaNs match. Sizes
// come first: memcmp must not read past the shorter vector, nor get the null
// data() of an empty one (UBSan rejects both).
bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool same_bytes(const QuantizedLayerData& a, const QuantizedLayerData& b) {
  return a.bits_per_column == b.bits_per_column && a.permutation == b.permutation &&
         a.codes == b.codes && a.codebook_offsets == b.codebook_offsets &&
         same_floats(a.codebooks, b.codebooks) && a.outlier_rows == b.outlier_rows &&
         a.outlier_cols == b.outlier_cols && same_floats(a.outlier_values, b.outlier_values) &&
         std::memcmp(&a.stats.loss, &b.stats.loss, sizeof(double)) == 0;
}

// A diagonal Hessian with the given diagonal.
std::vector<double> diagonal_hessian(const std::vector<double>& diagonal) {
  const size_t n = diagonal.size();
  std::vector<double> h(n * n, 0.0);
  for (size_t j = 0; j < n; ++j) h[j * n + j] = diagonal[j];
  return h;
}

}  // namespace

CLAQ_TEST(act_order_cycle_round_trips) {
  // Diagonal 2, 4, 1, 3 sorts to columns 1, 3, 0, 2: the cycle 0->1->3->2->0.
  Layer layer = make_layer(9, 4, 31);
  const std::vector<double> diagonal = {2, 4, 1, 3};
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < 4; ++b) layer.hessian[a * 4 + b] *= 0.1;  // keep it positive definite
    layer.hessian[a * 4 + a] = diagonal[a];
  }
  const QuantizeOptions options = claq_options(2);
  QuantizedLayerData out;
  CHECK(quantize_layer(layer.weight.data(), 9, 4, layer.hessian.data(), options, {}, &out).ok());
  const std::vector<int32_t> expected = {1, 3, 0, 2};
  CHECK(out.permutation == expected);

  // The same layer with its columns moved to act order beforehand and act
  // order off must give the same result, column for column.
  Layer permuted = layer;
  for (int64_t i = 0; i < 9; ++i) {
    for (int k = 0; k < 4; ++k) permuted.weight[i * 4 + k] = layer.weight[i * 4 + expected[k]];
  }
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) {
      permuted.hessian[r * 4 + c] = layer.hessian[expected[r] * 4 + expected[c]];
    }
  }
  QuantizeOptions plain = options;
  plain.act_order = false;
  QuantizedLayerData direct;
  CHECK(quantize_layer(permuted.weight.data(), 9, 4, permuted.hessian.data(), plain, {}, &direct).ok());
  const std::vector<int32_t> identity = {0, 1, 2, 3};
  CHECK(direct.permutation == identity);

  const std::vector<double> w = dequantize(out);
  const std::vector<double> v = dequantize(direct);
  for (int64_t i = 0; i < 9; ++i) {
    for (int k = 0; k < 4; ++k) CHECK_EQ(w[i * 4 + expected[k]], v[i * 4 + k]);
  }
  CHECK_EQ(out.stats.loss, direct.stats.loss);
}

CLAQ_TEST(dead_inputs_are_zeroed_and_counted) {
  Layer layer = make_layer(12, 5, 32);
  for (int j = 0; j < 5; ++j) {
    layer.hessian[2 * 5 + j] = 0;
    layer.hessian[j * 5 + 2] = 0;
  }
  QuantizedLayerData out;
  CHECK(quantize_layer(layer.weight.data(), 12, 5, layer.hessian.data(), claq_options(2), {}, &out).ok());
  CHECK_EQ(out.stats.dead_columns, int64_t{1});
  const std::vector<double> w = dequantize(out);
  for (int64_t i = 0; i < 12; ++i) CHECK_EQ(w[i * 5 + 2], 0.0);
}

CLAQ_TEST(zero_layer_quantizes_to_zero) {
  const std::vector<float> weight(7 * 3, 0.0f);
  const std::vector<double> h = diagonal_hessian({1, 2, 3});
  for (Method method : {Method::kClaq, Method::kGptq, Method::kRtn}) {
    QuantizeOptions options = claq_options(2);
    options.method = method;
    QuantizedLayerData out;
    CHECK(quantize_layer(weight.data(), 7, 3, h.data(), options, {}, &out).ok());
    for (double v : dequantize(out)) CHECK_EQ(v, 0.0);
    CHECK_EQ(out.stats.loss, 0.0);
    CHECK_EQ(out.stats.outlier_count, int64_t{0});
    for (float c : out.codebooks) CHECK(std::isfinite(c));
  }
}

CLAQ_TEST(damping_retries_up_to_lambda_one) {
  // [[1, a], [a, 1]] has eigenvalues 1 + a and 1 - a; mean(diag) = 1, so
  // lambda must exceed a - 1.
  const std::vector<float> weight = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f};
  const struct {
    double a;
    double lambda;
  } cases[] = {{0.5, 0.01}, {1.05, 0.1}, {1.5, 1.0}};
  for (const auto& c : cases) {
    const std::vector<double> h = {1, c.a, c.a, 1};
    QuantizedLayerData out;
    CHECK(quantize_layer(weight.data(), 3, 2, h.data(), claq_options(2), {}, &out).ok());
    CHECK_EQ(out.stats.damping, c.lambda);
  }

  const std::vector<double> h = {1, 2.5, 2.5, 1};
  QuantizedLayerData out;
  const Status status = quantize_layer(weight.data(), 3, 2, h.data(), claq_options(2), {}, &out);
  CHECK(status.code() == StatusCode::kNotPositiveDefinite);
  CHECK(status.message().find("lambda = 1 ") != std::string::npos);
}

CLAQ_TEST(abort_flag_stops_between_blocks) {
  const Layer layer = make_layer(16, 40, 33);
  QuantizeOptions options = claq_options(2);
  options.block_size = 8;

  std::atomic<bool> abort{true};
  QuantizeControl control;
  control.abort = &abort;
  QuantizedLayerData out;
  CHECK(quantize_layer(layer.weight.data(), 16, 40, layer.hessian.data(), options, control, &out)
            .code() == StatusCode::kAborted);

  abort = false;
  int calls = 0;
  control.progress = [&](int64_t done, int64_t total) {
    ++calls;
    CHECK_EQ(done, int64_t{8});
    CHECK_EQ(total, int64_t{40});
    abort = true;
  };
  CHECK(quantize_layer(layer.weight.data(), 16, 40, layer.hessian.data(), options, control, &out)
            .code() == StatusCode::kAborted);
  CHECK_EQ(calls, 1);
}

CLAQ_TEST(progress_reports_every_block) {
  const Layer layer = make_layer(6, 10, 34);
  QuantizeOptions options = gptq_options(2);
  options.block_size = 4;
  std::vector<int64_t> done;
  QuantizeControl control;
  control.progress = [&](int64_t d, int64_t) { done.push_back(d); };
  QuantizedLayerData out;
  CHECK(quantize_layer(layer.weight.data(), 6, 10, layer.hessian.data(), options, control, &out).ok());
  const std::vector<int64_t> expected = {4, 8, 10};
  CHECK(done == expected);
}

CLAQ_TEST(quantize_is_deterministic_across_threads) {
  // Big enough that the GEMMs split over threads, and 5 blocks, so that far
  // updates overlap with quantizing the next block.
  Layer layer = make_layer(300, 160, 35);
  layer.weight[17] = 60;  // planted outliers for OO and OR
  layer.weight[5 * 160 + 90] = -80;
  QuantizeOptions options = claq_options(2);
  options.high_bits = 4;
  options.target_bits = 2.1;
  options.outlier_high_fraction = 0.014;
  options.outlier_low_fraction = 0.004;
  options.block_size = 32;
  std::vector<QuantizedLayerData> runs(6);
  const int threads[] = {1, 1, 2, 3};
  for (int r = 0; r < 4; ++r) {
    options.threads = threads[r];
    CHECK(quantize_layer(layer.weight.data(), 300, 160, layer.hessian.data(), options, {}, &runs[r]).ok());
  }
  // A caller's pool replaces the call's own, whatever the value of options.threads,
  // and serves two calls in a row.
  ThreadPool pool(3);
  QuantizeControl on_pool;
  on_pool.pool = &pool;
  options.threads = 1;
  for (int r = 4; r < 6; ++r) {
    CHECK(quantize_layer(layer.weight.data(), 300, 160, layer.hessian.data(), options, on_pool, &runs[r]).ok());
  }
  for (int r = 1; r < 6; ++r) CHECK(same_bytes(runs[0], runs[r]));
  CHECK_EQ(runs[0].stats.outlier_count, int64_t{16 * 4 + 144 * 1} * 2);
}

CLAQ_TEST(quantize_shares_a_pool_between_threads) {
  // Two calls at once on one pool, as the addon runs two quantizeLayer
  // promises on its shared pool: each parallel loop waits for the other's.
  Layer layer = make_layer(200, 96, 41);
  QuantizeOptions options = claq_options(3);
  options.block_size = 32;
  QuantizedLayerData alone;
  CHECK(quantize_layer(layer.weight.data(), 200, 96, layer.hessian.data(), options, {}, &alone).ok());

  ThreadPool pool(2);
  QuantizeControl control;
  control.pool = &pool;
  QuantizedLayerData first, second;
  std::thread other([&] {
    CHECK(quantize_layer(layer.weight.data(), 200, 96, layer.hessian.data(), options, control, &second).ok());
  });
  CHECK(quantize_layer(layer.weight.data(), 200, 96, layer.hessian.data(), options, control, &first).ok());
  other.join();
  CHECK(same_bytes(alone, first));
  CHECK(same_bytes(alone, second));
}

CLAQ_TEST(outlier_reservation_takes_signed_tails) {
  // One column of 10 rows; fraction 0.2 reserves 2 per tail. Ties at the low
  // threshold (-3 in rows 1 and 5) go to the earlier row, at the high one (5
  // in rows 0, 4 and 6) to the later rows.
  const std::vector<float> weight = {5, -3, 0.5f, -9, 5, -3, 5, 2, 0.25f, 1.5f};
  QuantizeOptions options = claq_options(2);
  options.method = Method::kRtn;
  options.outlier_column_fraction = 1;
  options.outlier_high_fraction = 0.2;
  QuantizedLayerData out;
  CHECK(quantize_layer(weight.data(), 10, 1, nullptr, options, {}, &out).ok());
  const std::vector<int32_t> rows = {1, 3, 4, 6};
  CHECK(out.outlier_rows == rows);
  const std::vector<float> values = {-3, -9, 5, 5};
  CHECK(out.outlier_values == values);
  CHECK_EQ(out.stats.outlier_count, int64_t{4});
}

CLAQ_TEST(outlier_reservation_with_ties_inside_and_across_the_edges) {
  // 12 rows, 3 per tail. In the first column the values next to each tail's
  // edge differ from it (-1 | -0 and 4 | 6), so the tails are every value at or
  // beyond the edges, equal ones included. In the second the low edge is a zero
  // with two more zeros of either sign after it: the first rows holding a zero
  // fill the tail.
  const std::vector<std::vector<float>> columns = {
      {0.0f, -0.0f, 3, -5, -5, 7, 1, 2, 7, -1, 4, 6},
      {0.0f, -0.0f, 5, -2, 0.0f, 9, 8, 1, 3, 4, 2, 6}};
  const std::vector<std::vector<int32_t>> expected_rows = {{3, 4, 5, 8, 9, 11},
                                                           {0, 1, 3, 5, 6, 11}};
  const std::vector<std::vector<float>> expected_values = {{-5, -5, 7, 7, -1, 6},
                                                           {0, -0.0f, -2, 9, 8, 6}};
  QuantizeOptions options = claq_options(2);
  options.method = Method::kRtn;
  options.outlier_column_fraction = 1;
  options.outlier_high_fraction = 0.25;
  for (size_t c = 0; c < columns.size(); ++c) {
    QuantizedLayerData out;
    CHECK(quantize_layer(columns[c].data(), 12, 1, nullptr, options, {}, &out).ok());
    CHECK(out.outlier_rows == expected_rows[c]);
    CHECK(out.outlier_values == expected_values[c]);
    if (c == 1) CHECK(std::signbit(out.outlier_values[1]));  // row 1 keeps -0
  }
}

CLAQ_TEST(outlier_order_picks_planted_columns) {
  // Weights near 1 in magnitude; columns 3 and 7 get one weight of 500, far
  // above 13 * mean|W|, so OO ranks them first for the 4-bit share and OR.
  const int64_t rows = 64, cols = 10;
  std::vector<float> weight(rows * cols);
  Rng rng(36);
  for (float& w : weight) w = static_cast<float>(rng.uniform() + 0.5);
  weight[5 * cols + 3] = 500;
  weight[9 * cols + 7] = -500;
  weight[10 * cols + 7] = 500;
  const std::vector<double> h = diagonal_hessian({1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  QuantizeOptions options = claq_options(2);
  options.high_bits = 4;
  options.target_bits = 2.4;  // round(10 * 0.2) = 2 columns at 4 bits
  options.outlier_column_fraction = 0.1;  // 1 column with the high fraction
  options.outlier_high_fraction = 0.05;   // round(64 * 0.05) = 3 per tail
  options.outlier_low_fraction = 0.02;    // 1 per tail
  QuantizedLayerData out;
  CHECK(quantize_layer(weight.data(), rows, cols, h.data(), options, {}, &out).ok());
  for (int64_t j = 0; j < cols; ++j) CHECK_EQ(int(out.bits_per_column[j]), j == 3 || j == 7 ? 4 : 2);
  int64_t in_column_7 = 0;
  for (int32_t c : out.outlier_cols) in_column_7 += c == 7;
  CHECK_EQ(in_column_7, int64_t{6});
  CHECK_EQ(out.stats.outlier_count, int64_t{6 + 9 * 2});
}

CLAQ_TEST(large_values_clamp_to_float16_max) {
  const std::vector<float> weight = {1e6f, -2e5f, 7e4f, 3.0f, -1e6f, 65504.0f};
  for (Method method : {Method::kClaq, Method::kRtn}) {
    QuantizeOptions options = claq_options(2);
    options.method = method;
    options.outlier_column_fraction = 1;
    options.outlier_high_fraction = 0.2;  // one reserved entry per tail
    const std::vector<double> h = diagonal_hessian({1});
    QuantizedLayerData out;
    CHECK(quantize_layer(weight.data(), 6, 1, h.data(), options, {}, &out).ok());
    for (float c : out.codebooks) {
      CHECK(std::isfinite(c));
      CHECK(std::fabs(c) <= 65504.0f);
    }
    CHECK(out.outlier_values.size() == 2);
    for (float v : out.outlier_values) CHECK_EQ(std::fabs(v), 65504.0f);
    CHECK(std::isfinite(out.stats.loss));
  }
}

CLAQ_TEST(rtn_needs_no_hessian_and_keeps_column_order) {
  const Layer layer = make_layer(20, 7, 37);
  QuantizeOptions options = claq_options(3);
  options.method = Method::kRtn;
  QuantizedLayerData out;
  CHECK(quantize_layer(layer.weight.data(), 20, 7, nullptr, options, {}, &out).ok());
  for (int32_t k = 0; k < 7; ++k) CHECK_EQ(out.permutation[k], k);
  CHECK_EQ(out.stats.damping, 0.0);

  // Each weight is at its nearest grid value.
  for (int64_t i = 0; i < 20; ++i) {
    for (int64_t j = 0; j < 7; ++j) {
      const float w = layer.weight[i * 7 + j];
      const float* codebook = out.codebooks.data() + out.codebook_offsets[j];
      const float q = codebook[out.codes[i * 7 + j]];
      for (int c = 0; c < 8; ++c) CHECK(std::fabs(w - q) <= std::fabs(w - codebook[c]));
    }
  }
}

CLAQ_TEST(invalid_options_are_rejected) {
  const Layer layer = make_layer(4, 3, 38);
  const auto status_of = [&](const QuantizeOptions& options) {
    QuantizedLayerData out;
    return quantize_layer(layer.weight.data(), 4, 3, layer.hessian.data(), options, {}, &out);
  };
  QuantizeOptions options = claq_options(2);
  options.low_bits = options.high_bits = 5;
  options.target_bits = 5;
  CHECK(status_of(options).code() == StatusCode::kInvalidArgument);

  options = claq_options(2);
  options.high_bits = 4;
  options.target_bits = 4.5;
  CHECK(status_of(options).message().find("targetBits") != std::string::npos);

  options = claq_options(3);
  options.low_bits = 4;
  options.target_bits = 4;
  CHECK(status_of(options).code() == StatusCode::kInvalidArgument);  // low > high

  options = claq_options(2);
  options.outlier_low_fraction = 0.5;
  CHECK(status_of(options).message().find("outlierLowFraction") != std::string::npos);

  options = claq_options(2);
  options.damping = -1;
  CHECK(status_of(options).code() == StatusCode::kInvalidArgument);
  options.damping = NAN;
  CHECK(status_of(options).code() == StatusCode::kInvalidArgument);

  options = claq_options(2);
  options.block_size = 0;
  CHECK(status_of(options).code() == StatusCode::kInvalidArgument);
  options = claq_options(2);
  options.threads = -1;
  CHECK(status_of(options).code() == StatusCode::kInvalidArgument);
  options = claq_options(2);
  options.outlier_threshold = 0;
  CHECK(status_of(options).code() == StatusCode::kInvalidArgument);

  QuantizedLayerData out;
  CHECK(quantize_layer(layer.weight.data(), 4, 3, nullptr, claq_options(2), {}, &out).code() ==
        StatusCode::kInvalidArgument);
  CHECK(quantize_layer(layer.weight.data(), 0, 3, layer.hessian.data(), claq_options(2), {}, &out)
            .code() == StatusCode::kInvalidArgument);
}

CLAQ_TEST(non_finite_inputs_name_their_position) {
  Layer layer = make_layer(4, 3, 39);
  layer.weight[1 * 3 + 2] = NAN;
  QuantizedLayerData out;
  Status status = quantize_layer(layer.weight.data(), 4, 3, layer.hessian.data(), claq_options(2), {}, &out);
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(status.message().find("weight") != std::string::npos);
  CHECK(status.message().find("row 1, column 2") != std::string::npos);

  layer = make_layer(4, 3, 39);
  layer.hessian[2 * 3 + 0] = INFINITY;
  status = quantize_layer(layer.weight.data(), 4, 3, layer.hessian.data(), claq_options(2), {}, &out);
  CHECK(status.message().find("hessian") != std::string::npos);
  CHECK(status.message().find("row 2, column 0") != std::string::npos);
}

CLAQ_TEST(lloyd_option_never_beats_exact_on_one_column) {
  // With one column there is no feedback, so the loss is the codebook's
  // squared error over 2 U^2, and exact K-Means is optimal.
  Rng rng(40);
  std::vector<float> weight(500);
  for (float& w : weight) w = static_cast<float>(rng.normal() + (rng.uniform() < 0.3 ? 4 : 0));
  const std::vector<double> h = diagonal_hessian({1});
  for (int bits : {2, 3, 4}) {
    QuantizeOptions options = claq_options(bits);
    QuantizedLayerData exact, lloyd;
    CHECK(quantize_layer(weight.data(), 500, 1, h.data(), options, {}, &exact).ok());
    options.kmeans = KMeansAlgorithm::kLloyd;
    CHECK(quantize_layer(weight.data(), 500, 1, h.data(), options, {}, &lloyd).ok());
    // float16 rounding of the centroids may cost either fit a little.
    CHECK(exact.stats.loss <= lloyd.stats.loss * (1 + 1e-3));
    for (float c : lloyd.codebooks) CHECK_EQ(round_to_float16(c), c);
  }
}

CLAQ_TEST(hessian_ranking_uses_weight_energy_over_u) {
  // Diagonal H: U[j][j]^2 = 1 / (H[j][j] + lambda * mean(diag H)), so the
  // score is mean_i W[i][j]^2 * (H[j][j] + 0.01 * mean). Column 6 has 3x the
  // weights (score 9x), column 2 has 20x the Hessian (score about 20x).
  const int64_t rows = 32, cols = 10;
  std::vector<float> weight(rows * cols);
  Rng rng(41);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      const float sign = rng.uniform() < 0.5 ? -1.0f : 1.0f;
      weight[i * cols + j] = sign * (j == 6 ? 3.0f : 1.0f);
    }
  }
  std::vector<double> diagonal(cols, 1.0);
  diagonal[2] = 20;
  const std::vector<double> h = diagonal_hessian(diagonal);
  QuantizeOptions options = claq_options(2);
  options.ranking = Ranking::kHessian;
  options.high_bits = 4;
  options.target_bits = 2.4;  // 2 columns at 4 bits
  options.act_order = false;
  QuantizedLayerData out;
  CHECK(quantize_layer(weight.data(), rows, cols, h.data(), options, {}, &out).ok());
  for (int64_t j = 0; j < cols; ++j) CHECK_EQ(int(out.bits_per_column[j]), j == 2 || j == 6 ? 4 : 2);

  options.target_bits = 2.2;  // 1 column: the larger score, column 2
  CHECK(quantize_layer(weight.data(), rows, cols, h.data(), options, {}, &out).ok());
  for (int64_t j = 0; j < cols; ++j) CHECK_EQ(int(out.bits_per_column[j]), j == 2 ? 4 : 2);

  // OR still follows the Outlier Order: no weight reaches 13 * mean|W|, so
  // every OO is 0 and the tie rule gives the high fraction to column 0.
  options.outlier_column_fraction = 0.1;
  options.outlier_high_fraction = 0.1;  // round(32 * 0.1) = 3 per tail
  CHECK(quantize_layer(weight.data(), rows, cols, h.data(), options, {}, &out).ok());
  CHECK_EQ(out.stats.outlier_count, int64_t{6});
  for (int32_t c : out.outlier_cols) CHECK_EQ(c, 0);
}

CLAQ_TEST(centroids_equal_after_rounding_keep_codes_right) {
  // Four distinct values are the four centroids; 1e-9 and 2e-9 both round to
  // float16 0, so the codebook is {-1, 0, 0, 1}. The weight 1 must still get
  // code 3, and the two tiny weights the first of the equal centroids.
  const std::vector<float> weight = {-1.0f, 1e-9f, 2e-9f, 1.0f, 1.0f, -1.0f};
  const QuantizeOptions options = claq_options(2);
  QuantizedLayerData out;
  const std::vector<double> h = diagonal_hessian({1});
  CHECK(quantize_layer(weight.data(), 6, 1, h.data(), options, {}, &out).ok());
  const std::vector<float> codebook = {-1.0f, 0.0f, 0.0f, 1.0f};
  CHECK(out.codebooks == codebook);
  const WorkVector<uint8_t> codes = {0, 1, 1, 3, 3, 0};
  CHECK(out.codes == codes);
}

CLAQ_TEST(overflowing_feedback_is_an_error) {
  // Weights near the float32 maximum with correlated inputs: the feedback
  // adds about 0.9 * 3e38 to weights of 3e38 in column 1, beyond float32.
  const std::vector<float> weight = {3e38f, 3e38f, -3e38f, -3e38f};
  const std::vector<double> h = {1, 0.9, 0.9, 1};
  QuantizedLayerData out;
  const Status status = quantize_layer(weight.data(), 2, 2, h.data(), claq_options(2), {}, &out);
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(status.message().find("overflowed") != std::string::npos);
}
