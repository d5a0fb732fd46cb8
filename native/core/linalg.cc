#include "core/linalg.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "core/work_buffer.h"
#include "kernels/gemm.h"

namespace claq {
namespace {

// Columns per block. The diagonal blocks are factored and inverted in float64
// (about n * kBlock^2 / 3 scalar multiply-adds in all); everything off the
// diagonal is float32 GEMM with k = kBlock.
constexpr int64_t kBlock = 128;

// Columns of the float64 leaves of the inverse factor's recursion. The
// leaves lie on its critical path (nothing else runs while one is
// factored), and their scalar work grows with the square of the size.
constexpr int64_t kLeaf = 64;

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

Status out_of_memory(const char* operation, int64_t n) {
  return Status::OutOfMemory(std::string(operation) + ": out of memory for the work buffers of n = " +
                             std::to_string(n));
}

Status not_positive_definite(const char* operation, int64_t column, double pivot) {
  return Status::NotPositiveDefinite(std::string(operation) + ": the matrix is not positive definite: pivot " +
                                     std::to_string(pivot) + " at column " + std::to_string(column) +
                                     " is not a positive finite number; add damping to the diagonal");
}

// Dot product of x and y over [0, count) with four partial sums, so the
// additions pipeline (the compiler may not reorder a single running sum).
double dot(const double* x, const double* y, int64_t count) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int64_t p = 0;
  for (; p + 4 <= count; p += 4) {
    s0 += x[p] * y[p];
    s1 += x[p + 1] * y[p + 1];
    s2 += x[p + 2] * y[p + 2];
    s3 += x[p + 3] * y[p + 3];
  }
  for (; p < count; ++p) s0 += x[p] * y[p];
  return (s0 + s1) + (s2 + s3);
}

// Unblocked Cholesky (dot-product form) of the row-major lower triangle of
// d [size, size] in place. Returns the first column whose pivot is <= 0 or
// not finite, with its value in *pivot, or -1 on success.
int64_t factor_block(double* d, int64_t size, double* pivot) {
  for (int64_t j = 0; j < size; ++j) {
    const double* row_j = d + j * size;
    const double diagonal = row_j[j] - dot(row_j, row_j, j);
    if (!(diagonal > 0.0) || !std::isfinite(diagonal)) {
      *pivot = diagonal;
      return j;
    }
    const double l_jj = std::sqrt(diagonal);
    d[j * size + j] = l_jj;
    for (int64_t i = j + 1; i < size; ++i) {
      double* row_i = d + i * size;
      row_i[j] = (row_i[j] - dot(row_i, row_j, j)) / l_jj;
    }
  }
  return -1;
}

// inverse = L^-1 for the row-major lower-triangular l [size, size], both
// float64; the strict upper triangle of inverse is set to 0. Row i of the
// inverse is (e_i - sum_{p<i} l[i][p] * row p) / l[i][i], a sequence of
// contiguous row updates that vectorise without reordering any sum.
void invert_lower_block(const double* l, int64_t size, double* inverse) {
  std::fill(inverse, inverse + size * size, 0.0);
  for (int64_t i = 0; i < size; ++i) {
    double* row = inverse + i * size;
    for (int64_t p = 0; p < i; ++p) {
      const double factor = l[i * size + p];
      const double* row_p = inverse + p * size;
      for (int64_t j = 0; j <= p; ++j) row[j] -= factor * row_p[j];
    }
    const double scale = 1.0 / l[i * size + i];
    for (int64_t j = 0; j < i; ++j) row[j] *= scale;
    row[i] = scale;
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

// Calls fn(i) for every i in [0, count), on the pool when there is one.
template <typename Fn>
void for_each_index(ThreadPool* pool, int64_t count, Fn fn) {
  auto range = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) fn(i);
  };
  if (pool == nullptr) {
    range(0, count);
  } else {
    pool->parallel_for(count, range);
  }
}

// The leaf of inverse_factor_recursive, in float64: with the reversal J,
// M = J H J is factored as L L^T, R = J L J and U = J L^-1 J. M's lower
// triangle is H's upper triangle read backwards. U goes to the upper
// triangle of a and the strict lower part of R^T (= J L^T J) below it.
// Returns the failing column of a (see inverse_factor_recursive) or -1.
int64_t inverse_factor_leaf(float* a, int64_t n, int64_t lda, double* pivot) {
  double m[kLeaf * kLeaf];
  double inverse[kLeaf * kLeaf];
  for (int64_t i = 0; i < n; ++i) {
    const float* h_row = a + (n - 1 - i) * lda + (n - 1);
    for (int64_t j = 0; j <= i; ++j) m[i * n + j] = h_row[-j];
  }
  const int64_t failed = factor_block(m, n, pivot);
  if (failed >= 0) return n - 1 - failed;
  invert_lower_block(m, n, inverse);
  for (int64_t r = 0; r < n; ++r) {
    float* row = a + r * lda;
    // R^T[r][c] = R[c][r] = L[n-1-c][n-1-r] for c < r.
    for (int64_t c = 0; c < r; ++c) row[c] = static_cast<float>(m[(n - 1 - c) * n + (n - 1 - r)]);
    const double* x_row = inverse + (n - 1 - r) * n + (n - 1);
    for (int64_t c = r; c < n; ++c) row[c] = static_cast<float>(x_row[-c]);
  }
  return -1;
}

// Y = R^-1 B for the upper-triangular R [m, m] of a finished diagonal block
// r (U = R^-1 above the diagonal, R^T below it, as inverse_factor_recursive
// leaves them), with B = H^T given as h [cols, m] and Y [m, cols] written to
// y. The split follows inverse_factor_recursive, so the leaves are its
// leaves and multiply by their float64-accurate U; above them Y runs as block
// back-substitution with GEMM updates of h, which it overwrites. Multiplying
// by the whole float32 U instead would add errors that grow with the
// condition of R.
void solve_upper(const float* r, int64_t m, float* h, float* y, int64_t cols, int64_t lda, ThreadPool* pool) {
  if (m <= kLeaf) {
    trmm_upper_f32(m, cols, 1.0f, r, lda, true, h, lda, 0.0f, y, lda, pool);
    return;
  }
  const int64_t m2 = (m / 2 + kLeaf - 1) / kLeaf * kLeaf;
  const int64_t m1 = m - m2;
  solve_upper(r + m1 * lda + m1, m2, h + m1, y + m1 * lda, cols, lda, pool);
  // B1 -= R12 Y2, as h[:, :m1] -= Y2^T R12^T; R12^T is the block below r's diagonal.
  gemm_f32(true, false, cols, m1, m2, -1.0f, y + m1 * lda, lda, r + m1 * lda, lda, 1.0f, h, lda, pool);
  solve_upper(r, m1, h, y, cols, lda, pool);
}

// Replaces H in the upper triangle of a [n, n] by U = R^-1, where H = R R^T
// with R upper triangular, and writes R^T's strict lower part below the
// diagonal. With H = [H11 H12; H12^T H22] and n2 rows in H22:
//   U22 = R22^-1 (recursion), R12 = H12 R22^-T (solve_upper),
//   H11 - R12 R12^T = R11 R11^T, U11 = R11^-1 (recursion),
//   U12 = -U11 R12 U22.
// R12 is kept transposed in the lower-left block, where R^T belongs, so
// every product writes a place its operands do not occupy; U11 R12 goes
// through `scratch` (at least (n - n2) * n2 floats). The products are large
// GEMMs down to leaves of kLeaf columns, which are factored in float64. The
// pivots are met from the last column back; returns the column c of the
// first one that is <= 0 or not finite (H[c:, c:] is then not positive
// definite), with its value in *pivot, or -1.
int64_t inverse_factor_recursive(float* a, int64_t n, int64_t lda, float* scratch, ThreadPool* pool,
                                 double* pivot) {
  if (n <= kLeaf) return inverse_factor_leaf(a, n, lda, pivot);

  const int64_t n2 = (n / 2 + kLeaf - 1) / kLeaf * kLeaf;  // a multiple of kLeaf, < n
  const int64_t n1 = n - n2;
  float* a11 = a;
  float* a12 = a + n1;
  float* a21 = a + n1 * lda;
  float* a22 = a + n1 * lda + n1;

  int64_t failed = inverse_factor_recursive(a22, n2, lda, scratch, pool, pivot);
  if (failed >= 0) return n1 + failed;
  // a21 = R12^T = R22^-1 H12^T (H12 is overwritten), then H11 -= R12 R12^T.
  solve_upper(a22, n2, a12, a21, n1, lda, pool);
  gemm_upper_f32(true, false, n1, n2, -1.0f, a21, lda, a21, lda, 1.0f, a11, lda, pool);
  failed = inverse_factor_recursive(a11, n1, lda, scratch, pool, pivot);
  if (failed >= 0) return failed;
  // scratch = U11 R12, then U12 = -scratch U22.
  trmm_upper_f32(n1, n2, 1.0f, a11, lda, true, a21, lda, 0.0f, scratch, n2, pool);
  trmm_right_upper_f32(n1, n2, -1.0f, scratch, n2, a22, lda, 0.0f, a12, lda, pool);
  return -1;
}

// The scratch floats inverse_factor_recursive needs for size n: the largest
// n1 * n2 of any split in its recursion. The first split is not always the
// largest (n = 144 splits into 16 + 128, and 128 into 64 + 64).
int64_t inverse_factor_scratch(int64_t n) {
  if (n <= kLeaf) return 0;
  const int64_t n2 = (n / 2 + kLeaf - 1) / kLeaf * kLeaf;
  const int64_t n1 = n - n2;
  return std::max({n1 * n2, inverse_factor_scratch(n1), inverse_factor_scratch(n2)});
}

Status inverse_factor_in_place(float* a, int64_t n, int64_t lda, ThreadPool* pool, const char* operation) {
  // Uninitialised on purpose: every element is written before it is read.
  WorkBuffer<float> scratch(std::max<int64_t>(inverse_factor_scratch(n), 1));
  double pivot = 0.0;
  const int64_t failed = inverse_factor_recursive(a, n, lda, scratch.get(), pool, &pivot);
  if (failed >= 0) return not_positive_definite(operation, failed, pivot);
  for_each_index(pool, n, [&](int64_t i) { std::fill(a + i * lda, a + i * lda + i, 0.0f); });
  return Status::Ok();
}

// u[i][j] = h[j][i] for j >= i: the lower triangle of h moved to the upper
// triangle of u. It goes through a local tile so that both h and u are
// accessed row by row: rows n floats apart map to the same L1 sets when n is
// a power of two, and a direct strided transpose thrashes.
void transpose_lower_to_upper(const float* h, int64_t n, float* u, ThreadPool* pool) {
  constexpr int64_t kTile = 32;
  for_each_index(pool, (n + kTile - 1) / kTile, [&](int64_t tile_row) {
    float tile[kTile][kTile];
    const int64_t i0 = tile_row * kTile;
    const int64_t rows = std::min(kTile, n - i0);
    for (int64_t j0 = i0; j0 < n; j0 += kTile) {
      const int64_t cols = std::min(kTile, n - j0);
      for (int64_t jj = 0; jj < cols; ++jj) {
        const float* h_row = h + (j0 + jj) * n + i0;
        for (int64_t ii = 0; ii < rows; ++ii) tile[ii][jj] = h_row[ii];
      }
      for (int64_t ii = 0; ii < rows; ++ii) {
        const int64_t first = std::max<int64_t>(0, i0 + ii - j0);
        float* u_row = u + (i0 + ii) * n + j0;
        for (int64_t jj = first; jj < cols; ++jj) u_row[jj] = tile[ii][jj];
      }
    }
  });
}

}  // namespace

Status cholesky_lower_f32(float* a, int64_t n, int64_t lda, ThreadPool* pool) {
  const Status valid = check_square("cholesky_lower_f32", a, n, lda);
  if (!valid.ok()) return valid;
  try {
    double pivot = 0.0;
    const int64_t failed = cholesky_unchecked(a, n, lda, pool, &pivot);
    if (failed >= 0) return not_positive_definite("cholesky_lower_f32", failed, pivot);
  } catch (const std::bad_alloc&) {
    return out_of_memory("cholesky_lower_f32", n);
  }
  return Status::Ok();
}

Status inverse_upper_factor_f32(const float* h, int64_t n, float* u, ThreadPool* pool) {
  const char* operation = "inverse_upper_factor_f32";
  Status valid = check_square(operation, h, n, n);
  if (!valid.ok()) return valid;
  valid = check_square(operation, u, n, n);
  if (!valid.ok()) return valid;
  if (n == 0) return Status::Ok();
  try {
    transpose_lower_to_upper(h, n, u, pool);
    return inverse_factor_in_place(u, n, n, pool, operation);
  } catch (const std::bad_alloc&) {
    return out_of_memory(operation, n);
  }
}

Status inverse_upper_factor_in_place_f32(float* a, int64_t n, int64_t lda, ThreadPool* pool) {
  const char* operation = "inverse_upper_factor_in_place_f32";
  const Status valid = check_square(operation, a, n, lda);
  if (!valid.ok()) return valid;
  if (n == 0) return Status::Ok();
  try {
    return inverse_factor_in_place(a, n, lda, pool, operation);
  } catch (const std::bad_alloc&) {
    return out_of_memory(operation, n);
  }
}

}  // namespace claq
