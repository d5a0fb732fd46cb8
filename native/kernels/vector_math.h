// Element-wise float32 math of the Llama forward pass: the exp of softmax
// (attention, log-likelihoods), a maximum, and SiLU. Softmax and SiLU spend
// most of their time in exp, and std::exp does not vectorize.
//
// exp(y) = 2^k * exp(r) with k = round(y / ln 2) and r = y - k ln 2 in
// [-ln2/2, ln2/2]; exp(r) is Cephes' degree-6 polynomial for expf (relative
// error about 2e-7 against float64 exp). y is clamped to [-87.3, 88.3] so 2^k
// stays a normal float: below, the result is about 1e-38 instead of 0;
// above, about 2e38 instead of +inf. The versions differ only by rounding
// (the vector ones use FMA).
//
// Contract: any length and alignment (unaligned loads, tails without
// over-read). NaN inputs give unspecified values, because scores and logits
// are finite here.
#pragma once

#include <cstdint>

namespace claq {

// x[i] = exp(x[i] - shift) for i in [0, n); returns the sum of the new x[i],
// accumulated in float32 over at most 64 elements and in float64 across those
// partial sums.
double exp_shifted_f32_ref(float* x, int64_t n, float shift);
double exp_shifted_f32_avx2(float* x, int64_t n, float shift);
double exp_shifted_f32_avx512(float* x, int64_t n, float shift);

// max(x[0 .. n)), n >= 1.
float max_f32_ref(const float* x, int64_t n);
float max_f32_avx2(const float* x, int64_t n);
float max_f32_avx512(const float* x, int64_t n);

// The versions for active_simd_level(): pick once at the top of an
// operation. NEON builds use the portable versions, which the compiler
// vectorizes for the aarch64 baseline.
struct VectorMathKernels {
  double (*exp_shifted)(float* x, int64_t n, float shift);
  float (*max)(const float* x, int64_t n);
};
VectorMathKernels select_vector_math_kernels();

// gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)), with the exp
// above. Portable C++ that the compiler vectorizes at the baseline ISA.
void silu_mul_f32(float* gate, const float* up, int64_t n);

}  // namespace claq
