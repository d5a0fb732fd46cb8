#include <limits>

#include "kernels/kmeans_pair.h"
#include "kernels/simd_level.h"

namespace claq {
namespace {

// V(j, b) with 1 / |b - j| given: the outer term plus the inner term, each a
// square times an inverse count. The vector kernels use the same order.
double pair_value(const KMeansPairSide& side, int64_t j, double s1_b, double inner_inverse) {
  const double outer = side.s1[j] - side.outer_sum;
  const double inner = side.s1[j] - s1_b;
  return outer * outer * side.outer_inverse[j] + inner * inner * inner_inverse;
}

// Whether `value` replaces `best`: strictly higher, or equal on the suffix
// side, whose splits come in ascending order and keep the highest.
bool replaces(const KMeansPairSide& side, double value, double best) {
  return side.suffix ? value >= best : value > best;
}

}  // namespace

int64_t kmeans_pair_scan_ref(const KMeansPairSide& side, int64_t b, int64_t j_begin,
                             int64_t j_end, double* best_value) {
  const double s1_b = side.s1[b];
  double best = -std::numeric_limits<double>::infinity();
  int64_t best_j = j_begin;
  for (int64_t j = j_begin; j <= j_end; ++j) {
    const double value = pair_value(side, j, s1_b, side.scan_inverse[j - b]);
    if (replaces(side, value, best)) {
      best = value;
      best_j = j;
    }
  }
  *best_value = best;
  return best_j;
}

void kmeans_pair_group_ref(const KMeansPairSide& side, int64_t b_begin, int count,
                           int64_t j_begin, int64_t j_end, double* value, int32_t* split) {
  for (int64_t b = b_begin; b < b_begin + count; ++b) {
    const double s1_b = side.s1[b];
    double best = -std::numeric_limits<double>::infinity();
    int64_t best_j = j_begin;
    for (int64_t j = j_begin; j <= j_end; ++j) {
      const double inverse = side.row_inverse[b - j];
      if (!(inverse > 0)) continue;  // j on the other side of b
      const double v = pair_value(side, j, s1_b, inverse);
      if (replaces(side, v, best)) {
        best = v;
        best_j = j;
      }
    }
    value[b] = best;
    split[b] = static_cast<int32_t>(best_j);
  }
}

KMeansPairKernels select_kmeans_pair_kernels() {
#if defined(__x86_64__)
  if (active_simd_level() == SimdLevel::kAvx512) {
    return {kmeans_pair_scan_avx512, kmeans_pair_group_avx512};
  }
#endif
  return {kmeans_pair_scan_ref, kmeans_pair_group_ref};
}

}  // namespace claq
