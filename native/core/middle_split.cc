#include "core/middle_split.h"

#include <limits>
#include <vector>

namespace claq {
namespace {

struct Winner {
  double total = std::numeric_limits<double>::infinity();
  int32_t row = -1;  // index into the evaluated rows

  // Keeps the lowest total, the lowest b on ties.
  void consider(const std::vector<MiddleRow>& rows, int32_t index) {
    const MiddleRow& candidate = rows[index];
    const double candidate_total = candidate.prefix_cost + candidate.suffix_cost;
    if (row < 0 || candidate_total < total ||
        (candidate_total == total && candidate.b < rows[row].b)) {
      total = candidate_total;
      row = index;
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
  std::vector<MiddleRow>& rows = ws.middle_rows;
  rows.assign({{first, first, n, 0.0, kInfinity}, {n - first, n, first, kInfinity, 0.0}});
  std::vector<MiddleInterval>& open = ws.open_intervals;
  std::vector<MiddleInterval>& next = ws.next_intervals;
  open.assign(1, {0, 1});
  Winner winner;

  // A new row at the end of `rows`, to be written by the sides.
  const auto add_row = [&rows] {
    rows.emplace_back();
    return static_cast<int32_t>(rows.size() - 1);
  };

  // Breadth first, so the best total falls early.
  while (!open.empty()) {
    next.clear();
    for (const MiddleInterval interval : open) {
      const MiddleRow lo = rows[interval.lo];
      const MiddleRow hi = rows[interval.hi];
      if (sides.interval_bound(lo, hi) > winner.total + margin) continue;
      const int32_t row = add_row();
      if (hi.b - lo.b - 1 <= kMiddleGroupRows) {
        sides.best_between(lo, hi, &rows[row]);
        winner.consider(rows, row);
        continue;
      }
      sides.evaluate(lo.b + (hi.b - lo.b) / 2, lo.prefix_split, hi.prefix_split, hi.suffix_split,
                     lo.suffix_split, &rows[row]);
      winner.consider(rows, row);
      next.push_back({interval.lo, row});
      next.push_back({row, interval.hi});
    }
    std::swap(open, next);
  }
  return rows[winner.row];
}

}  // namespace claq
