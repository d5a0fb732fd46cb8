// Outlier Order, AP allocation and OR fractions on hand-worked cases (exact).
#include <cmath>
#include <vector>

#include "core/outlier_order.h"
#include "core/thread_pool.h"
#include "test/test_framework.h"

using namespace claq;

CLAQ_TEST(round_half_up_counts_decimal_halves_up) {
  CHECK_EQ(round_half_up(2.5), int64_t{3});
  CHECK_EQ(round_half_up(2.4999), int64_t{2});
  CHECK_EQ(round_half_up(0.5), int64_t{1});
  CHECK_EQ(round_half_up(0.0), int64_t{0});
  CHECK_EQ(round_half_up(100 * (2.05 - 2) / 2), int64_t{3});  // 2.4999999999999991 in float64
  CHECK_EQ(round_half_up(4096 * (2.05 - 2) / 2), int64_t{102});
}

CLAQ_TEST(outlier_order_counts_planted_outliers) {
  // Three columns of four rows, column-major: sum |W| = 4 + 93 + 143 = 240,
  // so mean |W| = 20 and threshold 2 gives the limit 40.
  const std::vector<float> columns = {
      1, -1, 1, 1,        // column 0: no outlier
      -50, 1, 2, 40,      // column 1: -50 and 40 (>= is inclusive)
      100, -39, 1, 3,     // column 2: 100
  };
  double sum = 0;
  for (float v : columns) sum += v < 0 ? -v : v;
  CHECK_EQ(sum, 240.0);
  const std::vector<int64_t> counts = outlier_order(columns.data(), 4, 3, 2.0);
  CHECK_EQ(counts[0], int64_t{0});
  CHECK_EQ(counts[1], int64_t{2});
  CHECK_EQ(counts[2], int64_t{1});
}

CLAQ_TEST(outlier_order_threaded_matches_brute_force) {
  // 300 columns of 77 rows, normal weights with planted large ones; threads
  // take ranges of columns, and the counts must equal a plain float64 count
  // at every thread count.
  const int64_t rows = 77, cols = 300;
  test::Rng rng(41);
  std::vector<float> columns(rows * cols);
  for (float& v : columns) v = static_cast<float>(rng.normal());
  for (int t = 0; t < 200; ++t) columns[static_cast<size_t>(rng.uniform() * rows * cols)] *= 40.0f;
  double sum = 0;
  for (float v : columns) sum += std::fabs(static_cast<double>(v));
  const double limit = 5.0 * sum / (rows * cols);
  std::vector<int64_t> expected(cols, 0);
  for (int64_t j = 0; j < cols; ++j) {
    for (int64_t i = 0; i < rows; ++i) expected[j] += std::fabs(columns[j * rows + i]) >= limit;
  }
  int64_t planted = 0;
  for (int64_t count : expected) planted += count;
  CHECK(planted > 100);
  CHECK(outlier_order(columns.data(), rows, cols, 5.0) == expected);
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    CHECK(outlier_order(columns.data(), rows, cols, 5.0, &pool) == expected);
  }
}

CLAQ_TEST(outlier_order_limit_between_two_floats) {
  // Column 1 contains 3 and the next float up, 3 + 2^-22. The threshold puts
  // the float64 limit near 3 + 2^-23, halfway between them, where rounding
  // the limit to the nearest float (3, by ties to even) would count 3 too.
  const float above = std::nextafter(3.0f, 4.0f);
  const std::vector<float> columns = {1, 1, 1, 1, 3.0f, above, 0, 0};
  const double mean = (4.0 + 3.0 + above) / 8;
  const double threshold = (3.0 + std::ldexp(1.0, -23)) / mean;
  const double limit = threshold * mean;
  CHECK(limit > 3.0);
  CHECK(limit < static_cast<double>(above));
  CHECK(static_cast<double>(static_cast<float>(limit)) == 3.0);

  const std::vector<int64_t> counts = outlier_order(columns.data(), 4, 2, threshold);
  CHECK_EQ(counts[0], int64_t{0});
  CHECK_EQ(counts[1], int64_t{1});
}

CLAQ_TEST(outlier_order_of_zero_layer_is_zero) {
  const std::vector<float> columns(12, 0.0f);
  for (int64_t count : outlier_order(columns.data(), 4, 3, 13.0)) CHECK_EQ(count, int64_t{0});
}

CLAQ_TEST(ranking_breaks_ties_by_act_order) {
  const std::vector<int32_t> ranking = rank_columns({0, 5, 5, 0, 3});
  const std::vector<int32_t> expected = {1, 2, 4, 0, 3};
  CHECK(ranking == expected);
}

CLAQ_TEST(adaptive_precision_counts_round_half_up) {
  const std::vector<int32_t> ranking = {3, 0, 4, 1, 2};  // 5 columns
  // 5 * (3.5 - 3) / (4 - 3) = 2.5 -> 3 columns at 4 bits: 3, 0, 4.
  const std::vector<uint8_t> bits = allocate_bits(ranking, 3, 4, 3.5);
  const std::vector<uint8_t> expected = {4, 3, 3, 4, 4};
  CHECK(bits == expected);

  // 5 * (2.2 - 2) / 2 = 0.5 -> 1 column.
  const std::vector<uint8_t> one = allocate_bits(ranking, 2, 4, 2.2);
  CHECK_EQ(int(one[3]), 4);
  CHECK_EQ(int(one[0]), 2);

  const std::vector<uint8_t> none = allocate_bits(ranking, 2, 4, 2.0);
  for (uint8_t b : none) CHECK_EQ(int(b), 2);
  const std::vector<uint8_t> all = allocate_bits(ranking, 2, 4, 4.0);
  for (uint8_t b : all) CHECK_EQ(int(b), 4);
  const std::vector<uint8_t> flat = allocate_bits(ranking, 3, 3, 3.0);
  for (uint8_t b : flat) CHECK_EQ(int(b), 3);
}

CLAQ_TEST(reservation_fractions_follow_ranking) {
  std::vector<int32_t> ranking;
  for (int32_t j = 19; j >= 0; --j) ranking.push_back(j);  // 20 columns
  // round(20 * 0.1) = 2 columns with the high fraction: 19 and 18.
  const std::vector<double> fractions = reservation_fractions(ranking, 0.1, 0.014, 0.004);
  for (int32_t j = 0; j < 20; ++j) CHECK_EQ(fractions[j], j >= 18 ? 0.014 : 0.004);
}

CLAQ_TEST(reserved_per_tail_rounds_half_up) {
  CHECK_EQ(reserved_per_tail(4096, 0.004), int64_t{16});  // 16.384
  CHECK_EQ(reserved_per_tail(4096, 0.014), int64_t{57});  // 57.344
  CHECK_EQ(reserved_per_tail(100, 0.005), int64_t{1});    // 0.5
  CHECK_EQ(reserved_per_tail(10, 0.04), int64_t{0});      // 0.4
  CHECK_EQ(reserved_per_tail(2, 0.49), int64_t{1});       // 0.98, at most rows / 2
  CHECK_EQ(reserved_per_tail(7, 0.0), int64_t{0});
}
