// The K-Means DP kernels at every SIMD level against a float64 loop written
// here. The kernels promise the scalar operation order without fused
// multiply-add, so on x86-64 (no FMA in the baseline build) costs and splits
// match exactly. Where the compiler may fuse the scalar code (aarch64), costs
// get a relative tolerance of 1e-12.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/kmeans_dp.h"
#include "kernels/simd_level.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

#if defined(__x86_64__)
constexpr double kCostTolerance = 0;
#else
constexpr double kCostTolerance = 1e-12;
#endif

struct DpFixture {
  std::vector<double> s1, s2, previous, inverse_storage, reversed_storage;
  KMeansDpArrays arrays;

  // Prefix sums of n sorted normals; previous = the one-cluster layer in E
  // form (its cost minus s2), with values rounded to eighths so that exact
  // ties make the leftmost rule matter.
  explicit DpFixture(int64_t n, uint64_t seed) {
    test::Rng rng(seed);
    std::vector<double> v(static_cast<size_t>(n));
    for (double& x : v) x = std::round(rng.normal() * 8) / 8;  // many equal values
    std::sort(v.begin(), v.end());
    s1.assign(static_cast<size_t>(n) + 1, 0);
    s2.assign(static_cast<size_t>(n) + 1, 0);
    for (int64_t i = 0; i < n; ++i) {
      s1[i + 1] = s1[i] + v[i];
      s2[i + 1] = s2[i] + v[i] * v[i];
    }
    inverse_storage.assign(static_cast<size_t>(n) + 33, 0);
    for (int64_t c = 1; c <= n + 16; ++c) inverse_storage[c + 16] = 1.0 / c;
    previous.assign(static_cast<size_t>(n) + 1, 0);
    for (int64_t i = 1; i <= n; ++i) previous[i] = -(s1[i] * s1[i] / static_cast<double>(i));
    reversed_storage.assign(static_cast<size_t>(n) + 1, 0);
    for (int64_t c = 1; c <= n; ++c) reversed_storage[n - c] = 1.0 / c;
    arrays = {s1.data(), s2.data(), previous.data(), inverse_storage.data() + 16,
              reversed_storage.data() + n, n};
  }

  // The cost of the contract, in E form. It has no s2 term, which would add
  // the same s2[i] to every j.
  double cost(int64_t j, int64_t i) const {
    const double d1 = s1[i] - s1[j];
    return previous[j] - d1 * d1 * (1.0 / static_cast<double>(i - j));
  }

  // Checks the scan kernel's split and cost for row i against best_split.
  void check_scan(const KMeansDpKernels& kernels, int64_t i, int64_t j_begin,
                  int64_t j_end) const {
    double expected_cost, actual_cost;
    const int64_t expected = best_split(i, j_begin, j_end, &expected_cost);
    const int64_t actual = kernels.scan(arrays, i, j_begin, j_end, &actual_cost);
    CHECK_EQ(actual, expected);
    CHECK_NEAR(actual_cost, expected_cost, kCostTolerance * std::fabs(expected_cost));
  }

  // Leftmost minimiser by the plain definition.
  int64_t best_split(int64_t i, int64_t j_begin, int64_t j_end, double* best) const {
    int64_t arg = j_begin;
    *best = std::numeric_limits<double>::infinity();
    for (int64_t j = j_begin; j <= j_end; ++j) {
      if (cost(j, i) < *best) {
        *best = cost(j, i);
        arg = j;
      }
    }
    return arg;
  }
};

}  // namespace

CLAQ_TEST(kmeans_dp_scan_matches_loop_at_every_level) {
  const DpFixture f(300, 41);
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    const KMeansDpKernels kernels = select_kmeans_dp_kernels();
    for (int64_t i : {2, 3, 9, 17, 100, 300}) {
      for (int64_t j_begin : {int64_t{1}, i / 3, i - 1}) {
        for (int64_t j_end = j_begin; j_end < i; j_end += 1 + (j_end - j_begin) / 3) {
          f.check_scan(kernels, i, j_begin, j_end);
        }
      }
    }
  }
  set_simd_level(original);
}

CLAQ_TEST(kmeans_dp_group_matches_loop_at_every_level) {
  const DpFixture f(200, 42);
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    const KMeansDpKernels kernels = select_kmeans_dp_kernels();
    for (int count = 1; count <= 16; ++count) {
      for (int64_t i_begin : {int64_t{2}, int64_t{40}, int64_t{200 - count + 1}}) {
        const int64_t j_begin = i_begin / 2;
        // Past some rows (those lanes mask it), or far past every row.
        const int64_t j_end = i_begin == 40 ? 200 : i_begin + count - 1;
        std::vector<double> next(201, -1);
        std::vector<int32_t> split(201, -1);
        kernels.group(f.arrays, i_begin, count, j_begin, j_end, next.data(), split.data());
        for (int64_t i = i_begin; i < i_begin + count; ++i) {
          double expected_cost;
          const int64_t expected = f.best_split(i, j_begin, std::min(j_end, i - 1), &expected_cost);
          CHECK_EQ(split[i], static_cast<int32_t>(expected));
          CHECK_NEAR(next[i], expected_cost, kCostTolerance * std::fabs(expected_cost));
        }
        if (i_begin + count <= 200) CHECK_EQ(split[i_begin + count], -1);  // untouched
      }
    }
  }
  set_simd_level(original);
}

namespace {

// The blocked prefix sums as the kernel contract spells them out, written
// independently: eight-value blocks, shifts by 1, 2 and 4 places, carry.
void blocked_prefix_sums(const std::vector<float>& x, double shift, std::vector<double>& s1,
                         std::vector<double>& s2) {
  const int64_t n = static_cast<int64_t>(x.size());
  s1.assign(static_cast<size_t>(n) + 1, 0);
  s2.assign(static_cast<size_t>(n) + 1, 0);
  double carry[2] = {0, 0};
  for (int64_t start = 0; start < n; start += 8) {
    double block[2][8];
    for (int l = 0; l < 8; ++l) {
      const double v = start + l < n ? static_cast<double>(x[start + l]) - shift : 0.0;
      block[0][l] = v;
      block[1][l] = v * v;
    }
    for (double* b : block) {
      double once[8], twice[8];
      for (int l = 0; l < 8; ++l) once[l] = b[l] + (l >= 1 ? b[l - 1] : 0.0);
      for (int l = 0; l < 8; ++l) twice[l] = once[l] + (l >= 2 ? once[l - 2] : 0.0);
      for (int l = 0; l < 8; ++l) b[l] = twice[l] + (l >= 4 ? twice[l - 4] : 0.0);
    }
    for (int l = 0; l < 8 && start + l < n; ++l) {
      s1[start + l + 1] = carry[0] + block[0][l];
      s2[start + l + 1] = carry[1] + block[1][l];
    }
    carry[0] += block[0][7];
    carry[1] += block[1][7];
  }
}

}  // namespace

CLAQ_TEST(kmeans_prefix_sums_match_blocked_sums) {
  const SimdLevel original = active_simd_level();
  for (int64_t n : {1, 7, 8, 9, 63, 300, 1001}) {
    test::Rng rng(static_cast<uint64_t>(n) + 7);
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = static_cast<float>(rng.normal() * (rng.next() % 9 == 0 ? 50 : 1));
    std::sort(x.begin(), x.end());
    const double shift = x[n / 2];
    std::vector<double> inverse_storage(static_cast<size_t>(n) + 33, 0);
    for (int64_t c = 1; c <= n + 16; ++c) inverse_storage[c + 16] = 1.0 / static_cast<double>(c);
    const double* inverse = inverse_storage.data() + 16;

    std::vector<double> e1, e2;
    blocked_prefix_sums(x, shift, e1, e2);
    for (SimdLevel level : supported_simd_levels()) {
      CHECK(set_simd_level(level));
      const KMeansDpKernels kernels = select_kmeans_dp_kernels();
      std::vector<double> s1(n + 1, -1), s2(n + 1, -1), first(n + 1, -1);
      kernels.prefix(x.data(), n, shift, inverse, s1.data(), s2.data(), first.data());
      std::vector<double> t1(n + 1, -1), t2(n + 1, -1), mirrored(n + 1, -1);
      kernels.mirror(s1.data(), s2.data(), n, inverse, t1.data(), t2.data(), mirrored.data());
      for (int64_t i = 0; i <= n; ++i) {
        CHECK_EQ(s1[i], e1[i]);
        CHECK_NEAR(s2[i], e2[i], kCostTolerance * std::fabs(e2[i]));
        const double expected_first = -(e1[i] * e1[i] * inverse[i]);
        CHECK_NEAR(first[i], expected_first, kCostTolerance * std::fabs(e2[i]));
        const double m1 = e1[n - i] - e1[n];
        const double m2 = e2[n] - e2[n - i];
        CHECK_EQ(t1[i], m1);
        CHECK_NEAR(t2[i], m2, kCostTolerance * std::fabs(m2));
        CHECK_NEAR(mirrored[i], -(m1 * m1 * inverse[i]), kCostTolerance * std::fabs(m2));
      }

      // Without the one-cluster layer: the same sums.
      std::vector<double> u1(n + 1, -1), u2(n + 1, -1);
      kernels.prefix(x.data(), n, shift, inverse, u1.data(), u2.data(), nullptr);
      CHECK(u1 == s1);
      CHECK(u2 == s2);
    }
  }
  set_simd_level(original);
}

// Equal costs at several splits that the vector kernels keep in different
// lane sets. The scan returns the leftmost.
CLAQ_TEST(kmeans_dp_scan_keeps_leftmost_of_equal_costs) {
  const int64_t n = 200;
  std::vector<double> zeros(n + 1, 0), previous(n + 1, 5.0), inverse(n + 33, 0), reversed(n + 1, 0);
  for (int64_t c = 1; c <= n + 16; ++c) inverse[c + 16] = 1.0 / static_cast<double>(c);
  for (int64_t c = 1; c <= n; ++c) reversed[n - c] = 1.0 / static_cast<double>(c);
  const KMeansDpArrays arrays{zeros.data(), zeros.data(), previous.data(), inverse.data() + 16,
                              reversed.data() + n, n};
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    const KMeansDpKernels kernels = select_kmeans_dp_kernels();
    double cost;
    CHECK_EQ(kernels.scan(arrays, n, 3, n - 1, &cost), 3);  // every cost equal
    CHECK_EQ(cost, 5.0);

    // Minima at j = 21 (third lane set of the first 32 splits) and j = 42
    // (first lane set of the next 32), then at 150 alone.
    previous[21] = previous[42] = 1.0;
    CHECK_EQ(kernels.scan(arrays, n, 1, n - 1, &cost), 21);
    CHECK_EQ(kernels.scan(arrays, n, 22, n - 1, &cost), 42);
    previous[150] = 0.5;
    CHECK_EQ(kernels.scan(arrays, n, 1, n - 1, &cost), 150);
    CHECK_EQ(cost, 0.5);
    previous[21] = previous[42] = 5.0;
    previous[150] = 5.0;
  }
  set_simd_level(original);
}

// Scans of hundreds to thousands of splits, where the AVX-512 kernel skips
// blocks by a lower bound. They run on the one-cluster layer and on a
// two-cluster layer (computed here by the loop) of values with many ties.
CLAQ_TEST(kmeans_dp_long_scans_match_loop) {
  DpFixture f(2000, 43);
  std::vector<double> two_clusters(f.previous.size(), 0);
  for (int64_t i = 2; i <= 2000; ++i) f.best_split(i, 1, i - 1, &two_clusters[i]);
  const std::vector<double> one_cluster = f.previous;

  const SimdLevel original = active_simd_level();
  for (int layer = 1; layer <= 2; ++layer) {
    f.previous = layer == 1 ? one_cluster : two_clusters;
    f.arrays.previous = f.previous.data();
    const int64_t first = layer;
    for (SimdLevel level : supported_simd_levels()) {
      CHECK(set_simd_level(level));
      const KMeansDpKernels kernels = select_kmeans_dp_kernels();
      for (int64_t i : {300, 777, 1500, 2000}) {
        for (int64_t j_begin : {first, i / 4, i / 2 - 100}) {
          for (int64_t j_end : {i - 1, i / 2 + 200, j_begin + 255, j_begin + 256}) {
            if (j_end >= i || j_end < j_begin) continue;
            f.check_scan(kernels, i, j_begin, j_end);
          }
        }
      }
    }
  }
  set_simd_level(original);
}
