// Input checks of quantize_layer beyond its options (quantize_options.cc).
#pragma once

#include <cstdint>

#include "core/status.h"

namespace claq {

// Returns InvalidArgument naming the first non-finite weight or Hessian entry
// by row and column, in row-major order. `hessian` may be null. Its entries
// are checked times `hessian_scale`, as quantize_layer reads them.
Status check_finite_inputs(const float* weight, int64_t rows, int64_t cols, const double* hessian,
                           double hessian_scale);

}  // namespace claq
