// Times one column's sort (the radix sort and the sort the column loop uses
// at this SIMD level), K-Means (exact DP and Lloyd) on the sorted values with
// their squared error, and the fused code assignment, on normal values.
// Thread CPU time, so other jobs on the machine inflate the figures less
// than wall time would.
//
//   sh bench/engine-native.sh --kmeans [values] [columns]
#include <time.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/kmeans1d.h"
#include "core/radix_sort.h"
#include "kernels/codebook_assign.h"
#include "kernels/simd_level.h"

using namespace claq;

namespace {

double thread_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 4064;
  const int columns = argc > 2 ? std::atoi(argv[2]) : 300;
  std::printf("simd %s, %lld values per column, %d columns\n",
              simd_level_name(active_simd_level()), static_cast<long long>(n), columns);

  // Fixed-seed normals (64-bit LCG + Box-Muller).
  uint64_t state = 1;
  const auto uniform = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) * (1.0 / 9007199254740992.0);
  };
  std::vector<std::vector<float>> raw(columns, std::vector<float>(n));
  for (std::vector<float>& column : raw) {
    for (float& x : column) {
      x = static_cast<float>(std::sqrt(-2 * std::log(uniform() + 1e-300)) *
                             std::cos(6.283185307179586 * uniform()));
    }
  }

  RadixSortWorkspace radix;
  std::vector<std::vector<float>> sorted(columns, std::vector<float>(n));
  double start = thread_seconds();
  for (int c = 0; c < columns; ++c) radix_sort_f32(raw[c].data(), n, sorted[c].data(), radix);
  std::printf("radix sort: %.1f us per column\n", (thread_seconds() - start) / columns * 1e6);
  start = thread_seconds();
  for (int c = 0; c < columns; ++c) sort_column_f32(raw[c].data(), n, sorted[c].data(), radix);
  std::printf("column sort: %.1f us per column\n", (thread_seconds() - start) / columns * 1e6);

  KMeansWorkspace ws;
  for (int k : {4, 8, 16}) {
    std::vector<double> centroids(k);
    double exact_cost = 0, lloyd_cost = 0;
    start = thread_seconds();
    for (int c = 0; c < columns; ++c) kmeans1d_exact(sorted[c].data(), n, k, ws, centroids.data());
    const double exact_seconds = thread_seconds() - start;
    start = thread_seconds();
    for (int c = 0; c < columns; ++c) {
      kmeans1d_lloyd(sorted[c].data(), n, k, 100, ws, centroids.data());
    }
    const double lloyd_seconds = thread_seconds() - start;

    for (int c = 0; c < columns; ++c) {
      kmeans1d_exact(sorted[c].data(), n, k, ws, centroids.data());
      exact_cost += kmeans1d_cost(sorted[c].data(), n, centroids.data(), k);
      kmeans1d_lloyd(sorted[c].data(), n, k, 100, ws, centroids.data());
      lloyd_cost += kmeans1d_cost(sorted[c].data(), n, centroids.data(), k);
    }
    std::printf("k = %2d: exact %.1f us, Lloyd %.1f us per column; Lloyd error %+.4f %%\n", k,
                exact_seconds / columns * 1e6, lloyd_seconds / columns * 1e6,
                100 * (lloyd_cost / exact_cost - 1));
  }

  // Code assignment against 4 centroids, thresholds at the midpoints.
  double centroids[4];
  float codebook[4], thresholds[3];
  std::vector<uint8_t> codes(n);
  std::vector<float> quantized(n);
  double total_error = 0;
  start = thread_seconds();
  for (int c = 0; c < columns; ++c) {
    kmeans1d_exact(sorted[c].data(), n, 4, ws, centroids);
    for (int l = 0; l < 4; ++l) codebook[l] = static_cast<float>(centroids[l]);
    for (int l = 0; l < 3; ++l) thresholds[l] = 0.5f * (codebook[l] + codebook[l + 1]);
    total_error += assign_codebook(raw[c].data(), n, thresholds, 4, codebook, nullptr,
                                   codes.data(), quantized.data());
  }
  std::printf("exact K-Means + code assignment, k = 4: %.1f us per column (error %.6g)\n",
              (thread_seconds() - start) / columns * 1e6, total_error);
  return 0;
}
