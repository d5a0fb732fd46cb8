// Outlier Order (OO), adaptive precision (AP) and the outlier reservation
// (OR) fractions: everything the quantizer decides per column before the
// column loop. Columns are indexed in act order (the order in which the loop
// quantizes them), and a tie in a ranking goes to the column that comes first
// in act order, so the decisions are deterministic.
#pragma once

#include <cstdint>
#include <vector>

namespace claq {

class ThreadPool;

// Rounds half up. A value within 1e-9 (relative) below a half also rounds up,
// so a decimal input like cols * (2.05 - 2) / 2 = 102.5, which float64 stores
// as 102.49999999999991, counts as the half it was written as.
int64_t round_half_up(double value);

// OO[j] = #{ i : |W[i][j]| >= threshold * mean|W| }, with the layer given
// column by column: `columns` is [cols, rows], column j contiguous. When
// mean|W| is 0 no weight counts, so an all-zero layer has no outliers.
// mean|W| sums each column in float64 and then the column sums in order, so
// the result does not depend on the thread count. pool may be null.
std::vector<int64_t> outlier_order(const float* columns, int64_t rows, int64_t cols,
                                   double threshold, ThreadPool* pool = nullptr);

// Orders columns by descending score, ties by ascending index.
std::vector<int32_t> rank_columns(const std::vector<double>& score);

// AP: the top round_half_up(cols * (target - low) / (high - low)) columns of
// the ranking get high_bits, the rest low_bits. With low == high every column
// gets low_bits.
std::vector<uint8_t> allocate_bits(const std::vector<int32_t>& ranking, int low_bits,
                                   int high_bits, double target_bits);

// OR: the top round_half_up(cols * column_fraction) columns of the ranking
// reserve high_fraction of their weights, the others low_fraction.
std::vector<double> reservation_fractions(const std::vector<int32_t>& ranking,
                                          double column_fraction, double high_fraction,
                                          double low_fraction);

// Entries reserved at each tail of a column of `rows` values for fraction r:
// round_half_up(rows * r), at most rows / 2.
int64_t reserved_per_tail(int64_t rows, double fraction);

}  // namespace claq
