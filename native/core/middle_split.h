// The search over the middle boundary of an even number k = 2h of 1-D
// K-Means clusters (core/kmeans1d.cc). The best split is the lowest P(b) +
// Q(b), where P(b) is the best h-cluster cost of the sorted values [0, b)
// and Q(b) that of [b, n). P never decreases and Q never increases with b,
// so between two evaluated rows b0 < b1 every P(b) + Q(b) is at least P(b0)
// + Q(b1). An interval whose bound exceeds the best evaluated row is dropped,
// the others are bisected. The last inner splits of P and Q move
// monotonically with b, so each evaluation searches only between those of
// its evaluated neighbours. On column data few intervals survive.
//
// How P and Q are evaluated is up to the caller (MiddleSplitSides): from
// full DP layers of both sides for any h, or from the two-cluster kernels of
// kernels/kmeans_pair.h for h = 2.
#pragma once

#include <cstdint>

#include "core/kmeans1d.h"

namespace claq {

// Rows strictly between two evaluated rows that are evaluated together
// instead of bisected further.
constexpr int64_t kMiddleGroupRows = 16;

class MiddleSplitSides {
 public:
  virtual ~MiddleSplitSides() = default;

  // Writes P and Q at the middle boundary b to *row (or two costs with the
  // same sum, see interval_bound), with the inner split of P searched in
  // [p_lo, p_hi] and that of Q (the size of its top cluster) in [q_lo,
  // q_hi], both clamped to the non-empty clusters. Rows are written in
  // place because a 40-byte row returned in memory and copied at once stalls
  // on store forwarding.
  virtual void evaluate(int64_t b, int64_t p_lo, int64_t p_hi, int64_t q_lo, int64_t q_hi,
                        MiddleRow* row) = 0;

  // Writes the row of the lowest P + Q strictly between lo and hi (at most
  // kMiddleGroupRows rows) to *row, the lowest b on ties. P + Q is summed as
  // prefix_cost + suffix_cost, as the search compares rows.
  virtual void best_between(const MiddleRow& lo, const MiddleRow& hi, MiddleRow* row) = 0;

  // A lower bound of P + Q over the rows strictly between lo and hi. With
  // the costs of the rows as P and Q, it is P(lo) + Q(hi). A side may store
  // other costs with the same sum, and then bounds their intervals itself.
  // The sentinel rows (b = h - 1 and b = n - h + 1) carry P = 0 and Q = 0.
  virtual double interval_bound(const MiddleRow& lo, const MiddleRow& hi) {
    return lo.prefix_cost + hi.suffix_cost;
  }
};

// The row of the lowest P + Q (the lowest b on ties) over b in [h, n - h].
// `margin` is the rounding noise of the costs. An interval is dropped only
// when its bound is worse by more, so every row within the margin of the
// optimum is evaluated, and the winner does not depend on the search order.
MiddleRow search_middle_split(int64_t n, int half, double margin, MiddleSplitSides& sides,
                              KMeansWorkspace& ws);

}  // namespace claq
