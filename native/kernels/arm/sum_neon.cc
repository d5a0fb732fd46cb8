#include <arm_neon.h>

#include "kernels/sum.h"

namespace claq {

// A prefetch never faults, so it may run past the end.
float sum_f32_neon(const float* x, size_t n, size_t prefetch_bytes) {
  float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0);
  float32x4_t a2 = vdupq_n_f32(0), a3 = vdupq_n_f32(0);
  const char* bytes = reinterpret_cast<const char*>(x);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    if (prefetch_bytes != 0) __builtin_prefetch(bytes + 4 * i + prefetch_bytes);
    a0 = vaddq_f32(a0, vld1q_f32(x + i));
    a1 = vaddq_f32(a1, vld1q_f32(x + i + 4));
    a2 = vaddq_f32(a2, vld1q_f32(x + i + 8));
    a3 = vaddq_f32(a3, vld1q_f32(x + i + 12));
  }
  for (; i + 4 <= n; i += 4) a0 = vaddq_f32(a0, vld1q_f32(x + i));
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
  for (; i < n; ++i) sum += x[i];
  return sum;
}

}  // namespace claq
