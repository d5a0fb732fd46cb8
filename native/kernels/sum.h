// Sum of a float32 buffer: the memory-read baseline that the packed kernels
// are measured against (a SIMD pass that only reads memory and adds).
//
// Contract: any length, any alignment of x (unaligned loads); reads exactly
// x[0 .. n). Partial sums are float32 in several independent accumulators, so
// the result can differ from a float64 sum by rounding; NaN propagates.
#pragma once

#include <cstddef>

namespace claq {

float sum_f32_ref(const float* x, size_t n);
float sum_f32_avx2(const float* x, size_t n);
float sum_f32_avx512(const float* x, size_t n);
float sum_f32_neon(const float* x, size_t n);

// Calls the version for active_simd_level().
float sum_f32(const float* x, size_t n);

}  // namespace claq
