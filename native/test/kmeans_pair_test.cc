// The two-cluster kernels of the four-cluster K-Means search at every SIMD
// level against a float64 loop written here, on both sides of the middle
// boundary. The kernels promise the scalar operation order without fused
// multiply-add, so on x86-64 (no FMA in the baseline build) values and
// splits match exactly. So do the prefix sums, whose order the contract fixes. Where the compiler may fuse the scalar code
// (aarch64), values get a relative tolerance of 1e-12.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/kmeans_dp.h"
#include "kernels/kmeans_pair.h"
#include "kernels/simd_level.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

#if defined(__x86_64__)
constexpr double kValueTolerance = 0;
#else
constexpr double kValueTolerance = 1e-12;
#endif

// Tables of 1 / count with the padding the kernels read: by_count[c] for c
// in -16 .. n + 16 (zero up to 0), reversed[-c] = 1 / c for c in 1 .. n and
// zero for -c in 0 .. 16.
struct InverseStorage {
  std::vector<double> by_count, reversed;

  explicit InverseStorage(int64_t n) : by_count(n + 33, 0), reversed(n + 17, 0) {
    for (int64_t c = 1; c <= n + 16; ++c) by_count[c + 16] = 1.0 / static_cast<double>(c);
    for (int64_t c = 1; c <= n; ++c) reversed[n - c] = 1.0 / static_cast<double>(c);
  }
  const double* forward() const { return by_count.data() + 16; }
  const double* backward(int64_t n) const { return reversed.data() + n; }
};

struct PairFixture {
  int64_t n;
  std::vector<double> s1, s2, s2_blocks;
  InverseStorage inverse;
  KMeansPairSide prefix, suffix;

  // Prefix sums of n sorted normals rounded to eighths, so many values are
  // equal, shifted by their median as the solver does.
  PairFixture(int64_t size, uint64_t seed) : n(size), inverse(size) {
    test::Rng rng(seed);
    std::vector<double> v(static_cast<size_t>(n));
    for (double& x : v) x = std::round(rng.normal() * 8) / 8;
    std::sort(v.begin(), v.end());
    const double shift = v[n / 2];
    s1.assign(n + 1, 0);
    s2.assign(n + 1, 0);
    for (int64_t i = 0; i < n; ++i) {
      s1[i + 1] = s1[i] + (v[i] - shift);
      s2[i + 1] = s2[i] + (v[i] - shift) * (v[i] - shift);
    }
    for (int64_t u = 0; u <= (n + 7) / 8; ++u) s2_blocks.push_back(s2[std::min(8 * u, n)]);
    const double* forward = inverse.forward();
    const double* backward = inverse.backward(n);
    prefix = {s1.data(), s2_blocks.data(), n, 0.0, forward, backward, forward, false};
    suffix = {s1.data(), s2_blocks.data(), n, s1[n], backward - n, forward, backward, true};
  }

  // V(j, b) by its definition: squared sums over sizes of the outer and the
  // inner cluster of the side.
  double value(bool on_suffix, int64_t j, int64_t b) const {
    const double outer = on_suffix ? s1[n] - s1[j] : s1[j];
    const double outer_size = on_suffix ? static_cast<double>(n - j) : static_cast<double>(j);
    const double inner = s1[j] - s1[b];
    const double inner_size = static_cast<double>(on_suffix ? j - b : b - j);
    return outer * outer * (1.0 / outer_size) + inner * inner * (1.0 / inner_size);
  }

  // The best split in [j_begin, j_end]: lowest on the prefix side, highest
  // on the suffix side among equal values.
  int64_t best_split(bool on_suffix, int64_t b, int64_t j_begin, int64_t j_end,
                     double* best) const {
    *best = -std::numeric_limits<double>::infinity();
    int64_t arg = j_begin;
    for (int64_t j = j_begin; j <= j_end; ++j) {
      const double v = value(on_suffix, j, b);
      if (v > *best || (on_suffix && v == *best)) {
        *best = v;
        arg = j;
      }
    }
    return arg;
  }

  void check_scan(const KMeansPairKernels& kernels, bool on_suffix, int64_t b, int64_t j_begin,
                  int64_t j_end) const {
    double expected_value, actual_value;
    const int64_t expected = best_split(on_suffix, b, j_begin, j_end, &expected_value);
    const int64_t actual =
        kernels.scan(on_suffix ? suffix : prefix, b, j_begin, j_end, &actual_value);
    CHECK_EQ(actual, expected);
    CHECK_NEAR(actual_value, expected_value, kValueTolerance * std::fabs(expected_value));
  }

  // Scans of the splits of row b, from the whole side to short ranges.
  void check_scans_of_row(const KMeansPairKernels& kernels, int64_t b) const {
    for (int64_t j_begin : {int64_t{1}, std::max<int64_t>(1, b / 3), b - 1}) {
      for (int64_t j_end = j_begin; j_end < b; j_end += 1 + (j_end - j_begin) / 3) {
        check_scan(kernels, false, b, j_begin, j_end);
      }
    }
    for (int64_t j_end : {n - 1, b + (n - b) / 2, b + 1}) {
      for (int64_t j_begin = j_end; j_begin > b; j_begin -= 1 + (j_end - j_begin) / 3) {
        check_scan(kernels, true, b, j_begin, j_end);
      }
    }
  }
};

}  // namespace

CLAQ_TEST(kmeans_pair_scan_matches_loop_at_every_level) {
  const PairFixture f(300, 51);
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    const KMeansPairKernels kernels = select_kmeans_pair_kernels();
    for (int64_t b : {2, 3, 9, 17, 100, 150, 298}) f.check_scans_of_row(kernels, b);
  }
  set_simd_level(original);
}

// Scans of hundreds to thousands of splits, where the AVX-512 kernel skips
// blocks by an upper bound, on both sides.
CLAQ_TEST(kmeans_pair_long_scans_match_loop) {
  const PairFixture f(3000, 52);
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    const KMeansPairKernels kernels = select_kmeans_pair_kernels();
    for (int64_t b : {300, 1111, 1500, 2700}) {
      for (int64_t j_begin : {int64_t{1}, b / 4, b / 2 - 100}) {
        for (int64_t j_end : {b - 1, b / 2 + 200, j_begin + 255, j_begin + 256}) {
          if (j_end < b && j_end >= j_begin) f.check_scan(kernels, false, b, j_begin, j_end);
        }
      }
      for (int64_t j_end : {f.n - 1, (b + f.n) / 2, b + 300}) {
        for (int64_t j_begin : {b + 1, j_end - 255, j_end - 256, (b + j_end) / 2}) {
          if (j_begin > b && j_begin <= j_end && j_end < f.n) {
            f.check_scan(kernels, true, b, j_begin, j_end);
          }
        }
      }
    }
  }
  set_simd_level(original);
}

// Rows of 1 to 16 middle boundaries against split ranges that reach past some
// of them: those splits lie on the wrong side for some rows and must be
// skipped there.
CLAQ_TEST(kmeans_pair_group_matches_loop_at_every_level) {
  const PairFixture f(200, 53);
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    const KMeansPairKernels kernels = select_kmeans_pair_kernels();
    for (int count = 1; count <= 16; ++count) {
      for (int64_t b_begin : {int64_t{2}, int64_t{40}, int64_t{199 - count}}) {
        const int64_t b_last = b_begin + count - 1;
        for (bool on_suffix : {false, true}) {
          // Each row keeps at least one split on its side.
          const int64_t j_begin = on_suffix ? b_begin + 1 : std::max<int64_t>(1, b_begin / 2);
          const int64_t j_end = on_suffix ? std::min<int64_t>(f.n - 1, b_last + 30) : b_last - 1;
          std::vector<double> value(f.n + 1, -1);
          std::vector<int32_t> split(f.n + 1, -1);
          kernels.group(on_suffix ? f.suffix : f.prefix, b_begin, count, j_begin, j_end,
                        value.data(), split.data());
          for (int64_t b = b_begin; b <= b_last; ++b) {
            const int64_t lo = on_suffix ? std::max(j_begin, b + 1) : j_begin;
            const int64_t hi = on_suffix ? j_end : std::min(j_end, b - 1);
            double expected_value;
            const int64_t expected = f.best_split(on_suffix, b, lo, hi, &expected_value);
            CHECK_EQ(split[b], static_cast<int32_t>(expected));
            CHECK_NEAR(value[b], expected_value, kValueTolerance * std::fabs(expected_value));
          }
          if (b_last + 1 <= f.n) CHECK_EQ(split[b_last + 1], -1);  // untouched
          CHECK_EQ(split[b_begin - 1], -1);
        }
      }
    }
  }
  set_simd_level(original);
}

// Equal values at splits that the vector kernels keep in different lane
// sets or chains: the prefix side returns the lowest, the suffix side the
// highest. Tables of ones (zero on the wrong side of b) make V(j) = 2 s1[j]^2
// for rows with s1[b] = 0.
CLAQ_TEST(kmeans_pair_ties_keep_the_outermost_split) {
  const int64_t n = 200;
  std::vector<double> s1(n + 1, 0), s2(n + 1, 0), ones(2 * n + 40, 1.0), rows(2 * n + 40, 0);
  const int64_t middle = n + 20;  // index of b - j = 0 in `rows`
  KMeansPairSide prefix{s1.data(), s2.data(), n, 0.0, ones.data() + middle,
                        ones.data() + middle, rows.data() + middle, false};
  KMeansPairSide suffix = prefix;
  suffix.suffix = true;
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    const KMeansPairKernels kernels = select_kmeans_pair_kernels();
    double value;
    CHECK_EQ(kernels.scan(prefix, n, 3, n - 1, &value), 3);  // every value 0
    CHECK_EQ(kernels.scan(suffix, 0, 1, n - 1, &value), n - 1);

    // Highest at j = 21 (third lane set of the first 32 splits) and j = 42
    // (first lane set of the next 32), then at 150 alone.
    s1[21] = s1[42] = 1.0;
    CHECK_EQ(kernels.scan(prefix, n, 1, n - 1, &value), 21);
    CHECK_EQ(value, 2.0);
    CHECK_EQ(kernels.scan(suffix, 0, 1, n - 1, &value), 42);
    s1[150] = -2.0;
    CHECK_EQ(kernels.scan(prefix, n, 1, n - 1, &value), 150);
    CHECK_EQ(kernels.scan(suffix, 0, 1, n - 1, &value), 150);
    CHECK_EQ(value, 8.0);
    s1[150] = 0;

    // Rows 60 .. 75 (prefix) see splits 1 .. 59, rows 0 .. 15 (suffix) see
    // 16 .. 59: ties at 21 and 42 on even and odd steps alike.
    for (int64_t x = 1; x <= n; ++x) rows[middle + x] = 1.0;  // b - j >= 1: prefix
    std::vector<double> values(n + 1);
    std::vector<int32_t> splits(n + 1);
    s1[22] = 1.0;
    kernels.group(prefix, 60, 16, 1, 59, values.data(), splits.data());
    for (int64_t b = 60; b < 76; ++b) CHECK_EQ(splits[b], 21);
    for (int64_t x = 1; x <= n; ++x) rows[middle + x] = 0.0;
    for (int64_t x = 1; x <= n; ++x) rows[middle - x] = 1.0;  // b - j <= -1: suffix
    kernels.group(suffix, 0, 16, 16, 59, values.data(), splits.data());
    for (int64_t b = 0; b < 16; ++b) CHECK_EQ(splits[b], 42);
    for (int64_t x = 1; x <= n; ++x) rows[middle - x] = 0.0;
    s1[21] = s1[22] = s1[42] = 0;
  }
  set_simd_level(original);
}

// The prefix kernel against its contract written out here: s1 as the DP's
// prefix kernel writes it, and the square sums by blocks of eight. Both are
// also checked against plain float64 running sums.
CLAQ_TEST(kmeans_pair_prefix_matches_contract_at_every_level) {
  test::Rng rng(53);
  const SimdLevel original = active_simd_level();
  for (int64_t n : {1, 7, 8, 9, 63, 64, 65, 71, 100, 513, 4064}) {
    std::vector<float> sorted(static_cast<size_t>(n));
    for (float& x : sorted) x = static_cast<float>(rng.normal());
    std::sort(sorted.begin(), sorted.end());
    const double shift = sorted[n / 2];
    const int64_t blocks = (n + 7) / 8;

    // Block totals of the squares, then running sums over groups of eight
    // blocks, each group scanned in three steps like one block of values.
    std::vector<double> expected_blocks(static_cast<size_t>(blocks) + 1, 0.0);
    double carry = 0;
    for (int64_t group = 0; group < blocks; group += 8) {
      double totals[8] = {};
      for (int64_t u = group; u < std::min(blocks, group + 8); ++u) {
        double q[8];
        for (int l = 0; l < 8; ++l) {
          const double v = 8 * u + l < n ? static_cast<double>(sorted[8 * u + l]) - shift : 0.0;
          q[l] = v * v;
        }
        totals[u - group] = ((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7]));
      }
      for (int step = 1; step < 8; step *= 2) {
        for (int l = 7; l >= step; --l) totals[l] += totals[l - step];
      }
      for (int64_t l = 0; l < 8 && group + l < blocks; ++l) expected_blocks[group + l + 1] = carry + totals[l];
      carry += totals[7];
    }

    // s1 from the DP's scalar prefix kernel, and plain running sums.
    std::vector<double> expected_s1(static_cast<size_t>(n) + 1), full_s2(static_cast<size_t>(n) + 1);
    kmeans_dp_prefix_ref(sorted.data(), n, shift, nullptr, expected_s1.data(), full_s2.data(), nullptr);
    double plain1 = 0, plain2 = 0, scale = 0;
    for (int64_t i = 0; i < n; ++i) scale += std::fabs(sorted[i] - shift);

    for (SimdLevel level : supported_simd_levels()) {
      CHECK(set_simd_level(level));
      std::vector<double> s1(static_cast<size_t>(n) + 1, -1.0);
      std::vector<double> s2_blocks(static_cast<size_t>(blocks) + 1, -1.0);
      select_kmeans_pair_kernels().prefix(sorted.data(), n, shift, s1.data(), s2_blocks.data());
      for (int64_t i = 0; i <= n; ++i) {
        CHECK_NEAR(s1[i], expected_s1[i], kValueTolerance * scale);
      }
      plain1 = plain2 = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(sorted[i]) - shift;
        plain1 += v;
        plain2 += v * v;
        if ((i + 1) % 8 == 0 || i + 1 == n) {
          const int64_t u = (i + 8) / 8;
          CHECK_NEAR(s2_blocks[u], expected_blocks[u], kValueTolerance * plain2);
          CHECK_NEAR(s2_blocks[u], plain2, 1e-13 * plain2);
        }
        CHECK_NEAR(s1[i + 1], plain1, 1e-13 * scale);
      }
      CHECK_EQ(s2_blocks[0], 0.0);
    }
  }
  set_simd_level(original);
}
