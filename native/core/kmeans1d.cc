#include "core/kmeans1d.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/kmeans_dp.h"

namespace claq {
namespace {

constexpr size_t kInversePadding = 16;  // zeros below count 1 (kernels/kmeans_dp.h)
constexpr int64_t kGroupRows = 16;      // anchor spacing: 15 rows per group kernel call
constexpr int kMaxClusters = 256;

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

// Prefix sums of (value - shift) and its square. The shift (the median) keeps
// the float64 sums small, so the differences in the cost lose few digits.
void build_prefix_sums(const float* sorted, int64_t n, KMeansWorkspace& ws) {
  ws.prefix_sum.resize(static_cast<size_t>(n) + 1);
  ws.prefix_square_sum.resize(static_cast<size_t>(n) + 1);
  const double shift = sorted[n / 2];
  double* s1 = ws.prefix_sum.data();
  double* s2 = ws.prefix_square_sum.data();

  // Four independent running sums over four quarters, then each quarter is
  // offset by the totals before it: four short add chains instead of one of
  // length n (float64 add latency bounds a single chain).
  constexpr int kChains = 4;
  const int64_t quarter = (n + kChains - 1) / kChains;
  double total1[kChains] = {}, total2[kChains] = {};
  s1[0] = 0;
  s2[0] = 0;
  for (int64_t t = 0; t < quarter; ++t) {
    for (int c = 0; c < kChains; ++c) {
      const int64_t i = c * quarter + t;
      if (i >= n) continue;
      const double v = static_cast<double>(sorted[i]) - shift;
      total1[c] += v;
      total2[c] += v * v;
      s1[i + 1] = total1[c];
      s2[i + 1] = total2[c];
    }
  }
  double offset1 = 0, offset2 = 0;
  for (int c = 1; c < kChains; ++c) {
    offset1 += total1[c - 1];
    offset2 += total2[c - 1];
    const int64_t end = std::min(n, (c + 1) * quarter);
    for (int64_t i = c * quarter; i < end; ++i) {
      s1[i + 1] += offset1;
      s2[i + 1] += offset2;
    }
  }

  // 1/c replaces a division per cost evaluation by a multiplication. The
  // table keeps kInversePadding zeros below count 1 and entries up to n + 16,
  // as the kernels require. It only grows, so columns of one layer share it.
  const size_t needed = static_cast<size_t>(n) + 17 + kInversePadding;
  if (ws.inverse_count.size() < needed) {
    const size_t old_size = ws.inverse_count.size();
    ws.inverse_count.resize(needed, 0.0);
    const size_t first = std::max(old_size, kInversePadding + 1);
    for (size_t t = first; t < needed; ++t) {
      ws.inverse_count[t] = 1.0 / static_cast<double>(t - kInversePadding);
    }
  }
}

// Solves one DP layer for the rows i in [i_lo, i_hi]: next[i] is the lowest
// previous[j] + cost(j, i) over j in [j_min, i - 1], split[i] its leftmost
// minimiser. Anchor rows every kGroupRows rows are solved by divide and
// conquer with the scan kernel; the rows between two anchors a < b then lie
// between split[a] and split[b] (the leftmost minimiser never decreases with
// i) and are solved together by the group kernel, one row per vector lane.
class LayerSolver {
 public:
  LayerSolver(const KMeansDpArrays& arrays, const KMeansDpKernels& kernels, int64_t j_min,
              double* next, int32_t* split, std::vector<int64_t>& anchors)
      : arrays_(arrays), kernels_(kernels), j_min_(j_min), next_(next), split_(split),
        anchors_(anchors) {}

  void solve(int64_t i_lo, int64_t i_hi) {
    anchors_.clear();
    for (int64_t i = i_lo; i < i_hi; i += kGroupRows) anchors_.push_back(i);
    anchors_.push_back(i_hi);
    const int64_t count = static_cast<int64_t>(anchors_.size());
    solve_anchors(0, count - 1, j_min_, i_hi - 1);

    for (int64_t t = 0; t + 1 < count; ++t) {
      const int64_t a = anchors_[t];
      const int64_t b = anchors_[t + 1];
      if (b - a > 1) {
        kernels_.group(arrays_, a + 1, static_cast<int>(b - a - 1), split_[a], split_[b], next_,
                       split_);
      }
    }
  }

 private:
  void solve_anchors(int64_t t_lo, int64_t t_hi, int64_t j_lo, int64_t j_hi) {
    while (t_lo <= t_hi) {
      const int64_t t = t_lo + (t_hi - t_lo) / 2;
      const int64_t i = anchors_[t];
      double cost;
      const int64_t best =
          kernels_.scan(arrays_, i, std::max(j_lo, j_min_), std::min(j_hi, i - 1), &cost);
      next_[i] = cost;
      split_[i] = static_cast<int32_t>(best);

      // Recurse into the smaller half and loop on the other, so the stack
      // depth stays O(log n).
      if (t - t_lo < t_hi - t) {
        solve_anchors(t_lo, t - 1, j_lo, best);
        t_lo = t + 1;
        j_lo = best;
      } else {
        solve_anchors(t + 1, t_hi, best, j_hi);
        t_hi = t - 1;
        j_hi = best;
      }
    }
  }

  const KMeansDpArrays& arrays_;
  const KMeansDpKernels& kernels_;
  int64_t j_min_;
  double* next_;
  int32_t* split_;
  std::vector<int64_t>& anchors_;
};

// Cluster means of the runs between consecutive boundaries, from the prefix
// sums of the values minus `shift`.
void means_of_runs(const double* s1, double shift, const int64_t* boundaries, int k,
                   double* centroids) {
  for (int c = 0; c < k; ++c) {
    const double count = static_cast<double>(boundaries[c + 1] - boundaries[c]);
    centroids[c] = (s1[boundaries[c + 1]] - s1[boundaries[c]]) / count + shift;
  }
}

}  // namespace

void kmeans1d_exact(const float* sorted, int64_t n, int k, KMeansWorkspace& ws, double* centroids) {
  if (fill_distinct_values(sorted, n, k, centroids)) return;

  // Here n > k, because there are more than k distinct values.
  build_prefix_sums(sorted, n, ws);
  const double* s1 = ws.prefix_sum.data();
  const double* s2 = ws.prefix_square_sum.data();
  const double* inverse_count = ws.inverse_count.data() + kInversePadding;
  const KMeansDpKernels kernels = select_kmeans_dp_kernels();

  ws.previous_layer.resize(static_cast<size_t>(n) + 1);
  ws.next_layer.resize(static_cast<size_t>(n) + 1);
  ws.splits.resize(static_cast<size_t>(k) * static_cast<size_t>(n + 1));

  // Layer 1: one cluster [0, i).
  ws.previous_layer[0] = 0;
  for (int64_t i = 1; i <= n; ++i) {
    ws.previous_layer[i] = s2[i] - s1[i] * s1[i] * inverse_count[i];
  }

  // Layers 2 .. k - 1 over every prefix that leaves one value for each later
  // cluster; the last layer needs only i = n.
  for (int layer = 2; layer <= k; ++layer) {
    const KMeansDpArrays arrays{s1, s2, ws.previous_layer.data(), inverse_count, n};
    int32_t* split = ws.splits.data() + static_cast<size_t>(layer - 1) * (n + 1);
    if (layer == k) {
      double cost;
      split[n] = static_cast<int32_t>(kernels.scan(arrays, n, k - 1, n - 1, &cost));
      break;
    }
    LayerSolver solver(arrays, kernels, layer - 1, ws.next_layer.data(), split, ws.anchors);
    solver.solve(layer, n - (k - layer));
    std::swap(ws.previous_layer, ws.next_layer);
  }

  int64_t boundaries[kMaxClusters + 1];
  boundaries[k] = n;
  for (int layer = k; layer >= 2; --layer) {
    const int32_t* split = ws.splits.data() + static_cast<size_t>(layer - 1) * (n + 1);
    boundaries[layer - 1] = split[boundaries[layer]];
  }
  boundaries[0] = 0;
  means_of_runs(s1, sorted[n / 2], boundaries, k, centroids);
}

void kmeans1d_lloyd(const float* sorted, int64_t n, int k, int max_iterations,
                    KMeansWorkspace& ws, double* centroids) {
  if (fill_distinct_values(sorted, n, k, centroids)) return;

  build_prefix_sums(sorted, n, ws);
  const double shift = sorted[n / 2];
  const double* s1 = ws.prefix_sum.data();

  int64_t boundaries[kMaxClusters + 1];
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
