// Tests the AVX-512 column sort against std::sort with an order written from
// the float values: sizes on both sides of the network and partition limits,
// inputs with few distinct keys, both zeros, denormals and presorted runs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <vector>

#include "kernels/simd_level.h"
#include "kernels/sort_f32.h"
#include "test_framework.h"

// sort_f32_avx512 is built on x86-64 only.
#if defined(__x86_64__)

using namespace claq;

namespace {

// The sort's order from the values: by value, and -0 before +0.
bool value_then_sign_less(float a, float b) {
  if (a != b) return a < b;
  return std::signbit(a) && !std::signbit(b);
}

enum Shape {
  kNormal,
  kFewValues,   // -1, 0 and 1
  kTwoValues,   // one key repeated, a second one rare
  kZeros,       // -0 and +0 mixed
  kDenormals,   // denormals of both signs, with zeros
  kAscending,
  kDescending,
  kOrganPipe,   // ascending, then descending
  kShapeCount
};

const char* const kShapeNames[kShapeCount] = {"normal",    "few values", "two values",
                                              "zeros",     "denormals",  "ascending",
                                              "descending", "organ pipe"};

std::vector<float> make_input(test::Rng& rng, int64_t n, Shape shape) {
  const float smallest_denormal = std::numeric_limits<float>::denorm_min();
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    switch (shape) {
      case kNormal: v[i] = static_cast<float>(rng.normal()); break;
      case kFewValues: v[i] = static_cast<float>(rng.next() % 3) - 1.0f; break;
      case kTwoValues: v[i] = rng.next() % 50 == 0 ? 2.5f : -0.75f; break;
      case kZeros: v[i] = rng.next() % 2 == 0 ? 0.0f : -0.0f; break;
      case kDenormals: {
        const float magnitude = smallest_denormal * static_cast<float>(rng.next() % 1000);
        v[i] = rng.next() % 2 == 0 ? magnitude : -magnitude;
        break;
      }
      case kAscending: v[i] = static_cast<float>(i) * 0.5f; break;
      case kDescending: v[i] = static_cast<float>(n - i); break;
      default: v[i] = static_cast<float>(std::min(i, n - i)); break;
    }
  }
  return v;
}

// Sorts with sort_f32_avx512 into a buffer with guard values past n, and
// reports a failure when the bits differ from std::sort or a guard changed.
void check_sort(const std::vector<float>& input, const char* label) {
  const int64_t n = static_cast<int64_t>(input.size());
  constexpr int kGuard = 32;
  constexpr float kGuardValue = 123.25f;
  std::vector<float> sorted(input.size() + kGuard, kGuardValue);
  std::vector<int32_t> scratch(2 * input.size() + 32);
  sort_f32_avx512(input.data(), n, sorted.data(), scratch.data());

  std::vector<float> expected = input;
  std::sort(expected.begin(), expected.end(), value_then_sign_less);
  const bool same_bits =
      n == 0 || std::memcmp(sorted.data(), expected.data(), sizeof(float) * input.size()) == 0;
  bool guards_kept = true;
  for (int g = 0; g < kGuard; ++g) guards_kept = guards_kept && sorted[n + g] == kGuardValue;
  if (!same_bits) {
    std::ostringstream os;
    os << label << " n " << n << ": order differs from std::sort";
    test::record_failure(__FILE__, __LINE__, os.str());
  }
  if (!guards_kept) {
    std::ostringstream os;
    os << label << " n " << n << ": the sort wrote past n";
    test::record_failure(__FILE__, __LINE__, os.str());
  }
}

}  // namespace

CLAQ_TEST(avx512_sort_every_size_to_600) {
  if (!simd_level_supported(SimdLevel::kAvx512)) return;
  test::Rng rng(31);
  for (int64_t n = 0; n <= 600; ++n) check_sort(make_input(rng, n, kNormal), "normal");
}

CLAQ_TEST(avx512_sort_shapes_at_limits) {
  if (!simd_level_supported(SimdLevel::kAvx512)) return;
  test::Rng rng(32);
  // Network sizes (16, 32, 64, 256 keys), the partition's 64-key main loop,
  // and column lengths of a 4096-row layer.
  const int64_t sizes[] = {15,  16,  17,  63,  64,  65,  127, 128,  129,  255,  256,
                           257, 319, 320, 511, 512, 513, 1000, 4064, 4096, 4097};
  for (int64_t n : sizes) {
    for (int shape = 0; shape < kShapeCount; ++shape) {
      check_sort(make_input(rng, n, static_cast<Shape>(shape)), kShapeNames[shape]);
    }
  }
}

// Every shape at every size of 65 to 400 keys. Those of 65 to 128 keys go to
// the network of 8 registers, those of 129 to 256 to that of 16 registers
// (its merges by pairs of registers included). Those of 257 to 400 get the
// pivots aimed at a leaf of each network.
CLAQ_TEST(avx512_sort_shapes_near_leaf_sizes) {
  if (!simd_level_supported(SimdLevel::kAvx512)) return;
  test::Rng rng(33);
  for (int64_t n = 65; n <= 400; ++n) {
    for (int shape = 0; shape < kShapeCount; ++shape) {
      check_sort(make_input(rng, n, static_cast<Shape>(shape)), kShapeNames[shape]);
    }
  }
}

// All keys equal: every pivot is the smallest key.
CLAQ_TEST(avx512_sort_all_equal) {
  if (!simd_level_supported(SimdLevel::kAvx512)) return;
  for (int64_t n : {100, 256, 300, 352, 353, 1000, 4096}) {
    check_sort(std::vector<float>(static_cast<size_t>(n), -1.5f), "all equal");
  }
}

// The network of 16 registers at every size it takes, all keys equal: the
// padding past n is the only other key.
CLAQ_TEST(avx512_sort_all_equal_network_sizes) {
  if (!simd_level_supported(SimdLevel::kAvx512)) return;
  for (int64_t n = 129; n <= 256; ++n) {
    check_sort(std::vector<float>(static_cast<size_t>(n), 0.25f), "all equal");
  }
}

#endif  // defined(__x86_64__)
