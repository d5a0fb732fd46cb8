// Scans for the first NaN or infinity in a buffer: the finite-value check
// that the TypeScript API runs on every input before long work starts.
#pragma once

#include <cstdint>

namespace claq {

// Returns the index of the first element that is NaN or ±Inf, or -1.
int64_t first_non_finite_f32(const float* data, int64_t count);
int64_t first_non_finite_f64(const double* data, int64_t count);

}  // namespace claq
