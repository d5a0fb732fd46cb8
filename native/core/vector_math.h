// Element-wise float32 math for the Llama forward pass, in plain C++ that
// compilers vectorize at the baseline ISA (SSE2 on x86-64, NEON on aarch64).
// Softmax and SiLU spend most of their time in exp, and std::exp does not
// vectorize.
#pragma once

#include <cstdint>

namespace claq {

// x[i] = exp(x[i] - shift) for i in [0, n); returns the sum of the new x[i],
// accumulated in float32 over blocks of 64 and in float64 across blocks.
//
// exp(y) = 2^k * exp(r) with k = round(y / ln 2) and r = y - k ln 2 in
// [-ln2/2, ln2/2]; exp(r) is Cephes' degree-6 polynomial for expf (relative
// error about 2e-7 against float64 exp). y is clamped to [-87.3, 88.3] so 2^k
// stays a normal float: below, the result is about 1e-38 instead of 0;
// above, about 2e38 instead of +inf. NaN gives an unspecified value.
double exp_shifted_f32(float* x, int64_t n, float shift);

// max(x[0 .. n)), n >= 1. NaN entries are skipped unless all are NaN.
float max_f32(const float* x, int64_t n);

// gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)), with the exp
// of exp_shifted_f32.
void silu_mul_f32(float* gate, const float* up, int64_t n);

}  // namespace claq
