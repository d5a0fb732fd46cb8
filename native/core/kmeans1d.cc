#include "core/kmeans1d.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/kmeans_four.h"
#include "core/kmeans_prefix.h"
#include "core/middle_split.h"
#include "kernels/kmeans_dp.h"

namespace claq {
namespace {

constexpr int64_t kGroupRows = 16;  // anchor spacing: 15 rows per group kernel call
constexpr int kMaxClusters = 256;
constexpr double kInfinity = std::numeric_limits<double>::infinity();

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

// Solves one DP layer for the rows i in [i_lo, i_hi]: next[i] is the lowest
// kernel cost (kernels/kmeans_dp.h) over j in [j_lo, min(i - 1, j_hi)],
// split[i] its leftmost minimiser. The layers are in E form, D - s2. Anchor
// rows every kGroupRows rows are solved by divide and conquer with the scan
// kernel; the rows between two anchors a < b then lie
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

  void solve(int64_t i_lo, int64_t i_hi, int64_t j_lo, int64_t j_hi) {
    anchors_.clear();
    for (int64_t i = i_lo; i < i_hi; i += kGroupRows) anchors_.push_back(i);
    anchors_.push_back(i_hi);
    const int64_t count = static_cast<int64_t>(anchors_.size());
    solve_anchors(count, j_lo, j_hi);

    // Each anchor's split is read before the group call below it. The call's
    // masked stores end at the next anchor, and a load there right after them
    // would wait for them to reach the cache.
    int64_t split_a = split_[anchors_[0]];
    for (int64_t t = 0; t + 1 < count; ++t) {
      const int64_t a = anchors_[t];
      const int64_t b = anchors_[t + 1];
      const int64_t split_b = split_[b];
      if (b - a > 1) {
        const int64_t j_begin =
            std::min<int64_t>(std::max<int64_t>(split_a, lower_bound(a + 1)), split_b);
        kernels_.group(arrays_, a + 1, static_cast<int>(b - a - 1), j_begin, split_b, next_,
                       split_);
      }
      split_a = split_b;
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

// The last row r in [from - 1, to] with D[r] <= bound < D[r + 1] (a row past
// `to` counts as above the bound), by bisection, where D[r] = layer[r] +
// s2[r] turns the E-form layer back into costs. The costs of a layer exceed
// the bound from some row on, up to rounding, and any row where they cross it
// is a safe end: the rows after it are never on the best path. The addition
// rounds by ulp(s2[n]) at most, far inside the bound's margin of 1e-9 s2[n]
// (cost_bound).
int64_t last_within(const double* layer, const double* s2, int64_t from, int64_t to,
                    double bound) {
  const auto within = [&](int64_t r) { return layer[r] + s2[r] <= bound; };
  if (!within(from)) return from - 1;
  int64_t lo = from;  // within the bound
  int64_t hi = to + 1;  // above the bound, or past the end
  while (hi - lo > 1) {
    const int64_t middle = lo + (hi - lo) / 2;
    if (within(middle)) {
      lo = middle;
    } else {
      hi = middle;
    }
  }
  return lo;
}

// Layers 2 .. last of the dynamic program for k clusters, over the prefix
// sums s1, s2: `layer` contains layer 1 on entry and layer `last` on return,
// both in E form (D - s2, kernels/kmeans_dp.h), and
// row l - 1 of `splits` ([k, n + 1]) receives the splits of layer l. Returns
// the last row of layer `last` within the bound: later rows are never a
// split of the best path.
//
// `bound` is at least the cost of the best k clusters (or infinity), so only
// rows i with D_l[i] <= bound can lie on the best path. D_l never decreases
// with i, so they form a prefix of each layer, and each layer is solved only
// a little past it: from a guess, extended while the solved rows do not pass
// the bound. A row past the prefix of the previous layer is never a split,
// and a row whose cost exceeds the bound may come out too high, never too
// low. Rows within the bound are exact, because their best split lies in the
// previous layer's prefix. The previous layer's splits bound a row from below
// only up to that prefix (beyond it they are not exact).
int64_t solve_layers(const double* s1, const double* s2, const InverseTables& inverse, int64_t n,
                     int k, int last, double bound, const KMeansDpKernels& kernels,
                     std::vector<double>& layer, std::vector<double>& scratch, int32_t* splits,
                     AnchorBuffers& anchors) {
  int64_t solved = n;  // last solved row of the previous layer
  int64_t within = last_within(layer.data(), s2, 1, n, bound);
  for (int l = 2; l <= last; ++l) {
    const KMeansDpArrays arrays{s1, s2, layer.data(), inverse.by_count, inverse.reversed, n};
    int32_t* split = splits + static_cast<size_t>(l - 1) * (n + 1);
    const int32_t* lower = l > 2 ? split - (n + 1) : nullptr;
    LayerSolver solver(arrays, kernels, l - 1, lower, std::max<int64_t>(within, l - 1),
                       scratch.data(), split, anchors);

    // The first guess lets the prefix grow by l / (l - 1) plus 32 rows. On
    // the 4-bit columns of a generated 4096 x 4096 layer there was about one
    // extension per ten layers.
    const int64_t last_row = n - (k - l);
    int64_t end = std::min(last_row, within + within / (l - 1) + 32);
    solver.solve(l, end, l - 1, std::min(end - 1, solved));
    int64_t layer_within = last_within(scratch.data(), s2, l, end, bound);
    while (layer_within == end && end < last_row) {
      const int64_t next_end = std::min(last_row, end + (end - l + 1) / 2 + 32);
      solver.solve(end + 1, next_end, split[end], std::min(next_end - 1, solved));
      layer_within = last_within(scratch.data(), s2, end + 1, next_end, bound);
      end = next_end;
    }
    solved = end;
    within = layer_within;
    std::swap(layer, scratch);
  }
  return within;
}

// Boundaries of k clusters of equal count.
void equal_count_boundaries(int64_t n, int k, int64_t* boundaries) {
  for (int c = 0; c <= k; ++c) boundaries[c] = n * c / k;
}

// Boundaries that follow the point density of an optimal quantizer, which in
// the high-resolution approximation is proportional to f^(1/3) for the
// density f of the values. A block of m sorted values over a width w holds
// about m^(1/3) w^(2/3) of its integral. The k clusters take equal shares of
// the sum, and each boundary is placed inside its block by count. On the
// heavy-tailed 4-bit columns of the bench's layer, two Lloyd iterations from
// here came within 1.5 % of the optimal 16-cluster cost on average, and 89 %
// above it from equal counts, which crowd the clusters into the middle.
void companded_boundaries(const float* sorted, int64_t n, int k, std::vector<double>& weights,
                          int64_t* boundaries) {
  constexpr int64_t kBlockValues = 32;
  const int64_t blocks = (n + kBlockValues - 1) / kBlockValues;
  weights.resize(static_cast<size_t>(blocks));
  double total = 0;
  for (int64_t t = 0; t < blocks; ++t) {
    const int64_t start = t * kBlockValues;
    const int64_t end = std::min(n, start + kBlockValues);
    const double width = static_cast<double>(sorted[end - 1]) - sorted[start];
    total += std::cbrt(static_cast<double>(end - start) * width * width);
    weights[t] = total;  // the running sum up to the end of block t
  }

  boundaries[0] = 0;
  boundaries[k] = n;
  int64_t t = 0;
  for (int c = 1; c < k; ++c) {
    const double target = total * c / k;
    while (t + 1 < blocks && weights[t] < target) ++t;
    const double before = t > 0 ? weights[t - 1] : 0.0;
    const double share = weights[t] > before ? (target - before) / (weights[t] - before) : 0.0;
    const int64_t start = t * kBlockValues;
    const int64_t count = std::min(n, start + kBlockValues) - start;
    const int64_t inside = static_cast<int64_t>(share * static_cast<double>(count));
    boundaries[c] = std::min(n, std::max(boundaries[c - 1], start + inside));
  }
}

// Lloyd iterations on the boundaries, from the given ones until they stop
// moving or `max_iterations` passes. The centroids are unsorted (an empty
// cluster keeps its centroid, at first the value at its position).
void lloyd_boundaries(const float* sorted, int64_t n, int k, double shift, const double* s1,
                      int max_iterations, int64_t* boundaries, double* centroids) {
  for (int c = 0; c < k; ++c) {
    const int64_t count = boundaries[c + 1] - boundaries[c];
    centroids[c] = count > 0 ? (s1[boundaries[c + 1]] - s1[boundaries[c]]) /
                                       static_cast<double>(count) + shift
                             : static_cast<double>(sorted[std::min(boundaries[c], n - 1)]);
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

    for (int c = 0; c < k; ++c) {
      const int64_t count = boundaries[c + 1] - boundaries[c];
      if (count > 0) {
        centroids[c] = (s1[boundaries[c + 1]] - s1[boundaries[c]]) / static_cast<double>(count) +
                       shift;
      }
    }
  }
}

// The cost of the runs between the boundaries after `iterations` Lloyd
// iterations from them, each run about its own mean, as the DP layers
// compute costs. Lloyd keeps the centroids ascending, so the runs follow each
// other. If they did not, their costs would not bound anything: infinity then.
double lloyd_cost(const float* sorted, int64_t n, int k, int iterations, const double* s1,
                  const double* s2, int64_t* boundaries) {
  double centroids[kMaxClusters];
  lloyd_boundaries(sorted, n, k, sorted[n / 2], s1, iterations, boundaries, centroids);
  double cost = 0;
  for (int c = 0; c < k; ++c) {
    const int64_t count = boundaries[c + 1] - boundaries[c];
    if (count < 0) return kInfinity;
    if (count == 0) continue;
    const double d1 = s1[boundaries[c + 1]] - s1[boundaries[c]];
    cost += (s2[boundaries[c + 1]] - s2[boundaries[c]]) - d1 * d1 / static_cast<double>(count);
  }
  return cost;
}

// Returns an upper bound on the cost of the best k clusters, as the DP layers
// compute costs. Two Lloyd iterations run from companded and from equal-count
// boundaries, and the lower cost plus a margin for the rounding of the
// prefix-sum costs is the bound. The tighter the bound, the fewer rows each
// layer solves. Companded boundaries suit smooth, heavy-tailed columns. Equal
// counts suit groups of equal size far apart, where the blocks that span a
// gap take most of the companded weight. More iterations cost more than they
// saved: from companded boundaries, a 16-cluster fit took about 150 us with 2
// to 4 of them and 164 us with 32 (4-bit columns of the bench's layer, Intel
// Xeon, thread CPU time).
double cost_bound(const float* sorted, int64_t n, int k, KMeansWorkspace& ws) {
  constexpr int kIterations = 2;
  const double* s1 = ws.prefix_sum.data();
  const double* s2 = ws.prefix_square_sum.data();
  int64_t boundaries[kMaxClusters + 1];
  companded_boundaries(sorted, n, k, ws.block_weights, boundaries);
  const double companded = lloyd_cost(sorted, n, k, kIterations, s1, s2, boundaries);
  equal_count_boundaries(n, k, boundaries);
  const double equal_counts = lloyd_cost(sorted, n, k, kIterations, s1, s2, boundaries);
  const double cost = std::min(companded, equal_counts);
  return cost + 1e-9 * (s2[n] + cost);
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

// P(b) and Q(b) of the middle-split search (core/middle_split.h) for any
// even k = 2h. Q is P of the mirrored values (negated, reversed), so the
// same kernels serve both, and Q's split is a boundary of the mirrored
// values: the mirrored boundary m is the boundary n - m. Layers 2 .. h - 1
// of each side are solved up to a little past the rows within the cost
// bound, and P(b) and Q(b) at one b are one scan of layer h - 1. With 16
// clusters the search saves two of 14 layers.
class LayeredSides final : public MiddleSplitSides {
 public:
  LayeredSides(const float* sorted, int64_t n, int k, KMeansWorkspace& ws)
      : n_(n), k_(k), half_(k / 2), ws_(ws), kernels_(select_kmeans_dp_kernels()) {
    const size_t size = static_cast<size_t>(n) + 1;
    build_prefix_sums(sorted, n, kernels_, true, ws);
    ws.mirrored_sum.resize(size);
    ws.mirrored_square_sum.resize(size);
    ws.mirrored_layer.resize(size);
    const InverseTables inverse = grow_inverse_tables(n, ws);
    kernels_.mirror(ws.prefix_sum.data(), ws.prefix_square_sum.data(), n, inverse.by_count,
                    ws.mirrored_sum.data(), ws.mirrored_square_sum.data(),
                    ws.mirrored_layer.data());

    ws.next_layer.resize(size);
    ws.mirrored_next.resize(size);
    ws.splits.resize(static_cast<size_t>(k) * size);
    ws.mirrored_splits.resize(static_cast<size_t>(k) * size);
    const double bound = cost_bound(sorted, n, k, ws);
    prefix_within_ = solve_layers(ws.prefix_sum.data(), ws.prefix_square_sum.data(), inverse, n,
                                  k, half_ - 1, bound, kernels_, ws.previous_layer, ws.next_layer,
                                  ws.splits.data(), ws.anchors);
    suffix_within_ = solve_layers(ws.mirrored_sum.data(), ws.mirrored_square_sum.data(), inverse,
                                  n, k, half_ - 1, bound, kernels_, ws.mirrored_layer,
                                  ws.mirrored_next, ws.mirrored_splits.data(), ws.anchors);
    prefix_ = {ws.prefix_sum.data(), ws.prefix_square_sum.data(), ws.previous_layer.data(),
               inverse.by_count, inverse.reversed, n};
    suffix_ = {ws.mirrored_sum.data(), ws.mirrored_square_sum.data(), ws.mirrored_layer.data(),
               inverse.by_count, inverse.reversed, n};

    ws.row_costs.resize(2 * size);
    ws.row_splits.resize(2 * size);
  }

  void evaluate(int64_t b, int64_t p_lo, int64_t p_hi, int64_t q_lo, int64_t q_hi,
                MiddleRow* row) override {
    row->b = b;
    row->prefix_split = scan(prefix_, prefix_within_, b, p_lo, p_hi, &row->prefix_cost);
    row->suffix_split = scan(suffix_, suffix_within_, n_ - b, q_lo, q_hi, &row->suffix_cost);
  }

  // One group kernel call for P and one for Q. A strictly lower total
  // replaces the best, so ties keep the lowest b.
  void best_between(const MiddleRow& lo, const MiddleRow& hi, MiddleRow* row) override {
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
    group(prefix_, prefix_within_, first, count, p_lo, std::max(p_lo, p_hi), prefix_cost,
          prefix_split);
    const int64_t q_lo = std::max<int64_t>(hi.suffix_split, half_ - 1);
    const int64_t q_hi = std::min<int64_t>(lo.suffix_split, n_ - lo.b - 2);
    group(suffix_, suffix_within_, n_ - hi.b + 1, count, q_lo, std::max(q_lo, q_hi), suffix_cost,
          suffix_split);

    int64_t best = first;
    double best_total = kInfinity;
    for (int64_t b = first; b < hi.b; ++b) {
      const double total = prefix_cost[b] + suffix_cost[n_ - b];
      if (total < best_total) {
        best_total = total;
        best = b;
      }
    }
    *row = {best, prefix_split[best], suffix_split[n_ - best], prefix_cost[best],
            suffix_cost[n_ - best]};
  }

  // Writes the k + 1 boundaries 0 = b[0] < b[1] < ... < b[k] = n, back along
  // the splits of each side from the winning row.
  void boundaries(const MiddleRow& winner, int64_t* boundaries) const {
    boundaries[0] = 0;
    boundaries[half_] = winner.b;
    boundaries[half_ - 1] = winner.prefix_split;
    int64_t mirrored = winner.suffix_split;
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
  // The inner split of row i of one side, clamped to the non-empty clusters
  // and to the splits within the bound (`within`). With none left the cost
  // exceeds the bound: it is infinite, and the split is the upper limit.
  // The kernel's cost is in E form, and s2[i] is added back: the search's
  // bounds need P never to decrease with b and Q never to increase, which
  // holds for costs but not for E values. The addition rounds by about
  // ulp(s2[n]), far inside the search's margin of 1e-9 s2[n]
  // (middle_split_boundaries).
  int64_t scan(const KMeansDpArrays& arrays, int64_t within, int64_t i, int64_t lo, int64_t hi,
               double* cost) const {
    lo = std::max<int64_t>(lo, half_ - 1);
    hi = std::max(lo, std::min(hi, i - 1));
    if (lo > within) {
      *cost = kInfinity;
      return hi;
    }
    const int64_t split = kernels_.scan(arrays, i, lo, std::min(hi, within), cost);
    *cost += arrays.s2[i];
    return split;
  }

  // The group kernel for `count` rows from `first`, with the same clamping
  // and the same return to costs.
  void group(const KMeansDpArrays& arrays, int64_t within, int64_t first, int count, int64_t lo,
             int64_t hi, double* cost, int32_t* split) const {
    if (lo > within) {
      std::fill(cost + first, cost + first + count, kInfinity);
      std::fill(split + first, split + first + count, static_cast<int32_t>(hi));
      return;
    }
    kernels_.group(arrays, first, count, lo, std::min(hi, within), cost, split);
    for (int64_t i = first; i < first + count; ++i) cost[i] += arrays.s2[i];
  }

  const int64_t n_;
  const int k_;
  const int half_;  // h = k / 2 clusters on each side
  KMeansWorkspace& ws_;
  const KMeansDpKernels kernels_;
  KMeansDpArrays prefix_{};
  KMeansDpArrays suffix_{};
  int64_t prefix_within_ = 0;  // last row of layer h - 1 within the cost bound, each side
  int64_t suffix_within_ = 0;
};

// An even k >= 4 by its middle boundary: four clusters by the two-cluster
// kernels, more by full layers on both sides.
void middle_split_boundaries(const float* sorted, int64_t n, int k, KMeansWorkspace& ws,
                             int64_t* boundaries) {
  if (k == 4) {
    four_cluster_boundaries(sorted, n, ws, boundaries);
    return;
  }
  LayeredSides sides(sorted, n, k, ws);
  // Differences below this are rounding noise of the prefix sums.
  const double margin = 1e-9 * (ws.prefix_square_sum[n] + 1e-300);
  sides.boundaries(search_middle_split(n, k / 2, margin, sides, ws), boundaries);
}

}  // namespace

void kmeans1d_exact(const float* sorted, int64_t n, int k, KMeansWorkspace& ws, double* centroids) {
  if (fill_distinct_values(sorted, n, k, centroids)) return;

  // Here n > k, because there are more than k distinct values.
  int64_t boundaries[kMaxClusters + 1];
  if (k >= 4 && k % 2 == 0) {
    middle_split_boundaries(sorted, n, k, ws, boundaries);
    means_of_runs(ws.prefix_sum.data(), sorted[n / 2], boundaries, k, centroids);
    return;
  }
  const KMeansDpKernels kernels = select_kmeans_dp_kernels();
  build_prefix_sums(sorted, n, kernels, true, ws);
  const double* s1 = ws.prefix_sum.data();
  const double* s2 = ws.prefix_square_sum.data();
  const InverseTables inverse = grow_inverse_tables(n, ws);

  // Layers 2 .. k - 1 over every prefix that leaves one value for each later
  // cluster. The last layer needs only i = n, above the previous layer's
  // split at n - 1.
  const size_t size = static_cast<size_t>(n) + 1;
  ws.next_layer.resize(size);
  ws.splits.resize(static_cast<size_t>(k) * size);
  const double bound = k > 2 ? cost_bound(sorted, n, k, ws) : kInfinity;
  const int64_t within = solve_layers(s1, s2, inverse, n, k, k - 1, bound, kernels,
                                      ws.previous_layer, ws.next_layer, ws.splits.data(),
                                      ws.anchors);
  int32_t* last_split = ws.splits.data() + static_cast<size_t>(k - 1) * size;
  const int64_t j_end = std::min(n - 1, within);
  const int64_t j_begin =
      k > 2 ? std::min(j_end, std::max<int64_t>(k - 1, last_split[j_end - size])) : k - 1;
  double cost;
  last_split[n] = static_cast<int32_t>(kernels.scan(
      {s1, s2, ws.previous_layer.data(), inverse.by_count, inverse.reversed, n}, n, j_begin, j_end,
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

  build_prefix_sums(sorted, n, select_kmeans_dp_kernels(), false, ws);
  const double shift = sorted[n / 2];
  const double* s1 = ws.prefix_sum.data();

  int64_t boundaries[kMaxClusters + 1];
  equal_count_boundaries(n, k, boundaries);
  lloyd_boundaries(sorted, n, k, shift, s1, max_iterations, boundaries, centroids);
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
