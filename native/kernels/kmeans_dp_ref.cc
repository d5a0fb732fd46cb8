#include <limits>

#include "kernels/kmeans_dp.h"
#include "kernels/simd_level.h"

namespace claq {

int64_t kmeans_dp_scan_ref(const KMeansDpArrays& a, int64_t i, int64_t j_begin, int64_t j_end,
                           double* best_cost) {
  const double s1_i = a.s1[i];
  const double s2_i = a.s2[i];
  double best = std::numeric_limits<double>::infinity();
  int64_t best_j = j_begin;
  for (int64_t j = j_begin; j <= j_end; ++j) {
    const double d1 = s1_i - a.s1[j];
    const double cost = a.previous[j] + (s2_i - a.s2[j]) - d1 * d1 * a.inverse_count[i - j];
    if (cost < best) {
      best = cost;
      best_j = j;
    }
  }
  *best_cost = best;
  return best_j;
}

void kmeans_dp_group_ref(const KMeansDpArrays& a, int64_t i_begin, int count, int64_t j_begin,
                         int64_t j_end, double* next, int32_t* split) {
  for (int r = 0; r < count; ++r) {
    const int64_t i = i_begin + r;
    const int64_t last = j_end < i - 1 ? j_end : i - 1;
    double best;
    split[i] = static_cast<int32_t>(kmeans_dp_scan_ref(a, i, j_begin, last, &best));
    next[i] = best;
  }
}

KMeansDpKernels select_kmeans_dp_kernels() {
#if defined(__x86_64__)
  if (active_simd_level() == SimdLevel::kAvx512) {
    return {kmeans_dp_scan_avx512, kmeans_dp_group_avx512};
  }
#endif
  return {kmeans_dp_scan_ref, kmeans_dp_group_ref};
}

}  // namespace claq
