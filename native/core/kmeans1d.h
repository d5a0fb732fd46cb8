// One-dimensional K-Means on sorted values: the codebook of one column.
//
// kmeans1d_exact returns a globally optimal clustering (lowest sum of squared
// distances) by dynamic programming over the sorted values. In 1-D every
// optimal cluster is a contiguous run of the sorted values, so with prefix
// sums S1, S2 the cost of the run [j, i) is
//   cost(j, i) = S2[i] - S2[j] - (S1[i] - S1[j])^2 / (i - j)
// and D_l[i] = min_j D_{l-1}[j] + cost(j, i) is the best split of the first i
// values into l clusters. The layers are stored as D_l[i] - S2[i], which
// takes S2 out of the inner loops (kernels/kmeans_dp.h). The cost matrix is
// Monge, so the leftmost optimal j never decreases with i, and each layer is
// solved by divide and conquer in O(n log n). For an even k = 2h the last
// two layers are replaced by a bounded search over the middle boundary
// (core/middle_split.h), which combines the best h-cluster costs of a prefix
// and of the matching suffix.
// For k = 4 that search is all there is, and it runs on the prefix sums
// alone (core/kmeans_four.h). For k > 4 the cost of a few Lloyd iterations
// bounds the best cost from above, and each DP layer is solved only for the
// prefixes whose cost stays within that bound (about half of the rows).
//
// kmeans1d_lloyd is the cheaper Lloyd iteration on the same sorted values,
// with boundaries by binary search and means from the prefix sums. It may stop
// in a local optimum. `sh bench/engine-native.sh --kmeans` (300 columns of
// 4064 sorted normal values, thread CPU time per column, AVX-512, on the Zen 5
// build machine at load 11 on its 2 cores, 2026-12-05 03:44 UTC, two runs)
// measured:
//   4 centroids:  exact 9.4 to 11.1 us, Lloyd 4.5 to 5.5 us, Lloyd error +0.0097 %
//   8 centroids:  exact 89 to 91 us,    Lloyd 16.3 to 16.9 us, Lloyd error +0.20 %
//   16 centroids: exact 257 to 259 us,  Lloyd 53.2 to 53.6 us, Lloyd error +4.2 %
// so exact stays the default and Lloyd is an option (QuantizeOptions::kmeans).
// On an Intel Xeon (2026-12-05, 10:58 to 11:21 UTC) the four-cluster search
// on the prefix sums took exact k = 4 from 16.2 to 10.8 to 11.9 us per
// column of this bench, and the cost bound took k = 8 from 121 to 127 us to
// 81 us and k = 16 from 351 to 354 us to 214 us. On an Intel Xeon
// (2026-12-05, 13:35 to 13:45 UTC, one core, old and new interleaved in one
// process, medians of 5 to 9 runs) the layers without S2 took k = 8 from 76
// to 77 us to 72 us and k = 16 from 202 to 203 us to 184 to 187 us, and the
// 4-bit columns of a real layer (16 clusters) from 158 to 162 us to 144 to
// 147 us.
#pragma once

#include <cstdint>
#include <vector>

namespace claq {

// One evaluated middle boundary of the middle-split search (core/middle_split.h).
struct MiddleRow {
  int64_t b;
  int64_t prefix_split;   // the boundary inside [0, b)
  int64_t suffix_split;   // the size of the top cluster of [b, n)
  double prefix_cost;
  double suffix_cost;
};

// Two evaluated rows with unevaluated rows between them, as indices into
// KMeansWorkspace::middle_rows.
struct MiddleInterval {
  int32_t lo;
  int32_t hi;
};

// Anchor rows t_lo .. t_hi of one DP layer, whose splits lie in [j_lo, j_hi].
struct AnchorRange {
  int64_t t_lo;
  int64_t t_hi;
  int64_t j_lo;
  int64_t j_hi;
};

struct AnchorBuffers {
  std::vector<int64_t> rows;
  std::vector<AnchorRange> ranges;       // one level of the divide and conquer
  std::vector<AnchorRange> next_ranges;  // the level below
};

// Reusable buffers, so that fitting a column allocates nothing after warm-up.
struct KMeansWorkspace {
  std::vector<double> prefix_sum;          // S1, of values minus a shift
  std::vector<double> prefix_square_sum;   // S2, of values minus the same shift (four
                                           // clusters: every eighth position only)
  std::vector<double> inverse_count;       // 1 / c after zero padding, see build_prefix_sums
  std::vector<double> inverse_count_reversed;  // the same table in reverse order
  std::vector<double> previous_layer;
  std::vector<double> next_layer;
  std::vector<int32_t> splits;             // [k, n + 1]: leftmost optimal j per layer and i
  AnchorBuffers anchors;
  std::vector<double> mirrored_sum;         // S1 and S2 of the negated values, top first
  std::vector<double> mirrored_square_sum;
  std::vector<double> mirrored_layer;
  std::vector<double> mirrored_next;
  std::vector<int32_t> mirrored_splits;
  std::vector<MiddleRow> middle_rows;        // the rows the middle-split search evaluated
  std::vector<double> block_weights;         // the cost bound's starting boundaries
  std::vector<MiddleInterval> open_intervals;
  std::vector<MiddleInterval> next_intervals;
  std::vector<double> row_costs;            // P and Q (or V) of the rows of one group kernel call
  std::vector<int32_t> row_splits;
};

// Writes k ascending centroids for the n ascending values in `sorted`. With
// fewer than k distinct values the distinct values are the centroids, padded
// at the top with the largest one; with n == 0 every centroid is 0. Centroids
// are cluster means computed in float64. 1 <= k <= 256.
void kmeans1d_exact(const float* sorted, int64_t n, int k, KMeansWorkspace& workspace,
                    double* centroids);

// Lloyd iterations from equal-count clusters until the boundaries stop moving
// or `max_iterations` passes; same output contract as kmeans1d_exact.
void kmeans1d_lloyd(const float* sorted, int64_t n, int k, int max_iterations,
                    KMeansWorkspace& workspace, double* centroids);

// Sum of squared distances from each value to its nearest centroid (ties to
// the lower one); centroids ascending.
double kmeans1d_cost(const float* values, int64_t n, const double* centroids, int k);

}  // namespace claq
