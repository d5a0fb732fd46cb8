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

// 1/c replaces a division per cost evaluation by a multiplication. The table
// keeps kInversePadding zeros below count 1 and entries up to n + 16, as the
// kernels require, and the reversed table ends with count 1 and a zero. Both
// only grow, so columns of one layer share them.
void grow_inverse_counts(int64_t n, KMeansWorkspace& ws) {
  const size_t needed = static_cast<size_t>(n) + 17 + kInversePadding;
  if (ws.inverse_count.size() < needed) {
    const size_t old_size = ws.inverse_count.size();
    ws.inverse_count.resize(needed, 0.0);
    const size_t first = std::max(old_size, kInversePadding + 1);
    for (size_t t = first; t < needed; ++t) {
      ws.inverse_count[t] = 1.0 / static_cast<double>(t - kInversePadding);
    }
    ws.inverse_count_reversed.assign(ws.inverse_count.rbegin(), ws.inverse_count.rend());
  }
}

// The kernels' views of both tables (kernels/kmeans_dp.h): indexed by count,
// and by minus the count.
struct InverseTables {
  const double* by_count;
  const double* reversed;
};

InverseTables inverse_tables(const KMeansWorkspace& ws) {
  return {ws.inverse_count.data() + kInversePadding,
          ws.inverse_count_reversed.data() + ws.inverse_count_reversed.size() - 1 -
              kInversePadding};
}

// Prefix sums of (value - shift) and its square, and the one-cluster layer
// into ws.previous_layer. The shift (the median) keeps the float64 sums
// small, so the differences in the cost lose few digits.
void build_prefix_sums(const float* sorted, int64_t n, const KMeansDpKernels& kernels,
                       KMeansWorkspace& ws) {
  grow_inverse_counts(n, ws);
  ws.prefix_sum.resize(static_cast<size_t>(n) + 1);
  ws.prefix_square_sum.resize(static_cast<size_t>(n) + 1);
  ws.previous_layer.resize(static_cast<size_t>(n) + 1);
  kernels.prefix(sorted, n, sorted[n / 2], ws.inverse_count.data() + kInversePadding,
                 ws.prefix_sum.data(), ws.prefix_square_sum.data(), ws.previous_layer.data());
}

// Solves one DP layer for the rows i in [i_lo, i_hi]: next[i] is the lowest
// previous[j] + cost(j, i) over j in [j_min, i - 1], split[i] its leftmost
// minimiser. Anchor rows every kGroupRows rows are solved by divide and
// conquer with the scan kernel; the rows between two anchors a < b then lie
// between split[a] and split[b] (the leftmost minimiser never decreases with
// i) and are solved together by the group kernel, one row per vector lane.
// The previous layer's splits bound every search from below: with one more
// cluster the last boundary of the best split of a prefix never moves left
// (Knuth's bound for Monge costs), and it never decreases with i, so
// row i may use the previous layer's split at any row <= i.
class LayerSolver {
 public:
  LayerSolver(const KMeansDpArrays& arrays, const KMeansDpKernels& kernels, int64_t j_min,
              const int32_t* lower, int64_t lower_last, double* next, int32_t* split,
              AnchorBuffers& anchors)
      : arrays_(arrays), kernels_(kernels), j_min_(j_min), lower_(lower),
        lower_last_(lower_last), next_(next), split_(split), buffers_(anchors),
        anchors_(anchors.rows) {}

  void solve(int64_t i_lo, int64_t i_hi) {
    anchors_.clear();
    for (int64_t i = i_lo; i < i_hi; i += kGroupRows) anchors_.push_back(i);
    anchors_.push_back(i_hi);
    const int64_t count = static_cast<int64_t>(anchors_.size());
    solve_anchors(count, j_min_, i_hi - 1);

    for (int64_t t = 0; t + 1 < count; ++t) {
      const int64_t a = anchors_[t];
      const int64_t b = anchors_[t + 1];
      if (b - a > 1) {
        const int64_t j_begin = std::min<int64_t>(std::max<int64_t>(split_[a], lower_bound(a + 1)),
                                                  split_[b]);
        kernels_.group(arrays_, a + 1, static_cast<int>(b - a - 1), j_begin, split_[b], next_,
                       split_);
      }
    }
  }

 private:
  // Divide and conquer over the `count` anchors, one level at a time: the
  // middle anchor of each range, then the ranges on either side of it with
  // its split as their bound. The scans of one level do not depend on each
  // other, so the processor overlaps them.
  void solve_anchors(int64_t count, int64_t j_lo, int64_t j_hi) {
    std::vector<AnchorRange>& ranges = buffers_.ranges;
    std::vector<AnchorRange>& next = buffers_.next_ranges;
    ranges.assign(1, {0, count - 1, j_lo, j_hi});
    while (!ranges.empty()) {
      next.clear();
      for (const AnchorRange& range : ranges) {
        const int64_t t = range.t_lo + (range.t_hi - range.t_lo) / 2;
        const int64_t i = anchors_[t];
        double cost;
        const int64_t j_end = std::min(range.j_hi, i - 1);
        const int64_t j_begin = std::min(std::max({range.j_lo, j_min_, lower_bound(i)}), j_end);
        const int64_t best = kernels_.scan(arrays_, i, j_begin, j_end, &cost);
        next_[i] = cost;
        split_[i] = static_cast<int32_t>(best);
        if (t > range.t_lo) next.push_back({range.t_lo, t - 1, range.j_lo, best});
        if (t < range.t_hi) next.push_back({t + 1, range.t_hi, best, range.j_hi});
      }
      std::swap(ranges, next);
    }
  }

  // The previous layer's split at row i, or at its last solved row below i.
  int64_t lower_bound(int64_t i) const {
    return lower_ == nullptr ? j_min_ : lower_[std::min(i, lower_last_)];
  }

  const KMeansDpArrays& arrays_;
  const KMeansDpKernels& kernels_;
  int64_t j_min_;
  const int32_t* lower_;  // null for layer 2: layer 1 has no splits
  int64_t lower_last_;
  double* next_;
  int32_t* split_;
  AnchorBuffers& buffers_;
  std::vector<int64_t>& anchors_;
};

// Layers 2 .. last of the dynamic program for k clusters, over the prefix
// sums s1, s2: `layer` holds layer 1 on entry and layer `last` on return, and
// row l - 1 of `splits` ([k, n + 1]) receives the splits of layer l.
void solve_layers(const double* s1, const double* s2, const InverseTables& inverse, int64_t n,
                  int k, int last, const KMeansDpKernels& kernels, std::vector<double>& layer,
                  std::vector<double>& scratch, int32_t* splits, AnchorBuffers& anchors) {
  for (int l = 2; l <= last; ++l) {
    const KMeansDpArrays arrays{s1, s2, layer.data(), inverse.by_count, inverse.reversed, n};
    int32_t* split = splits + static_cast<size_t>(l - 1) * (n + 1);
    const int32_t* lower = l > 2 ? split - (n + 1) : nullptr;
    const int64_t lower_last = n - (k - l) - 1;  // the previous layer's last row
    LayerSolver solver(arrays, kernels, l - 1, lower, lower_last, scratch.data(), split, anchors);
    solver.solve(l, n - (k - l));
    std::swap(layer, scratch);
  }
}

// Cluster means of the runs between consecutive boundaries, from the prefix
// sums of the values minus `shift`.
void means_of_runs(const double* s1, double shift, const int64_t* boundaries, int k,
                   double* centroids) {
  for (int c = 0; c < k; ++c) {
    const double count = static_cast<double>(boundaries[c + 1] - boundaries[c]);
    centroids[c] = (s1[boundaries[c + 1]] - s1[boundaries[c]]) / count + shift;
  }
}

// An even number k = 2h of clusters by their middle boundary b: the best
// split is the lowest P(b) + Q(b), where P(b) is the best h-cluster cost of
// the values [0, b) and Q(b) that of [b, n). Q is P of the mirrored values
// (negated, reversed), so the same kernels serve both. Layers 2 .. h - 1 of
// each side are solved in full, and P(b) and Q(b) at one b are one scan of
// layer h - 1. P never decreases and Q never increases with b, so between two
// evaluated rows b0 < b1 every P(b) + Q(b) is at least P(b0) + Q(b1). An
// interval whose bound exceeds the best evaluated row is dropped, the others
// are bisected. The last inner splits of P and Q move monotonically with b,
// so each evaluation scans only between those of its evaluated neighbours.
// On column data few intervals survive: with 4 clusters a column costs a few
// full scans instead of two full layers, with 16 it saves two of 14 layers.
class MiddleSplitSearch {
 public:
  MiddleSplitSearch(const float* sorted, int64_t n, int k, KMeansWorkspace& ws)
      : n_(n), k_(k), half_(k / 2), ws_(ws), kernels_(select_kmeans_dp_kernels()) {
    const size_t size = static_cast<size_t>(n) + 1;
    build_prefix_sums(sorted, n, kernels_, ws);
    ws.mirrored_sum.resize(size);
    ws.mirrored_square_sum.resize(size);
    ws.mirrored_layer.resize(size);
    const InverseTables inverse = inverse_tables(ws);
    kernels_.mirror(ws.prefix_sum.data(), ws.prefix_square_sum.data(), n, inverse.by_count,
                    ws.mirrored_sum.data(), ws.mirrored_square_sum.data(),
                    ws.mirrored_layer.data());

    ws.next_layer.resize(size);
    ws.mirrored_next.resize(size);
    ws.splits.resize(static_cast<size_t>(k) * size);
    ws.mirrored_splits.resize(static_cast<size_t>(k) * size);
    solve_layers(ws.prefix_sum.data(), ws.prefix_square_sum.data(), inverse, n, k,
                 half_ - 1, kernels_, ws.previous_layer, ws.next_layer, ws.splits.data(),
                 ws.anchors);
    solve_layers(ws.mirrored_sum.data(), ws.mirrored_square_sum.data(), inverse, n, k,
                 half_ - 1, kernels_, ws.mirrored_layer, ws.mirrored_next,
                 ws.mirrored_splits.data(), ws.anchors);
    prefix_ = {ws.prefix_sum.data(), ws.prefix_square_sum.data(), ws.previous_layer.data(),
               inverse.by_count, inverse.reversed, n};
    suffix_ = {ws.mirrored_sum.data(), ws.mirrored_square_sum.data(), ws.mirrored_layer.data(),
               inverse.by_count, inverse.reversed, n};

    ws.row_costs.resize(2 * size);
    ws.row_splits.resize(2 * size);

    // Differences below this are rounding noise of the prefix sums, so an
    // interval is dropped only when its bound is worse by more.
    margin_ = 1e-9 * (ws.prefix_square_sum[n] + 1e-300);
  }

  // Writes the k + 1 boundaries 0 = b[0] < b[1] < ... < b[k] = n.
  void solve(int64_t* boundaries) {
    // Two sentinel rows outside [h, n - h] bound the search: P(h - 1) >= 0
    // with no upper limit on the splits to their right, and Q(n - h + 1) >= 0
    // likewise.
    constexpr double kInfinity = std::numeric_limits<double>::infinity();
    const int64_t first = half_ - 1;
    std::vector<MiddleInterval>& open = ws_.open_intervals;
    std::vector<MiddleInterval>& next = ws_.next_intervals;
    open.assign(1, {{first, first, n_, 0.0, kInfinity},
                    {n_ - first, n_, first, kInfinity, 0.0}});
    best_total_ = kInfinity;

    // Breadth first, so the best total falls early. An interval is dropped
    // when its bound exceeds the best by more than the margin. Every row
    // within the margin of the optimum is therefore evaluated, and the
    // winner does not depend on the order of the search.
    while (!open.empty()) {
      next.clear();
      for (const MiddleInterval& interval : open) {
        const MiddleRow& lo = interval.lo;
        const MiddleRow& hi = interval.hi;
        if (lo.prefix_cost + hi.suffix_cost > best_total_ + margin_) continue;
        if (hi.b - lo.b - 1 <= kGroupRows) {
          evaluate_between(lo, hi);
          continue;
        }
        const MiddleRow middle = evaluate(lo.b + (hi.b - lo.b) / 2, lo.prefix_split,
                                          hi.prefix_split, hi.suffix_split, lo.suffix_split);
        consider(middle);
        next.push_back({lo, middle});
        next.push_back({middle, hi});
      }
      std::swap(open, next);
    }

    // Back along the splits of each side. The mirrored boundary m stands for
    // n - m.
    boundaries[0] = 0;
    boundaries[half_] = winner_.b;
    boundaries[half_ - 1] = winner_.prefix_split;
    int64_t mirrored = winner_.suffix_split;
    boundaries[half_ + 1] = n_ - mirrored;
    for (int l = half_ - 1; l >= 2; --l) {
      const size_t row = static_cast<size_t>(l - 1) * (n_ + 1);
      boundaries[l - 1] = ws_.splits[row + boundaries[l]];
      mirrored = ws_.mirrored_splits[row + mirrored];
      boundaries[k_ - l + 1] = n_ - mirrored;
    }
    boundaries[k_] = n_;
  }

 private:
  // P and Q at the middle boundary b, with the inner split of P searched in
  // [p_lo, p_hi] and that of Q (counted from the top) in [q_lo, q_hi], both
  // clamped to the non-empty clusters.
  MiddleRow evaluate(int64_t b, int64_t p_lo, int64_t p_hi, int64_t q_lo, int64_t q_hi) const {
    MiddleRow row;
    row.b = b;
    row.prefix_split = scan(prefix_, b, p_lo, p_hi, &row.prefix_cost);
    row.suffix_split = scan(suffix_, n_ - b, q_lo, q_hi, &row.suffix_cost);
    return row;
  }

  // Every row strictly between lo and hi (at most kGroupRows of them), by the
  // group kernel: one call for P and one for Q.
  void evaluate_between(const MiddleRow& lo, const MiddleRow& hi) {
    const int64_t first = lo.b + 1;
    const int count = static_cast<int>(hi.b - lo.b - 1);
    double* prefix_cost = ws_.row_costs.data();
    double* suffix_cost = prefix_cost + n_ + 1;
    int32_t* prefix_split = ws_.row_splits.data();
    int32_t* suffix_split = prefix_split + n_ + 1;

    // P at rows first .. hi.b - 1, and Q at m = n - b ascending from n - hi.b + 1.
    // The kernel's splits must stay below its last row (the sentinels carry
    // no upper limit).
    const int64_t p_lo = std::max<int64_t>(lo.prefix_split, half_ - 1);
    const int64_t p_hi = std::min<int64_t>(hi.prefix_split, hi.b - 2);
    kernels_.group(prefix_, first, count, p_lo, std::max(p_lo, p_hi), prefix_cost, prefix_split);
    const int64_t q_lo = std::max<int64_t>(hi.suffix_split, half_ - 1);
    const int64_t q_hi = std::min<int64_t>(lo.suffix_split, n_ - lo.b - 2);
    kernels_.group(suffix_, n_ - hi.b + 1, count, q_lo, std::max(q_lo, q_hi), suffix_cost,
                   suffix_split);
    for (int64_t b = first; b < hi.b; ++b) {
      consider({b, prefix_split[b], suffix_split[n_ - b], prefix_cost[b], suffix_cost[n_ - b]});
    }
  }

  // Keeps the lowest total, the lowest b on ties.
  void consider(const MiddleRow& row) {
    const double total = row.prefix_cost + row.suffix_cost;
    if (total < best_total_ || (total == best_total_ && row.b < winner_.b)) {
      best_total_ = total;
      winner_ = row;
    }
  }

  int64_t scan(const KMeansDpArrays& arrays, int64_t i, int64_t lo, int64_t hi,
               double* cost) const {
    lo = std::max<int64_t>(lo, half_ - 1);
    hi = std::max(lo, std::min(hi, i - 1));
    return kernels_.scan(arrays, i, lo, hi, cost);
  }

  const int64_t n_;
  const int k_;
  const int half_;  // h = k / 2 clusters on each side
  KMeansWorkspace& ws_;
  const KMeansDpKernels kernels_;
  KMeansDpArrays prefix_{};
  KMeansDpArrays suffix_{};
  double margin_ = 0;
  double best_total_ = 0;
  MiddleRow winner_{};
};

}  // namespace

void kmeans1d_exact(const float* sorted, int64_t n, int k, KMeansWorkspace& ws, double* centroids) {
  if (fill_distinct_values(sorted, n, k, centroids)) return;

  // Here n > k, because there are more than k distinct values.
  int64_t boundaries[kMaxClusters + 1];
  if (k >= 4 && k % 2 == 0) {
    MiddleSplitSearch(sorted, n, k, ws).solve(boundaries);
    means_of_runs(ws.prefix_sum.data(), sorted[n / 2], boundaries, k, centroids);
    return;
  }
  const KMeansDpKernels kernels = select_kmeans_dp_kernels();
  build_prefix_sums(sorted, n, kernels, ws);
  const double* s1 = ws.prefix_sum.data();
  const double* s2 = ws.prefix_square_sum.data();
  const InverseTables inverse = inverse_tables(ws);

  // Layers 2 .. k - 1 over every prefix that leaves one value for each later
  // cluster. The last layer needs only i = n, above the previous layer's
  // split at n - 1.
  const size_t size = static_cast<size_t>(n) + 1;
  ws.next_layer.resize(size);
  ws.splits.resize(static_cast<size_t>(k) * size);
  solve_layers(s1, s2, inverse, n, k, k - 1, kernels, ws.previous_layer, ws.next_layer,
               ws.splits.data(), ws.anchors);
  int32_t* last_split = ws.splits.data() + static_cast<size_t>(k - 1) * size;
  const int64_t j_begin = k > 2 ? std::max<int64_t>(k - 1, last_split[n - 1 - size]) : k - 1;
  double cost;
  last_split[n] = static_cast<int32_t>(kernels.scan(
      {s1, s2, ws.previous_layer.data(), inverse.by_count, inverse.reversed, n}, n, j_begin, n - 1,
      &cost));

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

  build_prefix_sums(sorted, n, select_kmeans_dp_kernels(), ws);
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
