#include "core/outlier_order.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace claq {

int64_t round_half_up(double value) {
  const double tolerance = 1e-9 * std::max(1.0, std::fabs(value));
  return static_cast<int64_t>(std::floor(value + 0.5 + tolerance));
}

std::vector<int64_t> outlier_order(const float* columns, int64_t rows, int64_t cols,
                                   double threshold) {
  std::vector<int64_t> counts(static_cast<size_t>(cols), 0);
  const int64_t size = rows * cols;
  double magnitude_sum = 0;
  for (int64_t t = 0; t < size; ++t) magnitude_sum += std::fabs(static_cast<double>(columns[t]));
  if (size == 0 || magnitude_sum == 0) return counts;

  const double limit = threshold * (magnitude_sum / static_cast<double>(size));
  for (int64_t j = 0; j < cols; ++j) {
    const float* column = columns + j * rows;
    int64_t count = 0;
    for (int64_t i = 0; i < rows; ++i) count += std::fabs(static_cast<double>(column[i])) >= limit;
    counts[j] = count;
  }
  return counts;
}

std::vector<int32_t> rank_columns(const std::vector<double>& score) {
  std::vector<int32_t> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return score[a] > score[b]; });
  return order;
}

std::vector<uint8_t> allocate_bits(const std::vector<int32_t>& ranking, int low_bits,
                                   int high_bits, double target_bits) {
  const int64_t cols = static_cast<int64_t>(ranking.size());
  std::vector<uint8_t> bits(ranking.size(), static_cast<uint8_t>(low_bits));
  if (high_bits == low_bits) return bits;

  const double share = (target_bits - low_bits) / (high_bits - low_bits);
  const int64_t high_count = std::clamp<int64_t>(round_half_up(cols * share), 0, cols);
  for (int64_t r = 0; r < high_count; ++r) bits[ranking[r]] = static_cast<uint8_t>(high_bits);
  return bits;
}

std::vector<double> reservation_fractions(const std::vector<int32_t>& ranking,
                                          double column_fraction, double high_fraction,
                                          double low_fraction) {
  const int64_t cols = static_cast<int64_t>(ranking.size());
  std::vector<double> fractions(ranking.size(), low_fraction);
  const int64_t high_count = std::clamp<int64_t>(round_half_up(cols * column_fraction), 0, cols);
  for (int64_t r = 0; r < high_count; ++r) fractions[ranking[r]] = high_fraction;
  return fractions;
}

int64_t reserved_per_tail(int64_t rows, double fraction) {
  return std::clamp<int64_t>(round_half_up(static_cast<double>(rows) * fraction), 0, rows / 2);
}

}  // namespace claq
