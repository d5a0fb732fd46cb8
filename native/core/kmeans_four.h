// Exact K-Means with four clusters, the codebook of every 2-bit column: the
// middle-split search (core/middle_split.h) with both sides evaluated by the
// two-cluster kernels of kernels/kmeans_pair.h. They read the prefix sums
// only, so unlike the general path (core/kmeans1d.cc) it builds no mirrored
// arrays and no DP layer.
#pragma once

#include <cstdint>

#include "core/kmeans1d.h"

namespace claq {

// Writes the five boundaries 0 = b[0] < b[1] < b[2] < b[3] < b[4] = n of an
// optimal clustering of the n ascending values in `sorted`, which contain more
// than four distinct values. The prefix sums are left in ws.prefix_sum, of
// the values minus sorted[n / 2].
void four_cluster_boundaries(const float* sorted, int64_t n, KMeansWorkspace& ws,
                             int64_t* boundaries);

}  // namespace claq
