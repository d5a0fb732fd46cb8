#include "core/kmeans1d.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace claq {
namespace {

// Fills the centroids with the distinct values when there are at most k of
// them; returns false (and writes nothing) otherwise.
bool fill_distinct_values(const float* sorted, int64_t n, int k, double* centroids) {
  if (n == 0) {
    std::fill(centroids, centroids + k, 0.0);
    return true;
  }

  int distinct = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0 && sorted[i] == sorted[i - 1]) continue;
    if (distinct == k) return false;
    centroids[distinct++] = sorted[i];
  }
  std::fill(centroids + distinct, centroids + k, centroids[distinct - 1]);
  return true;
}

// Prefix sums of (value - shift) and its square; the shift (the median) keeps
// the float64 sums small, so the differences in cost() lose few digits.
void build_prefix_sums(const float* sorted, int64_t n, KMeansWorkspace& ws) {
  ws.prefix_sum.resize(static_cast<size_t>(n) + 1);
  ws.prefix_square_sum.resize(static_cast<size_t>(n) + 1);
  const double shift = sorted[n / 2];
  double s1 = 0, s2 = 0;
  ws.prefix_sum[0] = 0;
  ws.prefix_square_sum[0] = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(sorted[i]) - shift;
    s1 += v;
    s2 += v * v;
    ws.prefix_sum[i + 1] = s1;
    ws.prefix_square_sum[i + 1] = s2;
  }

  // 1/c replaces a division per cost evaluation by a multiplication.
  if (static_cast<int64_t>(ws.inverse_count.size()) < n + 1) {
    const int64_t start = std::max<int64_t>(1, static_cast<int64_t>(ws.inverse_count.size()));
    ws.inverse_count.resize(static_cast<size_t>(n) + 1);
    ws.inverse_count[0] = 0;
    for (int64_t c = start; c <= n; ++c) ws.inverse_count[c] = 1.0 / static_cast<double>(c);
  }
}

// Solves one DP layer by divide and conquer: for every i in [i_lo, i_hi],
// next[i] = min over j in [max(j_lo, j_min), min(j_hi, i - 1)] of
// previous[j] + cost(j, i), with the leftmost minimiser stored in split[i].
struct LayerSolver {
  const double* s1;
  const double* s2;
  const double* inverse_count;
  const double* previous;
  double* next;
  int32_t* split;
  int64_t j_min;

  void solve(int64_t i_lo, int64_t i_hi, int64_t j_lo, int64_t j_hi) const {
    while (i_lo <= i_hi) {
      const int64_t i = i_lo + (i_hi - i_lo) / 2;
      const int64_t best = solve_row(i, std::max(j_lo, j_min), std::min(j_hi, i - 1));

      // Recurse into the smaller half and loop on the other, so the stack
      // depth stays O(log n).
      if (i - i_lo < i_hi - i) {
        solve(i_lo, i - 1, j_lo, best);
        i_lo = i + 1;
        j_lo = best;
      } else {
        solve(i + 1, i_hi, best, j_hi);
        i_hi = i - 1;
        j_hi = best;
      }
    }
  }

  int64_t solve_row(int64_t i, int64_t j_begin, int64_t j_end) const {
    const double s1_i = s1[i];
    const double s2_i = s2[i];
    double best_cost = std::numeric_limits<double>::infinity();
    int64_t best = j_begin;
    for (int64_t j = j_begin; j <= j_end; ++j) {
      const double d1 = s1_i - s1[j];
      const double cost = previous[j] + (s2_i - s2[j]) - d1 * d1 * inverse_count[i - j];
      if (cost < best_cost) {
        best_cost = cost;
        best = j;
      }
    }
    next[i] = best_cost;
    split[i] = static_cast<int32_t>(best);
    return best;
  }
};

// Cluster means of the runs between consecutive boundaries, summed in float64
// from the values themselves.
void means_of_runs(const float* sorted, const int64_t* boundaries, int k, double* centroids) {
  for (int c = 0; c < k; ++c) {
    double sum = 0;
    for (int64_t i = boundaries[c]; i < boundaries[c + 1]; ++i) sum += sorted[i];
    centroids[c] = sum / static_cast<double>(boundaries[c + 1] - boundaries[c]);
  }
}

}  // namespace

void kmeans1d_exact(const float* sorted, int64_t n, int k, KMeansWorkspace& ws, double* centroids) {
  if (fill_distinct_values(sorted, n, k, centroids)) return;

  // Here n > k, because there are more than k distinct values.
  build_prefix_sums(sorted, n, ws);
  const double* s1 = ws.prefix_sum.data();
  const double* s2 = ws.prefix_square_sum.data();
  const double* inverse_count = ws.inverse_count.data();

  ws.previous_layer.assign(static_cast<size_t>(n) + 1, 0.0);
  ws.next_layer.assign(static_cast<size_t>(n) + 1, 0.0);
  ws.splits.assign(static_cast<size_t>(k) * static_cast<size_t>(n + 1), 0);

  // Layer 1: one cluster [0, i).
  for (int64_t i = 1; i <= n; ++i) {
    ws.previous_layer[i] = s2[i] - s1[i] * s1[i] * inverse_count[i];
  }

  // Layers 2 .. k - 1 over every prefix that leaves one value for each later
  // cluster; the last layer needs only i = n.
  for (int layer = 2; layer <= k; ++layer) {
    LayerSolver solver{s1, s2, inverse_count, ws.previous_layer.data(), ws.next_layer.data(),
                       ws.splits.data() + static_cast<size_t>(layer - 1) * (n + 1), layer - 1};
    const int64_t i_lo = layer == k ? n : layer;
    const int64_t i_hi = n - (k - layer);
    solver.solve(i_lo, i_hi, layer - 1, n - 1);
    std::swap(ws.previous_layer, ws.next_layer);
  }

  int64_t boundaries[257];
  boundaries[k] = n;
  for (int layer = k; layer >= 2; --layer) {
    const int32_t* split = ws.splits.data() + static_cast<size_t>(layer - 1) * (n + 1);
    boundaries[layer - 1] = split[boundaries[layer]];
  }
  boundaries[0] = 0;
  means_of_runs(sorted, boundaries, k, centroids);
}

void kmeans1d_lloyd(const float* sorted, int64_t n, int k, int max_iterations,
                    KMeansWorkspace& ws, double* centroids) {
  if (fill_distinct_values(sorted, n, k, centroids)) return;

  build_prefix_sums(sorted, n, ws);
  const double shift = sorted[n / 2];
  const double* s1 = ws.prefix_sum.data();

  int64_t boundaries[257];
  for (int c = 0; c <= k; ++c) boundaries[c] = n * c / k;
  for (int c = 0; c < k; ++c) {
    centroids[c] = (s1[boundaries[c + 1]] - s1[boundaries[c]]) /
                       static_cast<double>(boundaries[c + 1] - boundaries[c]) + shift;
  }

  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    // A value equal to a midpoint goes to the lower centroid.
    bool moved = false;
    for (int c = 1; c < k; ++c) {
      const double midpoint = 0.5 * (centroids[c - 1] + centroids[c]);
      const int64_t boundary =
          std::upper_bound(sorted, sorted + n, midpoint,
                           [](double m, float v) { return m < static_cast<double>(v); }) - sorted;
      moved = moved || boundary != boundaries[c];
      boundaries[c] = boundary;
    }
    if (!moved && iteration > 0) break;

    // An empty cluster keeps its centroid.
    for (int c = 0; c < k; ++c) {
      const int64_t count = boundaries[c + 1] - boundaries[c];
      if (count > 0) {
        centroids[c] = (s1[boundaries[c + 1]] - s1[boundaries[c]]) / static_cast<double>(count) +
                       shift;
      }
    }
  }
  std::sort(centroids, centroids + k);
}

double kmeans1d_cost(const float* values, int64_t n, const double* centroids, int k) {
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = values[i];
    double best = std::numeric_limits<double>::infinity();
    for (int c = 0; c < k; ++c) best = std::min(best, (v - centroids[c]) * (v - centroids[c]));
    total += best;
  }
  return total;
}

}  // namespace claq
