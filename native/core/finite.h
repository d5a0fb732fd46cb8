// Scans for the first NaN or infinity in a buffer: the finite-value check
// that the TypeScript API runs on every input before long work starts.
#pragma once

#include <cstdint>

namespace claq {

// Returns the index of the first element that is NaN or ±Inf, or -1.
int64_t first_non_finite_f32(const float* data, int64_t count);
int64_t first_non_finite_f64(const double* data, int64_t count);

// Copies `count` floats from `from` to `to` and returns the index of the first
// NaN or ±Inf among them, or -1: one pass over memory instead of two. After a
// hit, the rest of the buffer (past the 1024-element chunk) is not copied.
int64_t copy_first_non_finite_f32(const float* from, float* to, int64_t count);

}  // namespace claq
