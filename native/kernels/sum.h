// Sum of a float32 buffer: the memory-read baseline that the packed kernels
// are measured against (a SIMD pass that only reads memory and adds).
//
// Contract: any length, any alignment of x (unaligned loads); reads exactly
// x[0 .. n). Partial sums are float32 in several independent accumulators, so
// the result can differ from a float64 sum by rounding; NaN propagates.
//
// prefetch_bytes: software prefetch distance, or 0 for none. It changes the
// speed only, never the result, and the scalar version ignores it. The best
// distance depends on the CPU, so the benchmark tries several and keeps the
// fastest. 8 KiB made the pass 5 to 15 % faster on Zen 5, while on the Intel
// Xeon 512 B and 1 KiB were fastest and 8 KiB was slower than none.
#pragma once

#include <cstddef>

namespace claq {

float sum_f32_ref(const float* x, size_t n);
float sum_f32_avx2(const float* x, size_t n, size_t prefetch_bytes);
float sum_f32_avx512(const float* x, size_t n, size_t prefetch_bytes);
float sum_f32_neon(const float* x, size_t n, size_t prefetch_bytes);

// Calls the version for active_simd_level().
float sum_f32(const float* x, size_t n, size_t prefetch_bytes = 0);

}  // namespace claq
