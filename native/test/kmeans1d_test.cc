// Exact 1-D K-Means against brute force over every split of small sorted
// columns (float64 costs, relative tolerance 1e-9 for prefix-sum rounding),
// the distinct-value rule (exact), and properties on larger columns.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "core/kmeans1d.h"
#include "core/radix_sort.h"
#include "kernels/simd_level.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

double run_cost(const std::vector<float>& v, int64_t begin, int64_t end) {
  double mean = 0;
  for (int64_t i = begin; i < end; ++i) mean += v[i];
  mean /= static_cast<double>(end - begin);
  double cost = 0;
  for (int64_t i = begin; i < end; ++i) cost += (v[i] - mean) * (v[i] - mean);
  return cost;
}

// Lowest cost over every split of the sorted values into k non-empty runs.
double brute_force_cost(const std::vector<float>& v, int k) {
  const int64_t n = static_cast<int64_t>(v.size());
  if (n <= k) return 0;
  double best = std::numeric_limits<double>::infinity();
  std::function<void(int64_t, int, double)> split = [&](int64_t begin, int left, double cost) {
    if (left == 1) {
      best = std::min(best, cost + run_cost(v, begin, n));
      return;
    }
    for (int64_t end = begin + 1; end <= n - (left - 1); ++end) {
      split(end, left - 1, cost + run_cost(v, begin, end));
    }
  };
  split(0, k, 0.0);
  return best;
}

std::vector<float> random_sorted(test::Rng& rng, int64_t n, bool few_levels) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) {
    x = few_levels ? static_cast<float>(rng.next() % 5) - 2.0f : static_cast<float>(rng.normal());
  }
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

CLAQ_TEST(kmeans_exact_matches_brute_force_on_small_columns) {
  KMeansWorkspace ws;
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
  CHECK(set_simd_level(level));
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    test::Rng rng(seed);
    const int64_t n = 1 + static_cast<int64_t>(rng.next() % 12);
    const std::vector<float> v = random_sorted(rng, n, seed % 4 == 0);
    for (int k : {2, 4, 8}) {
      std::vector<double> centroids(k);
      kmeans1d_exact(v.data(), n, k, ws, centroids.data());
      const double expected = brute_force_cost(v, k);
      const double actual = kmeans1d_cost(v.data(), n, centroids.data(), k);
      if (!(std::fabs(actual - expected) <= 1e-9 * (1 + expected))) {
        std::ostringstream os;
        os << "seed " << seed << " n " << n << " k " << k << ": cost " << actual
           << ", brute force " << expected;
        test::record_failure(__FILE__, __LINE__, os.str());
      }
      CHECK(std::is_sorted(centroids.begin(), centroids.end()));
    }
  }
  }
  set_simd_level(original);
}

// Columns shaped to stress the four-cluster search over the middle split:
// ties, tight groups with gaps, outliers at either end, runs of one value.
std::vector<float> adversarial_sorted(test::Rng& rng, int64_t n, int shape) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double u = static_cast<double>(rng.next() % 1000000) / 1e6;
    switch (shape) {
      case 0: v[i] = static_cast<float>(rng.normal()); break;
      case 1: v[i] = static_cast<float>(rng.next() % 6); break;       // six levels, many ties
      case 2: v[i] = static_cast<float>((i % 3) * 10 + u * 1e-3); break;  // three tight groups
      case 3: v[i] = static_cast<float>(u); break;                    // uniform
      case 4: v[i] = static_cast<float>(i < 2 ? 1e4 * (i + 1) : rng.normal()); break;
      default: v[i] = static_cast<float>(i + 1 == n ? -1e5 : (i % 2) * 1e-30); break;
    }
  }
  std::sort(v.begin(), v.end());
  return v;
}

CLAQ_TEST(kmeans_four_clusters_match_brute_force) {
  KMeansWorkspace ws;
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    for (uint64_t seed = 1; seed <= 36; ++seed) {
      test::Rng rng(seed * 31);
      const int64_t n = 5 + static_cast<int64_t>(rng.next() % 40);
      const std::vector<float> v = adversarial_sorted(rng, n, static_cast<int>(seed % 6));
      double centroids[4];
      kmeans1d_exact(v.data(), n, 4, ws, centroids);
      const double expected = brute_force_cost(v, 4);
      const double actual = kmeans1d_cost(v.data(), n, centroids, 4);
      if (!(std::fabs(actual - expected) <= 1e-9 * (1 + expected))) {
        std::ostringstream os;
        os << simd_level_name(level) << " seed " << seed << " n " << n << ": cost " << actual
           << ", brute force " << expected;
        test::record_failure(__FILE__, __LINE__, os.str());
      }
      CHECK(std::is_sorted(centroids, centroids + 4));
    }
  }
  set_simd_level(original);
}

// The plain O(k n^2) dynamic program in float64, with no monotonicity
// shortcut: the reference for columns too long for brute force.
double full_dp_cost(const std::vector<float>& v, int k) {
  const int64_t n = static_cast<int64_t>(v.size());
  std::vector<double> s1(n + 1, 0), s2(n + 1, 0);
  for (int64_t i = 0; i < n; ++i) {
    s1[i + 1] = s1[i] + v[i];
    s2[i + 1] = s2[i] + static_cast<double>(v[i]) * v[i];
  }
  const auto cost = [&](int64_t j, int64_t i) {
    const double d = s1[i] - s1[j];
    return s2[i] - s2[j] - d * d / static_cast<double>(i - j);
  };
  std::vector<double> layer(n + 1), next(n + 1);
  for (int64_t i = 1; i <= n; ++i) layer[i] = cost(0, i);
  for (int l = 2; l <= k; ++l) {
    for (int64_t i = l; i <= n; ++i) {
      next[i] = std::numeric_limits<double>::infinity();
      for (int64_t j = l - 1; j < i; ++j) next[i] = std::min(next[i], layer[j] + cost(j, i));
    }
    std::swap(layer, next);
  }
  return layer[n];
}

CLAQ_TEST(kmeans_exact_matches_full_dp_on_long_columns) {
  // Long enough for the anchor rows and the 16-row groups of the solver.
  KMeansWorkspace ws;
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
  CHECK(set_simd_level(level));
  for (uint64_t seed = 60; seed < 72; ++seed) {
    test::Rng rng(seed);
    const int64_t n = 17 + static_cast<int64_t>(rng.next() % 500);
    std::vector<float> v = seed % 5 == 2 ? adversarial_sorted(rng, n, static_cast<int>(seed % 6))
                                         : random_sorted(rng, n, seed % 3 == 0);
    if (seed % 4 == 1) {
      v.back() *= 40;  // a planted outlier
      std::sort(v.begin(), v.end());
    }
    for (int k : {2, 4, 8, 16}) {
      std::vector<double> centroids(k);
      kmeans1d_exact(v.data(), n, k, ws, centroids.data());
      const double actual = kmeans1d_cost(v.data(), n, centroids.data(), k);
      const double reference = full_dp_cost(v, k);
      // Prefix-sum costs round at the scale of the column's spread, so a
      // cost far below it (tight groups far apart) gets an absolute margin.
      const double spread = run_cost(v, 0, n);
      if (!(actual <= reference * (1 + 1e-9) + 1e-12 * (1 + spread))) {
        std::ostringstream os;
        os << "seed " << seed << " n " << n << " k " << k << ": cost " << actual << ", full DP "
           << reference;
        test::record_failure(__FILE__, __LINE__, os.str());
      }
    }
  }
  }
  set_simd_level(original);
}

// Four clusters on columns as long as a layer's: the first evaluations of the
// middle-split search scan thousands of splits, which the AVX-512 kernels
// prune by blocks.
CLAQ_TEST(kmeans_four_clusters_match_full_dp_on_layer_columns) {
  KMeansWorkspace ws;
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    for (uint64_t seed = 80; seed < 84; ++seed) {
      test::Rng rng(seed);
      const int64_t n = seed % 2 == 0 ? 4064 : 1500 + static_cast<int64_t>(rng.next() % 700);
      std::vector<float> v = seed == 82 ? adversarial_sorted(rng, n, 2)
                                        : random_sorted(rng, n, seed == 83);
      if (seed == 81) {
        v.front() *= 60;  // an outlier at each end
        v.back() *= 30;
        std::sort(v.begin(), v.end());
      }
      double centroids[4];
      kmeans1d_exact(v.data(), n, 4, ws, centroids);
      const double actual = kmeans1d_cost(v.data(), n, centroids, 4);
      const double reference = full_dp_cost(v, 4);
      const double spread = run_cost(v, 0, n);
      if (!(actual <= reference * (1 + 1e-9) + 1e-12 * (1 + spread))) {
        std::ostringstream os;
        os << simd_level_name(level) << " seed " << seed << " n " << n << ": cost " << actual
           << ", full DP " << reference;
        test::record_failure(__FILE__, __LINE__, os.str());
      }
    }
  }
  set_simd_level(original);
}

// A third of the values spread over [-100, 0], the rest in [0, 0.01]: almost
// all of the cost lies below the top cluster, so the best path's prefix
// costs come close to the total, right at the cost bound.
std::vector<float> wide_low_part(test::Rng& rng, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double u = rng.uniform();
    v[i] = static_cast<float>(i % 3 == 0 ? -100 * u : 0.01 * u);
  }
  std::sort(v.begin(), v.end());
  return v;
}

// Sixteen groups of equal counts, 100 apart: the lower seven spread over a
// width of 10, the upper nine over 1e-3. Equal-count clusters are then the
// best sixteen, so the cost bound is tight, and the first seven clusters
// carry nearly all of the cost: the last DP layer of the lower side needs
// every row within the bound.
std::vector<float> wide_and_tight_groups(test::Rng& rng, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t group = i * 16 / n;
    const double width = group < 7 ? 10 : 1e-3;
    v[i] = static_cast<float>(100 * group + width * rng.uniform());
  }
  std::sort(v.begin(), v.end());
  return v;
}

// Cauchy values clipped to +-1e4: heavy tails, where the cost bound's run
// from companded boundaries beats the one from equal counts.
std::vector<float> heavy_tailed(test::Rng& rng, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) {
    const double cauchy = std::tan(3.141592653589793 * (rng.uniform() - 0.5));
    x = static_cast<float>(std::max(-1e4, std::min(1e4, cauchy)));
  }
  std::sort(v.begin(), v.end());
  return v;
}

// Three to sixteen clusters on long columns. There the DP layers stop a
// little past the rows within the cost bound, and extend when the first
// guess falls short. The columns: normal values, outliers at both ends,
// uniform values, tight groups far apart, a wide low part under a tight top
// group, groups for which the bound is tight, and heavy tails.
CLAQ_TEST(kmeans_many_clusters_match_full_dp_on_long_columns) {
  KMeansWorkspace ws;
  const SimdLevel original = active_simd_level();
  for (uint64_t seed = 90; seed < 97; ++seed) {
    test::Rng rng(seed);
    const int64_t n = seed == 95 ? 1600 : 1200 + static_cast<int64_t>(rng.next() % 800);
    std::vector<float> v = seed == 92   ? adversarial_sorted(rng, n, 3)
                           : seed == 93 ? adversarial_sorted(rng, n, 2)
                           : seed == 94 ? wide_low_part(rng, n)
                           : seed == 95 ? wide_and_tight_groups(rng, n)
                           : seed == 96 ? heavy_tailed(rng, n)
                                        : random_sorted(rng, n, false);
    if (seed == 91) {
      v.front() *= 60;
      v.back() *= 30;
      std::sort(v.begin(), v.end());
    }
    const double spread = run_cost(v, 0, n);
    for (int k : {3, 5, 8, 16}) {
      const double reference = full_dp_cost(v, k);
      for (SimdLevel level : supported_simd_levels()) {
        CHECK(set_simd_level(level));
        std::vector<double> centroids(k);
        kmeans1d_exact(v.data(), n, k, ws, centroids.data());
        const double actual = kmeans1d_cost(v.data(), n, centroids.data(), k);
        if (!(actual <= reference * (1 + 1e-9) + 1e-12 * (1 + spread))) {
          std::ostringstream os;
          os << simd_level_name(level) << " seed " << seed << " n " << n << " k " << k
             << ": cost " << actual << ", full DP " << reference;
          test::record_failure(__FILE__, __LINE__, os.str());
        }
      }
    }
  }
  set_simd_level(original);
}

CLAQ_TEST(kmeans_returns_few_distinct_values_exactly) {
  KMeansWorkspace ws;
  const std::vector<float> v = {-2.0f, 0.1f, 0.1f, 1.5f, 1.5f, 1.5f, 3.25f};
  std::vector<double> centroids(8);
  kmeans1d_exact(v.data(), static_cast<int64_t>(v.size()), 8, ws, centroids.data());
  const std::vector<double> expected = {-2.0, 0.1f, 1.5, 3.25, 3.25, 3.25, 3.25, 3.25};
  for (int c = 0; c < 8; ++c) CHECK_EQ(centroids[c], expected[c]);

  kmeans1d_exact(v.data(), 4, 4, ws, centroids.data());  // {-2, 0.1, 0.1, 1.5}
  CHECK_EQ(centroids[0], -2.0);
  CHECK_EQ(centroids[1], static_cast<double>(0.1f));
  CHECK_EQ(centroids[2], 1.5);
  CHECK_EQ(centroids[3], 1.5);

  kmeans1d_lloyd(v.data(), static_cast<int64_t>(v.size()), 8, 50, ws, centroids.data());
  for (int c = 0; c < 8; ++c) CHECK_EQ(centroids[c], expected[c]);
}

CLAQ_TEST(kmeans_of_empty_column_is_zero) {
  KMeansWorkspace ws;
  std::vector<double> centroids(4, 7.0);
  kmeans1d_exact(nullptr, 0, 4, ws, centroids.data());
  for (double c : centroids) CHECK_EQ(c, 0.0);
}

CLAQ_TEST(kmeans_exact_never_loses_to_lloyd_or_fewer_centroids) {
  KMeansWorkspace ws;
  for (uint64_t seed = 100; seed < 110; ++seed) {
    test::Rng rng(seed);
    const int64_t n = 200 + static_cast<int64_t>(rng.next() % 3000);
    std::vector<float> v = random_sorted(rng, n, false);
    v.back() *= 30;  // one planted outlier
    double previous = std::numeric_limits<double>::infinity();
    for (int k : {2, 4, 8, 16}) {
      std::vector<double> exact(k), lloyd(k);
      kmeans1d_exact(v.data(), n, k, ws, exact.data());
      kmeans1d_lloyd(v.data(), n, k, 100, ws, lloyd.data());
      const double exact_cost = kmeans1d_cost(v.data(), n, exact.data(), k);
      const double lloyd_cost = kmeans1d_cost(v.data(), n, lloyd.data(), k);
      CHECK(exact_cost <= lloyd_cost * (1 + 1e-12));
      CHECK(exact_cost <= previous);
      previous = exact_cost;
    }
  }
}

CLAQ_TEST(radix_sort_matches_std_sort) {
  RadixSortWorkspace ws;
  test::Rng rng(5);
  for (int64_t n : {1, 2, 95, 96, 97, 1000, 4096}) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) {
      const uint64_t kind = rng.next() % 8;
      if (kind == 0) {
        x = 0.0f;
      } else if (kind == 1) {
        x = -0.0f;
      } else {
        x = static_cast<float>(rng.normal() * 1e3);
      }
    }
    std::vector<float> expected = v;
    std::sort(expected.begin(), expected.end());
    std::vector<float> sorted(v.size());
    radix_sort_f32(v.data(), n, sorted.data(), ws);
    CHECK(sorted == expected);
  }
}

namespace {

uint32_t bits_of(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

// The order the sorts promise, on the bits: -0 before +0.
bool float_bits_less(float a, float b) {
  const auto key = [](float x) {
    const uint32_t bits = bits_of(x);
    return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
  };
  return key(a) < key(b);
}

// Inputs that stress a quicksort and a total order on floats.
std::vector<float> adversarial_column(test::Rng& rng, int64_t n, int shape) {
  const float specials[] = {0.0f, -0.0f, 1e-45f, -1e-45f, 1e-38f, -1e-38f, INFINITY, -INFINITY,
                            3.4e38f, -3.4e38f};
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    switch (shape) {
      case 0: v[i] = static_cast<float>(rng.normal() * 1e3); break;
      case 1: v[i] = specials[rng.next() % 10]; break;
      case 2: v[i] = 7.0f; break;                                             // all equal
      case 3: v[i] = static_cast<float>(i); break;                            // ascending
      case 4: v[i] = static_cast<float>(n - i); break;                        // descending
      case 5: v[i] = static_cast<float>(rng.next() % 3) - 1.0f; break;        // three values
      case 6: v[i] = i % 97 == 0 ? 1e30f : static_cast<float>(rng.normal()); break;
      default: v[i] = static_cast<float>(std::ldexp(rng.normal(), static_cast<int>(rng.next() % 200) - 100));
    }
  }
  return v;
}

}  // namespace

CLAQ_TEST(column_sort_matches_std_sort_bits) {
  RadixSortWorkspace ws;
  test::Rng rng(77);
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    for (int64_t n : {0, 1, 2, 15, 16, 17, 100, 128, 129, 255, 256, 257, 1000, 4096, 5003}) {
      for (int shape = 0; shape < 8; ++shape) {
        const std::vector<float> v = adversarial_column(rng, n, shape);
        std::vector<float> expected = v;
        std::sort(expected.begin(), expected.end(), float_bits_less);
        std::vector<float> sorted(v.size(), 123.0f);
        sort_column_f32(v.data(), n, sorted.data(), ws);
        bool same = true;
        for (int64_t i = 0; i < n; ++i) same = same && bits_of(sorted[i]) == bits_of(expected[i]);
        if (!same) {
          std::ostringstream os;
          os << simd_level_name(level) << " n " << n << " shape " << shape << ": order differs";
          test::record_failure(__FILE__, __LINE__, os.str());
        }
      }
    }
  }
  set_simd_level(original);
}
