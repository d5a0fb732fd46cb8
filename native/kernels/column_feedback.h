// Error feedback inside a sub-block of the GPTQ column loop. After column k
// is quantized, its scaled error e = (w - q) / U[k][k] is written out and
// carried to the next `count` columns of the sub-block:
//   target_j -= factor_j * e   for j in [0, count),
// where target_j starts at targets + j * target_stride and factor_j is
// U[k][k + 1 + j].
//
// Contract: w, q, error and every target have `rows` floats; error and the
// targets must not overlap each other or w and q. Any alignment. The vector
// versions use FMA, so they can differ from the scalar one by one rounding
// per target value.
#pragma once

#include <cstdint>

namespace claq {

using ColumnFeedbackFn = void (*)(const float* w, const float* q, float inverse_diagonal, int64_t rows,
                                  const float* factors, int64_t count, float* targets,
                                  int64_t target_stride, float* error);

void column_feedback_f32_ref(const float* w, const float* q, float inverse_diagonal, int64_t rows,
                             const float* factors, int64_t count, float* targets,
                             int64_t target_stride, float* error);
void column_feedback_f32_avx2(const float* w, const float* q, float inverse_diagonal, int64_t rows,
                              const float* factors, int64_t count, float* targets,
                              int64_t target_stride, float* error);
void column_feedback_f32_avx512(const float* w, const float* q, float inverse_diagonal, int64_t rows,
                                const float* factors, int64_t count, float* targets,
                                int64_t target_stride, float* error);
void column_feedback_f32_neon(const float* w, const float* q, float inverse_diagonal, int64_t rows,
                              const float* factors, int64_t count, float* targets,
                              int64_t target_stride, float* error);

// Returns the version for active_simd_level().
ColumnFeedbackFn select_column_feedback_f32();

}  // namespace claq
