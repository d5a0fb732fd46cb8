// The arrays every exact 1-D K-Means path starts from (core/kmeans1d.cc,
// core/kmeans_four.cc): tables of 1 / count and the prefix sums of a sorted
// column.
#pragma once

#include <cstdint>

#include "core/kmeans1d.h"
#include "kernels/kmeans_dp.h"

namespace claq {

// Both tables of 1 / count in the workspace, as the kernels index them
// (kernels/kmeans_dp.h). by_count[c] = 1 / c for c in 1 .. n + 16 and zero
// for c in -16 .. 0. reversed[-c] = 1 / c for c in 1 .. n, and reversed[x]
// is zero for x in 0 .. 16.
struct InverseTables {
  const double* by_count;
  const double* reversed;
};

// Grows the workspace's tables to cover n values (they only grow, so the
// columns of one layer share them) and returns their views.
InverseTables grow_inverse_tables(int64_t n, KMeansWorkspace& ws);

// Writes the prefix sums of (value - shift) and of its square to
// ws.prefix_sum and ws.prefix_square_sum, and with `one_cluster_layer` the
// one-cluster layer to ws.previous_layer. The shift is sorted[n / 2], the
// median. It keeps the float64 sums small, so the differences in the costs
// lose few digits. Requires n >= 1.
void build_prefix_sums(const float* sorted, int64_t n, const KMeansDpKernels& kernels,
                       bool one_cluster_layer, KMeansWorkspace& ws);

}  // namespace claq
