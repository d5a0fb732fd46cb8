// The fused code assignment at every SIMD level against a loop written here:
// codes and quantized values exactly, the squared error exactly on x86-64
// (no FMA in the baseline build) and to 1e-12 where the compiler may fuse.
#include <cmath>
#include <vector>

#include "kernels/codebook_assign.h"
#include "kernels/simd_level.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

#if defined(__x86_64__)
constexpr double kErrorTolerance = 0;
#else
constexpr double kErrorTolerance = 1e-12;
#endif

struct AssignCase {
  std::vector<float> w, thresholds, codebook, preset;
  std::vector<uint8_t> reserved;
};

AssignCase make_case(test::Rng& rng, int64_t rows, int levels, bool with_reserved) {
  AssignCase c;
  c.w.resize(static_cast<size_t>(rows));
  for (float& x : c.w) x = static_cast<float>(std::round(rng.normal() * 16) / 16);  // ties
  for (int l = 0; l < levels; ++l) c.codebook.push_back(static_cast<float>(l) * 0.5f - 1.0f);
  for (int l = 0; l + 1 < levels; ++l) c.thresholds.push_back(static_cast<float>(l) * 0.5f - 0.75f);
  // As round_codebook leaves them after rounding made neighbours equal: a
  // repeated threshold inside, an infinite one at the top.
  if (levels > 2) {
    c.thresholds[levels / 2 - 1] = c.thresholds[levels / 2];
    c.thresholds[levels - 2] = INFINITY;
  }
  // A square of 1e60 overflows float32 but not the float64 sum.
  if (rows > 2) c.w[1] = 1e30f;
  c.preset.assign(static_cast<size_t>(rows), 0.0f);
  if (with_reserved) {
    c.reserved.assign(static_cast<size_t>(rows), 0);
    for (int64_t i = 0; i < rows; i += 7) {
      c.reserved[i] = 1;
      c.preset[i] = c.w[i] + 0.125f;
    }
  }
  return c;
}

}  // namespace

CLAQ_TEST(assign_codebook_matches_loop) {
  test::Rng rng(31);
  const SimdLevel original = active_simd_level();
  for (int64_t rows : {1, 7, 8, 9, 16, 23, 24, 100, 4096}) {
    for (int levels : {2, 4, 8, 16}) {
      for (bool with_reserved : {false, true}) {
        const AssignCase c = make_case(rng, rows, levels, with_reserved);

        std::vector<uint8_t> expected_codes(static_cast<size_t>(rows));
        std::vector<float> expected_q = c.preset;
        double partial[8] = {};
        for (int64_t i = 0; i < rows; ++i) {
          int code = 0;
          for (float t : c.thresholds) code += c.w[i] > t ? 1 : 0;
          expected_codes[i] = static_cast<uint8_t>(code);
          if (!with_reserved || c.reserved[i] == 0) expected_q[i] = c.codebook[code];
          const float d = c.w[i] - expected_q[i];
          const int64_t whole = rows - rows % 8;
          partial[i < whole ? i % 8 : 0] += static_cast<double>(d) * d;
        }
        const double expected = ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
                                ((partial[4] + partial[5]) + (partial[6] + partial[7]));

        for (SimdLevel level : supported_simd_levels()) {
          CHECK(set_simd_level(level));
          std::vector<uint8_t> codes(static_cast<size_t>(rows), 99);
          std::vector<float> q = c.preset;
          const double error =
              assign_codebook(c.w.data(), rows, c.thresholds.data(), levels, c.codebook.data(),
                              with_reserved ? c.reserved.data() : nullptr, codes.data(), q.data());
          CHECK(codes == expected_codes);
          CHECK(q == expected_q);
          CHECK_NEAR(error, expected, kErrorTolerance * expected);
          if (rows > 2) CHECK(std::isfinite(error) && error >= 1e60);
        }
      }
    }
  }
  set_simd_level(original);
}

CLAQ_TEST(flag_tails_matches_loop) {
  test::Rng rng(32);
  const SimdLevel original = active_simd_level();
  for (int64_t rows : {1, 15, 16, 17, 100, 4096}) {
    std::vector<float> w(static_cast<size_t>(rows));
    for (float& x : w) x = static_cast<float>(std::round(rng.normal() * 4) / 4);  // ties
    const float low = -1.0f, high = 0.75f;
    std::vector<uint8_t> expected(static_cast<size_t>(rows));
    std::vector<int32_t> expected_rows;
    int64_t expected_below = 0, expected_above = 0;
    for (int64_t i = 0; i < rows; ++i) {
      expected_below += w[i] < low;
      expected_above += w[i] > high;
      expected[i] = w[i] < low || w[i] > high;
      if (expected[i]) expected_rows.push_back(static_cast<int32_t>(i));
    }
    for (SimdLevel level : supported_simd_levels()) {
      CHECK(set_simd_level(level));
      std::vector<uint8_t> flags(static_cast<size_t>(rows), 7);
      int64_t below = -1;
      const int64_t above = flag_tails(w.data(), rows, low, high, flags.data(), &below);
      CHECK(flags == expected);
      CHECK_EQ(below, expected_below);
      CHECK_EQ(above, expected_above);

      // With the list: the same flags and counts, and the marked rows in order.
      std::vector<uint8_t> listed_flags(static_cast<size_t>(rows), 7);
      std::vector<int32_t> listed(expected_rows.size() + 16, -1);
      int64_t listed_below = -1;
      const int64_t listed_above =
          flag_tails(w.data(), rows, low, high, listed_flags.data(), &listed_below, listed.data());
      CHECK(listed_flags == expected);
      CHECK_EQ(listed_below, expected_below);
      CHECK_EQ(listed_above, expected_above);
      listed.resize(expected_rows.size());
      CHECK(listed == expected_rows);
    }
  }
  set_simd_level(original);
}
