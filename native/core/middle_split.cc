#include "core/middle_split.h"

#include <limits>
#include <vector>

namespace claq {
namespace {

struct Winner {
  double total = std::numeric_limits<double>::infinity();
  MiddleRow row{};

  // Keeps the lowest total, the lowest b on ties.
  void consider(const MiddleRow& candidate) {
    const double candidate_total = candidate.prefix_cost + candidate.suffix_cost;
    if (candidate_total < total || (candidate_total == total && candidate.b < row.b)) {
      total = candidate_total;
      row = candidate;
    }
  }
};

}  // namespace

MiddleRow search_middle_split(int64_t n, int half, double margin, MiddleSplitSides& sides,
                              KMeansWorkspace& ws) {
  // Two sentinel rows outside [h, n - h] bound the search: P(h - 1) >= 0
  // with no upper limit on the splits to their right, and Q(n - h + 1) >= 0
  // likewise.
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  const int64_t first = half - 1;
  std::vector<MiddleInterval>& open = ws.open_intervals;
  std::vector<MiddleInterval>& next = ws.next_intervals;
  open.assign(1, {{first, first, n, 0.0, kInfinity}, {n - first, n, first, kInfinity, 0.0}});
  Winner winner;

  // Breadth first, so the best total falls early.
  while (!open.empty()) {
    next.clear();
    for (const MiddleInterval& interval : open) {
      const MiddleRow& lo = interval.lo;
      const MiddleRow& hi = interval.hi;
      if (sides.interval_bound(lo, hi) > winner.total + margin) continue;
      if (hi.b - lo.b - 1 <= kMiddleGroupRows) {
        winner.consider(sides.best_between(lo, hi));
        continue;
      }
      const MiddleRow middle = sides.evaluate(lo.b + (hi.b - lo.b) / 2, lo.prefix_split,
                                              hi.prefix_split, hi.suffix_split, lo.suffix_split);
      winner.consider(middle);
      next.push_back({lo, middle});
      next.push_back({middle, hi});
    }
    std::swap(open, next);
  }
  return winner.row;
}

}  // namespace claq
