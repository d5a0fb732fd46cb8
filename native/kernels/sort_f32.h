// Ascending sort of float32 values by vector quicksort: the column sort in
// front of the exact K-Means (core/radix_sort.h dispatches to it).
//
// The sort runs on order-preserving int32 keys (flip the magnitude bits of
// negative floats), so it is a total order on the bits: -0 sorts before +0,
// denormals and infinities sort by value, equal values stay equal bits. NaN
// is not allowed. Contract: n >= 0, `sorted` has room for n floats and may not
// alias `values`, and `scratch` has room for 2 * n + 32 int32. The output is the same as any
// exact sort, so every level gives the same bits.
#pragma once

#include <cstdint>

namespace claq {

void sort_f32_avx512(const float* values, int64_t n, float* sorted, int32_t* scratch);

}  // namespace claq
