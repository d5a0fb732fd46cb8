// Dense symmetric positive-definite linear algebra for the GPTQ/CLAQ column
// loop: a blocked Cholesky factorisation and the upper inverse factor U with
// H^-1 = U^T U. Both run their O(n^3) work through the GEMM kernels of
// kernels/gemm.h and factor the small diagonal blocks in float64.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace claq {

class ThreadPool;

// Overwrites the lower triangle of the symmetric matrix a [n, n] (leading
// dimension lda) with L, where A = L L^T. Only the lower triangle, diagonal
// included, is read or written. Returns NotPositiveDefinite, naming the
// failing column, when a pivot is <= 0 or not finite; a is then partly
// overwritten. Returns OutOfMemory when a work buffer cannot be allocated.
// pool may be null.
Status cholesky_lower_f32(float* a, int64_t n, int64_t lda, ThreadPool* pool);

// Writes the upper-triangular U [n, n] (leading dimension n) with
// H^-1 = U^T U for a symmetric positive-definite H [n, n], zeros below the
// diagonal. This is the factor GPTQ gets as
// cholesky(cholesky_inverse(cholesky(H)), upper=True), computed with one
// Cholesky and one triangular inverse: with J the reversal permutation,
// J H J = L L^T gives H = R R^T with R = J L J upper triangular, so
// U = R^-1 = J L^-1 J. Only the lower triangle of h is read; h and u must not
// overlap. Returns NotPositiveDefinite like cholesky_lower_f32.
Status inverse_upper_factor_f32(const float* h, int64_t n, float* u, ThreadPool* pool);

}  // namespace claq
