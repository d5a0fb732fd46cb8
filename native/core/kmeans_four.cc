#include "core/kmeans_four.h"

#include <algorithm>
#include <limits>

#include "core/kmeans_prefix.h"
#include "core/middle_split.h"
#include "kernels/kmeans_pair.h"

namespace claq {
namespace {

// P(b) and Q(b) from the two-cluster kernels. A kernel returns the highest V
// of its side, whose cost is the side's square sum minus V: P(b) = s2[b] -
// V_P and Q(b) = (s2[n] - s2[b]) - V_Q. The square sums exist only at every
// eighth position (s2_blocks), so a row keeps P - s2[b] = -V_P as its prefix
// cost and Q + s2[b] = s2[n] - V_Q as its suffix cost. Their sum is P + Q,
// and interval_bound takes s2[b] between the neighbouring multiples of
// eight. Q's split is kept as the size of the top cluster, m = n - c for the
// boundary c.
class PairSides final : public MiddleSplitSides {
 public:
  PairSides(const float* sorted, int64_t n, KMeansWorkspace& ws)
      : n_(n), kernels_(select_kmeans_pair_kernels()) {
    const InverseTables inverse = grow_inverse_tables(n, ws);
    ws.prefix_sum.resize(static_cast<size_t>(n) + 1);
    ws.prefix_square_sum.resize(static_cast<size_t>((n + 7) / 8) + 1);
    kernels_.prefix(sorted, n, sorted[n / 2], ws.prefix_sum.data(), ws.prefix_square_sum.data());
    s2_blocks_ = ws.prefix_square_sum.data();
    square_sum_ = s2_blocks_[(n + 7) / 8];

    const double* s1 = ws.prefix_sum.data();
    prefix_ = {s1, s2_blocks_, n, 0.0, inverse.by_count, inverse.reversed, inverse.by_count, false};
    suffix_ = {s1,       s2_blocks_,       n, s1[n], inverse.reversed - n, inverse.by_count,
               inverse.reversed, true};
    ws.row_costs.resize(2 * (static_cast<size_t>(n) + 1));
    ws.row_splits.resize(2 * (static_cast<size_t>(n) + 1));
    prefix_values_ = ws.row_costs.data();
    suffix_values_ = prefix_values_ + n + 1;
    prefix_splits_ = ws.row_splits.data();
    suffix_splits_ = prefix_splits_ + n + 1;
  }

  // The sum of the squares of all values.
  double square_sum() const { return square_sum_; }

  void evaluate(int64_t b, int64_t p_lo, int64_t p_hi, int64_t q_lo, int64_t q_hi,
                MiddleRow* row) override {
    row->b = b;
    double value;
    p_lo = std::max<int64_t>(p_lo, 1);
    p_hi = std::max(p_lo, std::min(p_hi, b - 1));
    row->prefix_split = kernels_.scan(prefix_, b, p_lo, p_hi, &value);
    row->prefix_cost = -value;

    q_lo = std::max<int64_t>(q_lo, 1);
    q_hi = std::max(q_lo, std::min(q_hi, n_ - b - 1));
    row->suffix_split = n_ - kernels_.scan(suffix_, b, n_ - q_hi, n_ - q_lo, &value);
    row->suffix_cost = square_sum_ - value;
  }

  void best_between(const MiddleRow& lo, const MiddleRow& hi, MiddleRow* row) override {
    const int64_t first = lo.b + 1;
    const int count = static_cast<int>(hi.b - lo.b - 1);

    // The splits of P stay below the last row and those of Q above the first
    // (the sentinel rows carry no limit on that side).
    const int64_t p_lo = std::max<int64_t>(lo.prefix_split, 1);
    const int64_t p_hi = std::min<int64_t>(hi.prefix_split, hi.b - 2);
    kernels_.group(prefix_, first, count, p_lo, std::max(p_lo, p_hi), prefix_values_,
                   prefix_splits_);
    const int64_t q_lo = std::max<int64_t>(hi.suffix_split, 1);
    const int64_t q_hi = std::min<int64_t>(lo.suffix_split, n_ - lo.b - 2);
    kernels_.group(suffix_, first, count, n_ - std::max(q_lo, q_hi), n_ - q_lo, suffix_values_,
                   suffix_splits_);

    // A strictly lower total replaces the best, so ties keep the lowest b.
    int64_t best = first;
    double best_total = std::numeric_limits<double>::infinity();
    for (int64_t b = first; b < hi.b; ++b) {
      const double total = -prefix_values_[b] + (square_sum_ - suffix_values_[b]);
      if (total < best_total) {
        best_total = total;
        best = b;
      }
    }
    *row = {best, prefix_splits_[best], n_ - suffix_splits_[best], -prefix_values_[best],
            square_sum_ - suffix_values_[best]};
  }

  // P(lo) + Q(hi) = prefix_cost(lo) + suffix_cost(hi) - (s2[hi.b] - s2[lo.b]).
  // Squares are never negative, so s2 at the multiples of eight around lo.b
  // and hi.b bounds that difference from above. The sentinels carry P = 0
  // (b = 1) and Q = 0 (b = n - 1) as true costs.
  double interval_bound(const MiddleRow& lo, const MiddleRow& hi) override {
    const double below = lo.b <= 1 ? 0.0 : s2_blocks_[lo.b / 8];  // at most s2[lo.b]
    const double above = hi.b >= n_ - 1 ? square_sum_ : s2_blocks_[(hi.b + 7) / 8];  // at least s2[hi.b]
    const double p = lo.b <= 1 ? 0.0 : lo.prefix_cost;                 // P(lo) - s2[lo.b]
    const double q = hi.b >= n_ - 1 ? square_sum_ : hi.suffix_cost;    // Q(hi) + s2[hi.b]
    return (p + below) + (q - above);
  }

 private:
  const int64_t n_;
  const KMeansPairKernels kernels_;
  const double* s2_blocks_;
  double square_sum_;
  KMeansPairSide prefix_{};
  KMeansPairSide suffix_{};
  double* prefix_values_;
  double* suffix_values_;
  int32_t* prefix_splits_;
  int32_t* suffix_splits_;
};

}  // namespace

void four_cluster_boundaries(const float* sorted, int64_t n, KMeansWorkspace& ws,
                             int64_t* boundaries) {
  PairSides sides(sorted, n, ws);

  // Differences below this are rounding noise of the prefix sums.
  const double margin = 1e-9 * (sides.square_sum() + 1e-300);
  const MiddleRow winner = search_middle_split(n, 2, margin, sides, ws);
  boundaries[0] = 0;
  boundaries[1] = winner.prefix_split;
  boundaries[2] = winner.b;
  boundaries[3] = n - winner.suffix_split;
  boundaries[4] = n;
}

}  // namespace claq
