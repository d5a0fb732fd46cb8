// Ascending sort of float32 values by LSD radix sort on order-preserving
// integer keys: four 8-bit passes over n keys, with every histogram built in
// one read and passes skipped where all keys share a digit. The quantizer
// sorts every column before its exact K-Means through sort_column_f32, which
// uses the AVX-512 quicksort where it can and this sort elsewhere.
#pragma once

#include <cstdint>
#include <vector>

namespace claq {

// Maps a float to an unsigned key with the same order (-0 sorts before +0).
inline uint32_t float_sort_key(uint32_t bits) {
  return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
}

inline uint32_t float_bits_from_sort_key(uint32_t key) {
  return (key & 0x80000000u) != 0 ? key & 0x7fffffffu : ~key;
}

// Reusable buffers so that sorting a column allocates nothing after warm-up.
struct RadixSortWorkspace {
  std::vector<uint32_t> keys;
  std::vector<uint32_t> scratch;
  std::vector<int32_t> vector_keys;  // the AVX-512 sort's two key buffers
};

// Writes the n values of `values` to `sorted` in ascending order. The values
// must not be NaN. `sorted` may not alias `values`.
void radix_sort_f32(const float* values, int64_t n, float* sorted, RadixSortWorkspace& workspace);

// Writes the same output with the fastest sort of active_simd_level(): the
// AVX-512 quicksort of kernels/sort_f32.h, otherwise radix_sort_f32. For 4064
// normal values the quicksort took 4.2 to 6.5 us and the radix sort 14.0 to
// 16.1 us in five runs of `sh bench/engine-native.sh --kmeans` (Zen 5, load
// 1.2, 2026-12-05 07:05 UTC).
void sort_column_f32(const float* values, int64_t n, float* sorted,
                     RadixSortWorkspace& workspace);

}  // namespace claq
