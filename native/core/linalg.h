// Dense symmetric positive-definite linear algebra for the GPTQ/CLAQ column
// loop: a blocked Cholesky factorisation and the upper inverse factor U with
// H^-1 = U^T U. Both run their O(n^3) work through the GEMM kernels of
// kernels/gemm.h and factor small diagonal blocks in float64.
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
// cholesky(cholesky_inverse(cholesky(H)), upper=True), computed here without
// forming H^-1: H = R R^T with R upper triangular (a Cholesky factorisation
// that starts from the last column), and U = R^-1. Only the lower triangle of
// h is read; h and u must not overlap. Returns NotPositiveDefinite, naming a
// column c whose trailing block H[c:, c:] is not positive definite, when a
// pivot is <= 0 or not finite; u is then partly overwritten. Returns
// OutOfMemory when a work buffer cannot be allocated. pool may be null.
Status inverse_upper_factor_f32(const float* h, int64_t n, float* u, ThreadPool* pool);

// The same U in place: on entry the upper triangle of a [n, n] (leading
// dimension lda, diagonal included) contains H, and the strict lower triangle
// is ignored; on exit a contains U with zeros below the diagonal. One recursive
// pass computes R and R^-1 together, 2n^3 / 3 floating-point operations in
// all, nearly all of them in large GEMMs. Errors as above.
Status inverse_upper_factor_in_place_f32(float* a, int64_t n, int64_t lda, ThreadPool* pool);

}  // namespace claq
