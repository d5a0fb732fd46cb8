// gemm_f32, gemm_lower_f32, gemm_upper_f32, the trmm variants and
// syrk_lower_f32 at every supported SIMD level against float64 triple loops
// written here.
//
// Tolerance: a float32 sum of k products differs from the exact value by at
// most gamma_k * sum_p |a_ip b_pj| with gamma_k ~ k * 2^-24 (Higham, Accuracy
// and Stability of Numerical Algorithms, section 3.1), plus one rounding each
// for alpha, beta * C and the final add. The check allows
// (k + 4) * 2^-24 * (|alpha| * sum_p |a_ip b_pj| + |beta * c_ij|), a bound
// every correct float32 kernel meets and any wrong index or missed tile fails.
#include <cmath>
#include <limits>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/gemm.h"
#include "kernels/simd_level.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

constexpr double kUnitRoundoff = 1.0 / (1 << 24);
const int64_t kSizes[] = {1, 3, 15, 16, 17, 31, 33, 127, 129, 200};

std::vector<float> random_matrix(test::Rng& rng, int64_t rows, int64_t ld) {
  std::vector<float> m(static_cast<size_t>(rows * ld));
  for (float& v : m) v = static_cast<float>(rng.uniform() * 2 - 1);
  return m;
}

double element(const std::vector<float>& m, int64_t ld, bool trans, int64_t i, int64_t p) {
  return trans ? m[p * ld + i] : m[i * ld + p];
}

struct Case {
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha, beta;
  int64_t pad;  // extra floats per row beyond the width (ld > width)
};

enum class Part { kFull, kLower, kUpper };

// Runs gemm_f32 on random data and checks every element against float64.
// With Part::kLower (kUpper), runs gemm_lower_f32 (gemm_upper_f32) and checks
// that the other strict triangle keeps its sentinel value.
void check_gemm(const Case& cs, Part part, ThreadPool* pool, uint64_t seed) {
  test::Rng rng(seed);
  const int64_t a_rows = cs.trans_a ? cs.k : cs.m, a_cols = cs.trans_a ? cs.m : cs.k;
  const int64_t b_rows = cs.trans_b ? cs.n : cs.k, b_cols = cs.trans_b ? cs.k : cs.n;
  const int64_t lda = a_cols + cs.pad, ldb = b_cols + cs.pad, ldc = cs.n + cs.pad;
  const std::vector<float> a = random_matrix(rng, a_rows, lda);
  const std::vector<float> b = random_matrix(rng, b_rows, ldb);
  std::vector<float> c = random_matrix(rng, cs.m, ldc);
  const std::vector<float> c0 = c;
  const float sentinel = 12345.0f;
  const auto outside = [&](int64_t i, int64_t j) {
    return (part == Part::kLower && j > i) || (part == Part::kUpper && j < i);
  };
  for (int64_t i = 0; i < cs.m; ++i) {
    for (int64_t j = 0; j < cs.n; ++j) {
      if (outside(i, j)) c[i * ldc + j] = sentinel;
    }
  }

  if (part == Part::kLower) {
    gemm_lower_f32(cs.trans_a, cs.trans_b, cs.n, cs.k, cs.alpha, a.data(), lda, b.data(), ldb,
                   cs.beta, c.data(), ldc, pool);
  } else if (part == Part::kUpper) {
    gemm_upper_f32(cs.trans_a, cs.trans_b, cs.n, cs.k, cs.alpha, a.data(), lda, b.data(), ldb,
                   cs.beta, c.data(), ldc, pool);
  } else {
    gemm_f32(cs.trans_a, cs.trans_b, cs.m, cs.n, cs.k, cs.alpha, a.data(), lda, b.data(), ldb,
             cs.beta, c.data(), ldc, pool);
  }

  int failures = 0;
  for (int64_t i = 0; i < cs.m && failures < 3; ++i) {
    for (int64_t j = 0; j < cs.n; ++j) {
      const float got = c[i * ldc + j];
      if (outside(i, j)) {
        if (got != sentinel) ++failures;
        CHECK(got == sentinel);
        continue;
      }
      double exact = 0, magnitude = 0;
      for (int64_t p = 0; p < cs.k; ++p) {
        const double product = element(a, lda, cs.trans_a, i, p) * element(b, ldb, cs.trans_b, p, j);
        exact += product;
        magnitude += std::fabs(product);
      }
      const double old = c0[i * ldc + j];
      const double expected = cs.alpha * exact + cs.beta * old;
      const double tolerance =
          (cs.k + 4) * kUnitRoundoff * (std::fabs(cs.alpha) * magnitude + std::fabs(cs.beta * old)) + 1e-30;
      if (!(std::fabs(got - expected) <= tolerance)) {
        ++failures;
        std::printf("  seed %llu level %s m=%lld n=%lld k=%lld ta=%d tb=%d at (%lld, %lld)\n",
                    static_cast<unsigned long long>(seed), simd_level_name(active_simd_level()),
                    static_cast<long long>(cs.m), static_cast<long long>(cs.n),
                    static_cast<long long>(cs.k), cs.trans_a, cs.trans_b, static_cast<long long>(i),
                    static_cast<long long>(j));
      }
      CHECK_NEAR(got, expected, tolerance);
    }
  }
}

template <typename Body>
void for_each_level(Body body) {
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    body();
  }
  set_simd_level(original);
}

}  // namespace

CLAQ_TEST(gemm_f32_square_sizes_and_transposes) {
  uint64_t seed = 100;
  for_each_level([&] {
    for (int64_t size : kSizes) {
      for (int t = 0; t < 4; ++t) {
        const Case cs{(t & 1) != 0, (t & 2) != 0, size, size, size, 1.0f, 0.0f, 0};
        check_gemm(cs, Part::kFull, nullptr, ++seed);
      }
    }
  });
}

CLAQ_TEST(gemm_f32_shapes_alpha_beta_strides) {
  uint64_t seed = 200;
  ThreadPool pool(2);
  for_each_level([&] {
    for (int64_t m : {1, 17, 129}) {
      for (int64_t n : {3, 31, 200}) {
        for (int64_t k : {1, 16, 33, 300}) {
          for (int t = 0; t < 4; ++t) {
            const Case cs{(t & 1) != 0, (t & 2) != 0, m, n, k, -0.75f, 1.5f, 5};
            ++seed;
            check_gemm(cs, Part::kFull, (seed & 1) ? &pool : nullptr, seed);
          }
        }
      }
    }
  });
}

CLAQ_TEST(gemm_f32_threaded_beyond_one_block) {
  // Larger than one cache block in every dimension (kc = 256, 192 rows), so
  // the beta = 1 accumulation across depth blocks and the row split run.
  ThreadPool pool(3);
  uint64_t seed = 300;
  for_each_level([&] {
    check_gemm(Case{false, false, 400, 129, 520, 1.0f, 0.5f, 3}, Part::kFull, &pool, ++seed);
    check_gemm(Case{true, false, 385, 200, 257, -1.0f, 1.0f, 0}, Part::kFull, &pool, ++seed);
  });
}

CLAQ_TEST(gemm_f32_beta_zero_overwrites_nan) {
  for_each_level([&] {
    for (int64_t size : {5, 40}) {
      std::vector<float> a(size * size, 1.0f), b(size * size, 2.0f);
      std::vector<float> c(size * size, std::numeric_limits<float>::quiet_NaN());
      gemm_f32(false, false, size, size, size, 1.0f, a.data(), size, b.data(), size, 0.0f, c.data(),
               size, nullptr);
      for (float v : c) CHECK_EQ(v, 2.0f * size);
    }
  });
}

CLAQ_TEST(gemm_f32_k_zero_or_alpha_zero_scales_c) {
  for_each_level([&] {
    std::vector<float> a(12, 1.0f), b(12, 1.0f);
    std::vector<float> c(9, 4.0f);
    gemm_f32(false, false, 3, 3, 0, 1.0f, a.data(), 1, b.data(), 3, 0.5f, c.data(), 3, nullptr);
    for (float v : c) CHECK_EQ(v, 2.0f);
    gemm_f32(false, false, 3, 3, 4, 0.0f, a.data(), 4, b.data(), 3, 0.0f, c.data(), 3, nullptr);
    for (float v : c) CHECK_EQ(v, 0.0f);
  });
}

CLAQ_TEST(gemm_lower_f32_writes_only_lower) {
  uint64_t seed = 400;
  ThreadPool pool(2);
  for_each_level([&] {
    for (int64_t n : kSizes) {
      for (int t = 0; t < 4; ++t) {
        const Case cs{(t & 1) != 0, (t & 2) != 0, n, n, 37, -1.0f, 1.0f, 2};
        check_gemm(cs, Part::kLower, (t & 1) ? &pool : nullptr, ++seed);
      }
    }
    check_gemm(Case{false, true, 450, 450, 300, 1.0f, 0.0f, 1}, Part::kLower, &pool, ++seed);
  });
}

CLAQ_TEST(gemm_upper_f32_writes_only_upper) {
  uint64_t seed = 450;
  ThreadPool pool(2);
  for_each_level([&] {
    for (int64_t n : kSizes) {
      for (int t = 0; t < 4; ++t) {
        const Case cs{(t & 1) != 0, (t & 2) != 0, n, n, 37, -1.0f, 1.0f, 2};
        check_gemm(cs, Part::kUpper, (t & 1) ? &pool : nullptr, ++seed);
      }
    }
    check_gemm(Case{true, false, 450, 450, 300, 1.0f, 0.0f, 1}, Part::kUpper, &pool, ++seed);
    check_gemm(Case{false, true, 4200, 4200, 3, -1.0f, 1.0f, 0}, Part::kUpper, &pool, ++seed);
  });
}

CLAQ_TEST(syrk_lower_f32_matches_float64) {
  uint64_t seed = 500;
  ThreadPool pool(2);
  for_each_level([&] {
    for (int64_t n : kSizes) {
      for (int64_t k : {1, 33, 300}) {
        test::Rng rng(++seed);
        const int64_t ldx = n + 3, ldc = n + 1;
        const std::vector<float> x = random_matrix(rng, k, ldx);
        std::vector<float> c = random_matrix(rng, n, ldc);
        const std::vector<float> c0 = c;
        syrk_lower_f32(n, k, x.data(), ldx, c.data(), ldc, (k & 1) ? &pool : nullptr);
        for (int64_t i = 0; i < n; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            if (j > i) {
              CHECK_EQ(c[i * ldc + j], c0[i * ldc + j]);
              continue;
            }
            double exact = c0[i * ldc + j], magnitude = std::fabs(exact);
            for (int64_t p = 0; p < k; ++p) {
              exact += double(x[p * ldx + i]) * x[p * ldx + j];
              magnitude += std::fabs(double(x[p * ldx + i]) * x[p * ldx + j]);
            }
            CHECK_NEAR(c[i * ldc + j], exact, (k + 4) * kUnitRoundoff * magnitude);
          }
        }
      }
    }
  });
}

CLAQ_TEST(trmm_lower_f32_ignores_upper) {
  uint64_t seed = 600;
  ThreadPool pool(2);
  for_each_level([&] {
    for (int64_t m : {1, 15, 17, 129, 300}) {
      for (int64_t n : {1, 16, 33}) {
        test::Rng rng(++seed);
        const int64_t lda = m + 2, ldb = n + 1, ldc = n;
        std::vector<float> a = random_matrix(rng, m, lda);
        // Garbage above the diagonal must not be read.
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = i + 1; j < m; ++j) a[i * lda + j] = std::numeric_limits<float>::quiet_NaN();
        }
        const std::vector<float> b = random_matrix(rng, m, ldb);
        std::vector<float> c = random_matrix(rng, m, ldc);
        const std::vector<float> c0 = c;
        trmm_lower_f32(m, n, 2.0f, a.data(), lda, b.data(), ldb, -1.0f, c.data(), ldc,
                       (m & 1) ? &pool : nullptr);
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            double exact = 0, magnitude = 0;
            for (int64_t p = 0; p <= i; ++p) {
              exact += double(a[i * lda + p]) * b[p * ldb + j];
              magnitude += std::fabs(double(a[i * lda + p]) * b[p * ldb + j]);
            }
            const double expected = 2.0 * exact - c0[i * ldc + j];
            CHECK_NEAR(c[i * ldc + j], expected,
                       (m + 4) * kUnitRoundoff * (2 * magnitude + std::fabs(c0[i * ldc + j])));
          }
        }
      }
    }
  });
}

CLAQ_TEST(trmm_right_lower_f32_ignores_upper) {
  uint64_t seed = 700;
  ThreadPool pool(2);
  for_each_level([&] {
    for (int64_t m : {1, 16, 33, 200}) {
      for (int64_t n : {1, 15, 17, 129, 300}) {
        test::Rng rng(++seed);
        const int64_t lda = n + 1, ldb = n + 2, ldc = n + 3;
        const std::vector<float> a = random_matrix(rng, m, lda);
        std::vector<float> b = random_matrix(rng, n, ldb);
        for (int64_t i = 0; i < n; ++i) {
          for (int64_t j = i + 1; j < n; ++j) b[i * ldb + j] = std::numeric_limits<float>::quiet_NaN();
        }
        std::vector<float> c = random_matrix(rng, m, ldc);
        const std::vector<float> c0 = c;
        trmm_right_lower_f32(m, n, -1.5f, a.data(), lda, b.data(), ldb, 0.5f, c.data(), ldc,
                             (n & 1) ? &pool : nullptr);
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            double exact = 0, magnitude = 0;
            for (int64_t p = j; p < n; ++p) {
              exact += double(a[i * lda + p]) * b[p * ldb + j];
              magnitude += std::fabs(double(a[i * lda + p]) * b[p * ldb + j]);
            }
            const double expected = -1.5 * exact + 0.5 * c0[i * ldc + j];
            CHECK_NEAR(c[i * ldc + j], expected,
                       (n + 4) * kUnitRoundoff * (1.5 * magnitude + 0.5 * std::fabs(c0[i * ldc + j])));
          }
        }
      }
    }
  });
}

CLAQ_TEST(trmm_upper_f32_ignores_lower) {
  uint64_t seed = 800;
  ThreadPool pool(2);
  for_each_level([&] {
    for (int64_t m : {1, 15, 17, 129, 300}) {
      for (int64_t n : {1, 16, 33}) {
        for (bool trans_b : {false, true}) {
          test::Rng rng(++seed);
          const int64_t lda = m + 2, ldb = (trans_b ? m : n) + 1, ldc = n;
          std::vector<float> a = random_matrix(rng, m, lda);
          // Garbage below the diagonal must not be read.
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < i; ++j) a[i * lda + j] = std::numeric_limits<float>::quiet_NaN();
          }
          const std::vector<float> b = random_matrix(rng, trans_b ? n : m, ldb);
          // beta = 0 must overwrite C, also in rows whose depth blocks are all zero.
          const float beta = (seed & 1) ? 0.0f : -1.0f;
          std::vector<float> c = random_matrix(rng, m, ldc);
          if (beta == 0.0f) std::fill(c.begin(), c.end(), std::numeric_limits<float>::quiet_NaN());
          const std::vector<float> c0 = c;
          trmm_upper_f32(m, n, 2.0f, a.data(), lda, trans_b, b.data(), ldb, beta, c.data(), ldc,
                         (m & 1) ? &pool : nullptr);
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < n; ++j) {
              double exact = 0, magnitude = 0;
              for (int64_t p = i; p < m; ++p) {
                const double product = double(a[i * lda + p]) * element(b, ldb, trans_b, p, j);
                exact += product;
                magnitude += std::fabs(product);
              }
              const double old = beta == 0.0f ? 0.0 : c0[i * ldc + j];
              CHECK_NEAR(c[i * ldc + j], 2.0 * exact + beta * old,
                         (m + 4) * kUnitRoundoff * (2 * magnitude + std::fabs(old)));
            }
          }
        }
      }
    }
  });
}

CLAQ_TEST(trmm_right_upper_f32_ignores_lower) {
  uint64_t seed = 900;
  ThreadPool pool(2);
  for_each_level([&] {
    for (int64_t m : {1, 16, 33, 200}) {
      for (int64_t n : {1, 15, 17, 129, 300}) {
        test::Rng rng(++seed);
        const int64_t lda = n + 1, ldb = n + 2, ldc = n + 3;
        const std::vector<float> a = random_matrix(rng, m, lda);
        std::vector<float> b = random_matrix(rng, n, ldb);
        for (int64_t i = 0; i < n; ++i) {
          for (int64_t j = 0; j < i; ++j) b[i * ldb + j] = std::numeric_limits<float>::quiet_NaN();
        }
        std::vector<float> c(m * ldc, std::numeric_limits<float>::quiet_NaN());
        trmm_right_upper_f32(m, n, -1.5f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), ldc,
                             (n & 1) ? &pool : nullptr);
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            double exact = 0, magnitude = 0;
            for (int64_t p = 0; p <= j; ++p) {
              exact += double(a[i * lda + p]) * b[p * ldb + j];
              magnitude += std::fabs(double(a[i * lda + p]) * b[p * ldb + j]);
            }
            CHECK_NEAR(c[i * ldc + j], -1.5 * exact, (n + 4) * kUnitRoundoff * 1.5 * magnitude);
          }
        }
      }
    }
  });
}

CLAQ_TEST(gemm_packed_b_matches_gemm_exactly) {
  // The same kernel sums in the same order, so the results are bit-identical.
  uint64_t seed = 800;
  ThreadPool pool(2);
  for_each_level([&] {
    struct Shape {
      int64_t m, n, k;
    };
    for (const Shape shape : {Shape{1, 1, 1}, Shape{17, 33, 300}, Shape{129, 200, 600}, Shape{5, 4100, 20}}) {
      for (int t = 0; t < 4; ++t) {
        const bool trans_a = (t & 1) != 0, trans_b = (t & 2) != 0;
        test::Rng rng(++seed);
        const int64_t lda = (trans_a ? shape.m : shape.k) + 1;
        const int64_t ldb = (trans_b ? shape.k : shape.n) + 2;
        const std::vector<float> a = random_matrix(rng, trans_a ? shape.k : shape.m, lda);
        const std::vector<float> b = random_matrix(rng, trans_b ? shape.n : shape.k, ldb);
        std::vector<float> expected = random_matrix(rng, shape.m, shape.n);
        std::vector<float> got = expected;
        gemm_f32(trans_a, trans_b, shape.m, shape.n, shape.k, -1.0f, a.data(), lda, b.data(), ldb, 1.0f,
                 expected.data(), shape.n, &pool);

        GemmPackedB packed;
        packed.pack(trans_b, shape.k, shape.n, b.data(), ldb, (t & 1) ? &pool : nullptr);
        CHECK_EQ(packed.k(), shape.k);
        CHECK_EQ(packed.n(), shape.n);
        gemm_packed_b_f32(trans_a, shape.m, -1.0f, a.data(), lda, packed, 1.0f, got.data(), shape.n,
                          (t & 2) ? &pool : nullptr);
        int mismatches = 0;
        for (size_t i = 0; i < got.size(); ++i) mismatches += got[i] != expected[i] ? 1 : 0;
        CHECK_EQ(mismatches, 0);
      }
    }
  });
}

CLAQ_TEST(gemm_packed_b_keeps_its_kernel) {
  // Packed under the best level, used after the level changed to scalar: the
  // product still uses the packing kernel and matches gemm_f32 at that level.
  const SimdLevel original = active_simd_level();
  test::Rng rng(900);
  const int64_t m = 19, n = 45, k = 70;
  const std::vector<float> a = random_matrix(rng, m, k);
  const std::vector<float> b = random_matrix(rng, k, n);
  std::vector<float> expected(m * n), got(m * n);
  gemm_f32(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, expected.data(), n, nullptr);
  GemmPackedB packed;
  packed.pack(false, k, n, b.data(), n, nullptr);
  CHECK(set_simd_level(SimdLevel::kScalar));
  gemm_packed_b_f32(false, m, 1.0f, a.data(), k, packed, 0.0f, got.data(), n, nullptr);
  set_simd_level(original);
  int mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i) mismatches += got[i] != expected[i] ? 1 : 0;
  CHECK_EQ(mismatches, 0);
}
