#include "kernels/simd_level.h"
#include "kernels/vector_math.h"

#include <cstring>

namespace claq {
namespace {

// Where `condition` holds, `replacement`, else `value`, as bit masks: with
// the default -ftrapping-math GCC keeps std::min / std::max or a ?: on floats
// as branches in these loops, which stops it from vectorizing them.
inline float select(bool condition, float replacement, float value) {
  uint32_t a, b;
  std::memcpy(&a, &replacement, sizeof a);
  std::memcpy(&b, &value, sizeof b);
  const uint32_t mask = 0u - static_cast<uint32_t>(condition);
  const uint32_t bits = (a & mask) | (b & ~mask);
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

inline float exp_poly(float y) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;  // ln 2 split so k * kLn2Hi is exact
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;   // 1.5 * 2^23: adding it rounds to an integer

  y = select(y < -87.3f, -87.3f, y);
  y = select(y > 88.3f, 88.3f, y);
  const float k = (y * kLog2e + kRound) - kRound;
  const float r = (y - k * kLn2Hi) - k * kLn2Lo;

  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;

  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

}  // namespace

double exp_shifted_f32_ref(float* x, int64_t n, float shift) {
  constexpr int64_t kBlock = 64;
  constexpr int kLanes = 8;
  double total = 0;
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    const int64_t end = begin + kBlock < n ? begin + kBlock : n;
    float lanes[kLanes] = {};
    int64_t i = begin;
    for (; i + kLanes <= end; i += kLanes) {
      for (int j = 0; j < kLanes; ++j) {
        x[i + j] = exp_poly(x[i + j] - shift);
        lanes[j] += x[i + j];
      }
    }
    for (; i < end; ++i) {
      x[i] = exp_poly(x[i] - shift);
      lanes[0] += x[i];
    }
    double block = 0;
    for (int j = 0; j < kLanes; ++j) block += lanes[j];
    total += block;
  }
  return total;
}

float max_f32_ref(const float* x, int64_t n) {
  constexpr int kLanes = 8;
  float lanes[kLanes];
  for (int j = 0; j < kLanes; ++j) lanes[j] = x[0];
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) lanes[j] = select(x[i + j] > lanes[j], x[i + j], lanes[j]);
  }
  float result = x[0];
  for (; i < n; ++i) result = select(x[i] > result, x[i], result);
  for (int j = 0; j < kLanes; ++j) result = select(lanes[j] > result, lanes[j], result);
  return result;
}

void silu_mul_f32(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + exp_poly(-gate[i])) * up[i];
}

VectorMathKernels select_vector_math_kernels() {
  switch (active_simd_level()) {
#if defined(__x86_64__)
    case SimdLevel::kAvx512: return {exp_shifted_f32_avx512, max_f32_avx512};
    case SimdLevel::kAvx2: return {exp_shifted_f32_avx2, max_f32_avx2};
#endif
    default: return {exp_shifted_f32_ref, max_f32_ref};
  }
}

}  // namespace claq
