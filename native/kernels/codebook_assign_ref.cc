#include "kernels/codebook_assign.h"
#include "kernels/simd_level.h"

namespace claq {

double assign_codebook_ref(const float* w, int64_t rows, const float* thresholds, int levels,
                           const float* codebook, const uint8_t* reserved, uint8_t* codes,
                           float* quantized) {
  double partial[8] = {};
  for (int64_t i = 0; i < rows; ++i) {
    int code = 0;
    for (int c = 0; c + 1 < levels; ++c) code += w[i] > thresholds[c] ? 1 : 0;
    codes[i] = static_cast<uint8_t>(code);
    if (reserved == nullptr || reserved[i] == 0) quantized[i] = codebook[code];

    const float d = w[i] - quantized[i];
    const double square = static_cast<double>(d) * d;
    partial[i < (rows & ~int64_t{7}) ? i % 8 : 0] += square;
  }
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

int64_t flag_tails_ref(const float* w, int64_t rows, float low, float high, uint8_t* flags,
                       int64_t* below, int32_t* listed) {
  int64_t low_count = 0, high_count = 0;
  for (int64_t i = 0; i < rows; ++i) {
    low_count += w[i] < low ? 1 : 0;
    high_count += w[i] > high ? 1 : 0;
    flags[i] = (w[i] < low || w[i] > high) ? 1 : 0;
    if (listed != nullptr && flags[i] != 0) *listed++ = static_cast<int32_t>(i);
  }
  *below = low_count;
  return high_count;
}

int64_t flag_tails(const float* w, int64_t rows, float low, float high, uint8_t* flags,
                   int64_t* below, int32_t* listed) {
#if defined(__x86_64__)
  if (active_simd_level() == SimdLevel::kAvx512) {
    return flag_tails_avx512(w, rows, low, high, flags, below, listed);
  }
#endif
  return flag_tails_ref(w, rows, low, high, flags, below, listed);
}

double assign_codebook(const float* w, int64_t rows, const float* thresholds, int levels,
                       const float* codebook, const uint8_t* reserved, uint8_t* codes,
                       float* quantized) {
#if defined(__x86_64__)
  if (active_simd_level() == SimdLevel::kAvx512) {
    return assign_codebook_avx512(w, rows, thresholds, levels, codebook, reserved, codes,
                                  quantized);
  }
#endif
  return assign_codebook_ref(w, rows, thresholds, levels, codebook, reserved, codes, quantized);
}

}  // namespace claq
