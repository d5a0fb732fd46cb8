// Relative output error of a quantized layer on calibration activations,
// computed from their Gram matrix G = X^T X instead of the activations:
//
//   ||X W^T - X Q^T||_F^2 / ||X W^T||_F^2 = sum_i d_i G d_i^T / sum_i w_i G w_i^T
//
// with d_i = w_i - q_i the i-th row of W - Q. Any positive scale of G cancels,
// so the GPTQ Hessian H = (2/n) G gives the same value.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace claq {

// weight and quantized are [rows, cols] row-major float32; gram is [cols, cols]
// float64 (only its lower triangle, diagonal included, is read). Writes the
// ratio to *out; 0 when ||X W^T|| is 0 and the layers are equal, +infinity
// when only the reference output is 0. threads: 0 uses every core.
Status relative_output_error(const float* weight, const float* quantized, int64_t rows, int64_t cols,
                             const double* gram, int threads, double* out);

}  // namespace claq
