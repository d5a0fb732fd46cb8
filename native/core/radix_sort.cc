#include "core/radix_sort.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "kernels/simd_level.h"
#include "kernels/sort_f32.h"

namespace claq {
namespace {

// Four 8-bit passes: for a 4096-row column, 256-bucket histograms stay in L1
// and cost little to scan, which made this twice as fast as three 11-bit
// passes (16 vs 33 us per 4096-value column on the Zen 5 build machine,
// wall time while other jobs shared its two cores).
constexpr int kDigitBits = 8;
constexpr uint32_t kBuckets = 1u << kDigitBits;
constexpr int kPasses = 4;

// Below this size a comparison sort is faster than four histogram passes.
constexpr int64_t kSmallSort = 96;

uint32_t digit(uint32_t key, int pass) { return (key >> (pass * kDigitBits)) & (kBuckets - 1); }

}  // namespace

void radix_sort_f32(const float* values, int64_t n, float* sorted, RadixSortWorkspace& workspace) {
  if (n <= 0) return;
  if (n <= kSmallSort) {
    std::copy(values, values + n, sorted);
    std::sort(sorted, sorted + n, [](float a, float b) {
      uint32_t a_bits, b_bits;
      std::memcpy(&a_bits, &a, sizeof a_bits);
      std::memcpy(&b_bits, &b, sizeof b_bits);
      return float_sort_key(a_bits) < float_sort_key(b_bits);  // -0 before +0
    });
    return;
  }

  std::vector<uint32_t>& keys = workspace.keys;
  std::vector<uint32_t>& scratch = workspace.scratch;
  keys.resize(static_cast<size_t>(n));
  scratch.resize(static_cast<size_t>(n));

  std::array<std::array<uint32_t, kBuckets>, kPasses> counts{};
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, values + i, sizeof bits);
    const uint32_t key = float_sort_key(bits);
    keys[i] = key;
    for (int pass = 0; pass < kPasses; ++pass) ++counts[pass][digit(key, pass)];
  }

  uint32_t* source = keys.data();
  uint32_t* target = scratch.data();
  for (int pass = 0; pass < kPasses; ++pass) {
    std::array<uint32_t, kBuckets>& count = counts[pass];
    if (count[digit(source[0], pass)] == static_cast<uint32_t>(n)) continue;  // one bucket: no-op

    uint32_t offset = 0;
    for (uint32_t b = 0; b < kBuckets; ++b) {
      const uint32_t c = count[b];
      count[b] = offset;
      offset += c;
    }
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t key = source[i];
      target[count[digit(key, pass)]++] = key;
    }
    std::swap(source, target);
  }

  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = float_bits_from_sort_key(source[i]);
    std::memcpy(sorted + i, &bits, sizeof bits);
  }
}

void sort_column_f32(const float* values, int64_t n, float* sorted,
                     RadixSortWorkspace& workspace) {
#if defined(__x86_64__)
  if (n > 0 && active_simd_level() == SimdLevel::kAvx512) {
    workspace.vector_keys.resize(2 * static_cast<size_t>(n) + 32);
    sort_f32_avx512(values, n, sorted, workspace.vector_keys.data());
    return;
  }
#endif
  radix_sort_f32(values, n, sorted, workspace);
}

}  // namespace claq
