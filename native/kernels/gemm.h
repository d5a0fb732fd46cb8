// Dense float32 matrix products for the quantizer: GEMM, and SYRK into the
// lower triangle (Hessian accumulation, Cholesky trailing updates).
//
// Layout: every matrix is row-major with a leading dimension (the distance in
// floats between rows) of at least its width. op(X) is X or its transpose.
//
// The driver (gemm.cc) is portable and splits the product into cache blocks.
// It copies ("packs") a block of op(A) into micro-panels of MR rows and a
// block of op(B) into micro-panels of NR columns, both zero-padded to full
// tiles, and calls one micro-kernel per MR x NR tile of C:
//
//   packed A micro-panel (MR x kc)       packed B micro-panel (kc x NR)
//   a[p * MR + i] = op(A)[i][p]          b[p * NR + j] = op(B)[p][j]
//
//       C tile [MR x NR] = alpha * sum_p a[p * MR + i] * b[p * NR + j] + beta * C
//
// Micro-kernel contract: it reads exactly kc * MR packed floats of A and
// kc * NR of B and writes the full MR x NR tile of C through ldc with
// unaligned stores. Every B micro-panel starts on a 64-byte boundary, so
// kernels may use aligned loads for B; A and C have no alignment guarantee. When beta == 0 it does
// not read C, so NaN or garbage in C is overwritten, as in BLAS. kc >= 1.
// The same micro-kernel computes the partial tiles at the right and bottom
// edges, and the diagonal tiles of the triangular variants, into a
// local MR x NR buffer that the driver copies out. So the kernels have no
// tail code and never touch memory outside C. NaN and Inf propagate through the arithmetic
// like in a plain triple loop, except that zero padding is never multiplied
// into a stored element.
//
// Errors: the functions here return nothing and check nothing. They throw
// std::bad_alloc when the packing buffers cannot be allocated, the one
// exception that leaves them; Status-returning callers convert it.
//
// Threads: with a pool, the work is split over blocks of rows of C; results
// do not depend on the thread count (each element of C is summed over k in the
// same order). The active SIMD level is read once per call.
//
// Known limitation: packing is portable code. It took about 10 % of the
// inverse factor at n = 4096 (perf, one thread), mostly waiting for the
// source rows from memory, so SIMD transposes per ISA would save only part
// of that. The block sizes were measured on a Zen 5 and a Xeon, the B slice
// width (kSliceCols) on the Xeon only, and the NEON kernel has run under
// qemu-user only, never on Arm hardware.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/work_allocator.h"

namespace claq {

class ThreadPool;

// C = alpha * op(A) * op(B) + beta * C, with op(A) [m, k], op(B) [k, n] and
// C [m, n]. beta == 0 overwrites C without reading it. pool may be null.
void gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
              int64_t ldc, ThreadPool* pool);

// Like gemm_f32 with m == n, but only the lower triangle of C (j <= i,
// diagonal included) is computed and written; the strict upper triangle of C
// is neither read nor written.
void gemm_lower_f32(bool trans_a, bool trans_b, int64_t n, int64_t k, float alpha,
                    const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                    float* c, int64_t ldc, ThreadPool* pool);

// Like gemm_lower_f32, but for the upper triangle of C (j >= i, diagonal
// included); the strict lower triangle of C is neither read nor written.
void gemm_upper_f32(bool trans_a, bool trans_b, int64_t n, int64_t k, float alpha,
                    const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                    float* c, int64_t ldc, ThreadPool* pool);

// C = alpha * tril(A) * B + beta * C, with A [m, m] lower triangular (only
// its lower triangle, diagonal included, is read), B [m, n] and C [m, n]; C
// must not overlap A or B. Zero blocks of A cost no multiply-adds.
void trmm_lower_f32(int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                    ThreadPool* pool);

// C = alpha * A * tril(B) + beta * C, with A [m, n], B [n, n] lower
// triangular (only its lower triangle, diagonal included, is read) and
// C [m, n]; C must not overlap A or B.
void trmm_right_lower_f32(int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
                          const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                          ThreadPool* pool);

// C = alpha * triu(A) * op(B) + beta * C, with A [m, m] upper triangular
// (only its upper triangle, diagonal included, is read), op(B) [m, n] and
// C [m, n]; C must not overlap A or B. Zero blocks of A cost no multiply-adds.
void trmm_upper_f32(int64_t m, int64_t n, float alpha, const float* a, int64_t lda, bool trans_b,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc, ThreadPool* pool);

// C = alpha * A * triu(B) + beta * C, with A [m, n], B [n, n] upper
// triangular (only its upper triangle, diagonal included, is read) and
// C [m, n]; C must not overlap A or B.
void trmm_right_upper_f32(int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
                          const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                          ThreadPool* pool);

// Lower triangle of C += x^T x, where x is [k, n] row-major (k tokens of n
// columns) and C is [n, n]. The strict upper triangle of C is not touched.
void syrk_lower_f32(int64_t n, int64_t k, const float* x, int64_t ldx, float* c, int64_t ldc,
                    ThreadPool* pool);

// One register-blocked micro-kernel: MR x NR tile, contract above.
using GemmMicroKernelFn = void (*)(int64_t kc, const float* a_packed, const float* b_packed,
                                   float alpha, float beta, float* c, int64_t ldc);

struct GemmMicroKernel {
  int mr;
  int nr;
  GemmMicroKernelFn run;
};

// op(B) [k, n] packed once for several gemm_packed_b_f32 calls that share
// it, for example tasks that each take a range of rows of one product. The
// packed form belongs to the micro-kernel of the SIMD level active when
// pack() ran, and gemm_packed_b_f32 keeps using that kernel. Packing copies
// the data, so b may change or go away after pack() returns.
class GemmPackedB {
 public:
  void pack(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb, ThreadPool* pool);
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }

 private:
  friend void gemm_packed_b_f32(bool trans_a, int64_t m, float alpha, const float* a, int64_t lda,
                                const GemmPackedB& b, float beta, float* c, int64_t ldc,
                                ThreadPool* pool);
  float* data() { return storage_.data() + offset_; }
  const float* data() const { return storage_.data() + offset_; }

  GemmMicroKernel kernel_{};
  int64_t k_ = 0;
  int64_t n_ = 0;
  WorkVector<float> storage_;  // the packed panels start 64-byte aligned at offset_
  size_t offset_ = 0;
};

// C = alpha * op(A) * B + beta * C with B packed by GemmPackedB::pack:
// op(A) [m, b.k()], C [m, b.n()]. Same results as gemm_f32 on the unpacked B.
void gemm_packed_b_f32(bool trans_a, int64_t m, float alpha, const float* a, int64_t lda,
                       const GemmPackedB& b, float beta, float* c, int64_t ldc, ThreadPool* pool);

// Per-ISA micro-kernels; the name gives the tile (rows x columns).
void gemm_f32_4x8_ref(int64_t kc, const float* a_packed, const float* b_packed, float alpha,
                      float beta, float* c, int64_t ldc);
void gemm_f32_6x16_avx2(int64_t kc, const float* a_packed, const float* b_packed, float alpha,
                        float beta, float* c, int64_t ldc);
void gemm_f32_12x32_avx512(int64_t kc, const float* a_packed, const float* b_packed, float alpha,
                           float beta, float* c, int64_t ldc);
void gemm_f32_8x12_neon(int64_t kc, const float* a_packed, const float* b_packed, float alpha,
                        float beta, float* c, int64_t ldc);

// The micro-kernel for active_simd_level().
GemmMicroKernel select_gemm_micro_kernel();

}  // namespace claq
