#include <limits>

#include "kernels/kmeans_dp.h"
#include "kernels/simd_level.h"

namespace claq {

int64_t kmeans_dp_scan_ref(const KMeansDpArrays& a, int64_t i, int64_t j_begin, int64_t j_end,
                           double* best_cost) {
  const double s1_i = a.s1[i];
  double best = std::numeric_limits<double>::infinity();
  int64_t best_j = j_begin;
  for (int64_t j = j_begin; j <= j_end; ++j) {
    const double d1 = s1_i - a.s1[j];
    const double cost = a.previous[j] - d1 * d1 * a.inverse_count[i - j];
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

void kmeans_dp_prefix_ref(const float* sorted, int64_t n, double shift,
                          const double* inverse_count, double* s1, double* s2, double* first) {
  constexpr int kBlock = 8;
  double carry1 = 0, carry2 = 0;
  s1[0] = 0;
  s2[0] = 0;
  if (first != nullptr) first[0] = 0;
  for (int64_t start = 0; start < n; start += kBlock) {
    double a[kBlock], b[kBlock];
    for (int l = 0; l < kBlock; ++l) {
      const double v = start + l < n ? static_cast<double>(sorted[start + l]) - shift : 0.0;
      a[l] = v;
      b[l] = v * v;
    }
    for (int step = 1; step < kBlock; step *= 2) {
      for (int l = kBlock - 1; l >= 0; --l) {
        a[l] += l >= step ? a[l - step] : 0.0;
        b[l] += l >= step ? b[l - step] : 0.0;
      }
    }
    for (int l = 0; l < kBlock; ++l) {
      a[l] = carry1 + a[l];
      b[l] = carry2 + b[l];
    }
    carry1 = a[kBlock - 1];
    carry2 = b[kBlock - 1];
    for (int l = 0; l < kBlock && start + l < n; ++l) {
      const int64_t i = start + l + 1;
      s1[i] = a[l];
      s2[i] = b[l];
      if (first != nullptr) first[i] = -(a[l] * a[l] * inverse_count[i]);
    }
  }
}

void kmeans_dp_mirror_ref(const double* s1, const double* s2, int64_t n,
                          const double* inverse_count, double* t1, double* t2,
                          double* mirrored_first) {
  for (int64_t m = 0; m <= n; ++m) {
    t1[m] = s1[n - m] - s1[n];
    t2[m] = s2[n] - s2[n - m];
    mirrored_first[m] = -(t1[m] * t1[m] * inverse_count[m]);
  }
}

KMeansDpKernels select_kmeans_dp_kernels() {
#if defined(__x86_64__)
  if (active_simd_level() == SimdLevel::kAvx512) {
    return {kmeans_dp_scan_avx512, kmeans_dp_group_avx512, kmeans_dp_prefix_avx512,
            kmeans_dp_mirror_avx512};
  }
#endif
  return {kmeans_dp_scan_ref, kmeans_dp_group_ref, kmeans_dp_prefix_ref, kmeans_dp_mirror_ref};
}

}  // namespace claq
