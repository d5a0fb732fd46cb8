#include <algorithm>
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

void kmeans_pair_prefix_ref(const float* sorted, int64_t n, double shift, double* s1,
                            double* s2_blocks) {
  constexpr int kLanes = 8;
  const auto scan_in_place = [](double* x) {
    for (int step = 1; step < kLanes; step *= 2) {
      for (int l = kLanes - 1; l >= step; --l) x[l] += x[l - step];
    }
  };

  const int64_t blocks = (n + kLanes - 1) / kLanes;
  double carry1 = 0, carry2 = 0;
  s1[0] = 0;
  s2_blocks[0] = 0;
  for (int64_t group = 0; group < blocks; group += kLanes) {
    double totals[kLanes] = {};
    for (int64_t u = group; u < std::min(blocks, group + kLanes); ++u) {
      const int64_t start = u * kLanes;
      double v[kLanes], q[kLanes];
      for (int l = 0; l < kLanes; ++l) {
        v[l] = start + l < n ? static_cast<double>(sorted[start + l]) - shift : 0.0;
        q[l] = v[l] * v[l];
      }
      totals[u - group] = ((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7]));

      scan_in_place(v);
      for (int l = 0; l < kLanes && start + l < n; ++l) s1[start + l + 1] = carry1 + v[l];
      carry1 = carry1 + v[kLanes - 1];
    }

    scan_in_place(totals);
    for (int64_t l = 0; l < kLanes && group + l < blocks; ++l) {
      s2_blocks[group + l + 1] = carry2 + totals[l];
    }
    carry2 = carry2 + totals[kLanes - 1];
  }
}

KMeansPairKernels select_kmeans_pair_kernels() {
#if defined(__x86_64__)
  if (active_simd_level() == SimdLevel::kAvx512) {
    return {kmeans_pair_scan_avx512, kmeans_pair_group_avx512, kmeans_pair_prefix_avx512};
  }
#endif
  return {kmeans_pair_scan_ref, kmeans_pair_group_ref, kmeans_pair_prefix_ref};
}

}  // namespace claq
