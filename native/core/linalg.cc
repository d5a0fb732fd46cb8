#include "core/linalg.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/gemm.h"

namespace claq {
namespace {

// Columns per block. The diagonal blocks are factored and inverted in float64
// (about n * kBlock^2 / 3 scalar multiply-adds in all); everything off the
// diagonal is float32 GEMM with k = kBlock.
constexpr int64_t kBlock = 128;

Status check_square(const char* operation, const void* a, int64_t n, int64_t lda) {
  if (n < 0) {
    return Status::InvalidArgument(std::string(operation) + ": n must be >= 0, got " + std::to_string(n));
  }
  if (lda < std::max<int64_t>(n, 1)) {
    return Status::InvalidArgument(std::string(operation) + ": leading dimension " + std::to_string(lda) +
                                   " is smaller than n = " + std::to_string(n));
  }
  if (n > 0 && a == nullptr) {
    return Status::InvalidArgument(std::string(operation) + ": matrix pointer is null");
  }
  if (n > 0 && n - 1 > std::numeric_limits<int64_t>::max() / lda) {
    return Status::InvalidArgument(std::string(operation) + ": n * lda overflows (n = " + std::to_string(n) + ")");
  }
  return Status::Ok();
}

Status not_positive_definite(const char* operation, int64_t column, double pivot) {
  return Status::NotPositiveDefinite(std::string(operation) + ": the matrix is not positive definite: pivot " +
                                     std::to_string(pivot) + " at column " + std::to_string(column) +
                                     " is not a positive finite number; add damping to the diagonal");
}

// Unblocked Cholesky (dot-product form) of the row-major lower triangle of
// d [size, size] in place. Returns the first column whose pivot is <= 0 or
// not finite, with its value in *pivot, or -1 on success.
int64_t factor_block(double* d, int64_t size, double* pivot) {
  for (int64_t j = 0; j < size; ++j) {
    const double* row_j = d + j * size;
    double diagonal = row_j[j];
    for (int64_t p = 0; p < j; ++p) diagonal -= row_j[p] * row_j[p];
    if (!(diagonal > 0.0) || !std::isfinite(diagonal)) {
      *pivot = diagonal;
      return j;
    }
    const double l_jj = std::sqrt(diagonal);
    d[j * size + j] = l_jj;
    for (int64_t i = j + 1; i < size; ++i) {
      double* row_i = d + i * size;
      double sum = row_i[j];
      for (int64_t p = 0; p < j; ++p) sum -= row_i[p] * row_j[p];
      row_i[j] = sum / l_jj;
    }
  }
  return -1;
}

// inverse = L^-1 for the row-major lower-triangular l [size, size], both
// float64; the strict upper triangle of inverse is set to 0.
void invert_lower_block(const double* l, int64_t size, double* inverse) {
  std::fill(inverse, inverse + size * size, 0.0);
  for (int64_t j = 0; j < size; ++j) {
    inverse[j * size + j] = 1.0 / l[j * size + j];
    for (int64_t i = j + 1; i < size; ++i) {
      double sum = 0.0;
      for (int64_t p = j; p < i; ++p) sum += l[i * size + p] * inverse[p * size + j];
      inverse[i * size + j] = -sum / l[i * size + i];
    }
  }
}

void load_lower_block(const float* a, int64_t lda, int64_t size, double* d) {
  std::fill(d, d + size * size, 0.0);
  for (int64_t i = 0; i < size; ++i) {
    for (int64_t j = 0; j <= i; ++j) d[i * size + j] = a[i * lda + j];
  }
}

void store_lower_block(const double* d, int64_t size, float* a, int64_t lda) {
  for (int64_t i = 0; i < size; ++i) {
    for (int64_t j = 0; j <= i; ++j) a[i * lda + j] = static_cast<float>(d[i * size + j]);
  }
}

// Replaces the lower-triangular L in a [n, n] by L^-1, block column by block
// column from the bottom: with L = [L11 0; L21 L22] and X22 = L22^-1 already
// in place, X21 = -X22 (L21 X11). Only the lower triangle is read or written.
void invert_lower_in_place(float* a, int64_t n, int64_t lda, ThreadPool* pool) {
  std::vector<double> block(kBlock * kBlock);
  std::vector<double> inverse(kBlock * kBlock);
  std::vector<float> inverse_f32(kBlock * kBlock);
  std::vector<float> product(static_cast<size_t>(std::max<int64_t>(n - 1, 0)) * kBlock);

  const int64_t last = (n - 1) / kBlock * kBlock;
  for (int64_t j0 = last; j0 >= 0; j0 -= kBlock) {
    const int64_t jb = std::min(kBlock, n - j0);
    float* a11 = a + j0 * lda + j0;
    load_lower_block(a11, lda, jb, block.data());
    invert_lower_block(block.data(), jb, inverse.data());
    for (int64_t i = 0; i < jb * jb; ++i) inverse_f32[i] = static_cast<float>(inverse[i]);

    const int64_t rest = n - j0 - jb;
    if (rest > 0) {
      float* a21 = a + (j0 + jb) * lda + j0;
      const float* x22 = a + (j0 + jb) * lda + j0 + jb;
      gemm_f32(false, false, rest, jb, jb, 1.0f, a21, lda, inverse_f32.data(), jb, 0.0f,
               product.data(), jb, pool);
      trmm_lower_f32(rest, jb, -1.0f, x22, lda, product.data(), jb, 0.0f, a21, lda, pool);
    }
    store_lower_block(inverse.data(), jb, a11, lda);
  }
}

// Blocked right-looking Cholesky of the lower triangle of a. Returns the first
// column whose pivot is <= 0 or not finite, with its value in *pivot, or -1.
int64_t cholesky_unchecked(float* a, int64_t n, int64_t lda, ThreadPool* pool, double* pivot) {
  std::vector<double> block(kBlock * kBlock);
  std::vector<double> inverse(kBlock * kBlock);
  std::vector<float> inverse_f32(kBlock * kBlock);
  std::vector<float> panel(static_cast<size_t>(std::max<int64_t>(n - 1, 0)) * kBlock);

  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const int64_t jb = std::min(kBlock, n - j0);
    float* a11 = a + j0 * lda + j0;

    // Diagonal block, already updated by the blocks to its left.
    load_lower_block(a11, lda, jb, block.data());
    const int64_t failed = factor_block(block.data(), jb, pivot);
    if (failed >= 0) return j0 + failed;
    store_lower_block(block.data(), jb, a11, lda);

    const int64_t rest = n - j0 - jb;
    if (rest == 0) break;

    // Panel: L21 = A21 L11^-T, through the explicit float64 inverse of L11 so
    // that the triangular solve is one GEMM.
    invert_lower_block(block.data(), jb, inverse.data());
    for (int64_t i = 0; i < jb * jb; ++i) inverse_f32[i] = static_cast<float>(inverse[i]);
    float* a21 = a + (j0 + jb) * lda + j0;
    for (int64_t i = 0; i < rest; ++i) {
      std::copy(a21 + i * lda, a21 + i * lda + jb, panel.data() + i * jb);
    }
    gemm_f32(false, true, rest, jb, jb, 1.0f, panel.data(), jb, inverse_f32.data(), jb, 0.0f, a21,
             lda, pool);

    // Trailing update of the lower triangle: A22 -= L21 L21^T.
    float* a22 = a + (j0 + jb) * lda + j0 + jb;
    gemm_lower_f32(false, true, rest, jb, -1.0f, a21, lda, a21, lda, 1.0f, a22, lda, pool);
  }
  return -1;
}

}  // namespace

Status cholesky_lower_f32(float* a, int64_t n, int64_t lda, ThreadPool* pool) {
  const Status valid = check_square("cholesky_lower_f32", a, n, lda);
  if (!valid.ok()) return valid;
  double pivot = 0.0;
  const int64_t failed = cholesky_unchecked(a, n, lda, pool, &pivot);
  if (failed >= 0) return not_positive_definite("cholesky_lower_f32", failed, pivot);
  return Status::Ok();
}

Status inverse_upper_factor_f32(const float* h, int64_t n, float* u, ThreadPool* pool) {
  const char* operation = "inverse_upper_factor_f32";
  Status valid = check_square(operation, h, n, n);
  if (!valid.ok()) return valid;
  valid = check_square(operation, u, n, n);
  if (!valid.ok()) return valid;
  if (n == 0) return Status::Ok();

  // u = J H J in the lower triangle, read from the lower triangle of h:
  // (J H J)[i][j] = H[n-1-i][n-1-j] = H[n-1-j][n-1-i] by symmetry.
  for (int64_t i = 0; i < n; ++i) {
    float* row = u + i * n;
    for (int64_t j = 0; j <= i; ++j) row[j] = h[(n - 1 - j) * n + (n - 1 - i)];
    std::fill(row + i + 1, row + n, 0.0f);
  }

  double pivot = 0.0;
  const int64_t failed = cholesky_unchecked(u, n, n, pool, &pivot);
  if (failed >= 0) {
    // Column c of J H J is column n-1-c of H. The pivot is that of the
    // reversed order, so it is not H's own leading-minor pivot.
    return not_positive_definite(operation, n - 1 - failed, pivot);
  }
  invert_lower_in_place(u, n, n, pool);

  // U = J L^-1 J: reversing the n * n elements maps (i, j) to (n-1-i, n-1-j),
  // which moves the lower triangle of L^-1 to the upper triangle of U.
  std::reverse(u, u + n * n);
  for (int64_t i = 1; i < n; ++i) std::fill(u + i * n, u + i * n + i, 0.0f);
  return Status::Ok();
}

}  // namespace claq
