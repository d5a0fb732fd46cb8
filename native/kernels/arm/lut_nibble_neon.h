// NEON helpers shared by the look-up kernels (lut_gemv_neon.cc,
// packed_gemm_neon.cc): a 16-entry float table is 64 bytes, looked up with
// the four-register byte table instruction (tbl) after each window is
// turned into the byte offsets of its float.
#pragma once

#include <arm_neon.h>

namespace claq::neon {

// Table entry (window & 15) of `table` (16 floats) for 4 lanes.
inline float32x4_t lookup16(uint32x4_t window, const uint8x16x4_t& table) {
  // Byte k of lane i selects byte 4 * n + k of the table, n = window & 15.
  const uint32x4_t nibble = vandq_u32(window, vdupq_n_u32(15));
  const uint32x4_t offsets = vmlaq_n_u32(vdupq_n_u32(0x03020100u), nibble, 0x04040404u);
  return vreinterpretq_f32_u8(vqtbl4q_u8(table, vreinterpretq_u8_u32(offsets)));
}

inline uint8x16x4_t load_table(const float* table) {
  return vld1q_u8_x4(reinterpret_cast<const uint8_t*>(table));
}

template <int Shift>
inline uint32x4_t shift_right(uint32x4_t word) {
  if constexpr (Shift == 0) {
    return word;
  } else {
    return vshrq_n_u32(word, Shift);
  }
}

// Window of 3-bit column C of a three-word row; columns 10 and 21 straddle words.
template <int C>
inline uint32x4_t window_3bit(uint32x4_t w0, uint32x4_t w1, uint32x4_t w2) {
  if constexpr (C < 10) {
    return shift_right<3 * C>(w0);
  } else if constexpr (C == 10) {
    return vorrq_u32(vshrq_n_u32(w0, 30), vshlq_n_u32(w1, 2));
  } else if constexpr (C < 21) {
    return vshrq_n_u32(w1, 3 * C - 32);
  } else if constexpr (C == 21) {
    return vorrq_u32(vshrq_n_u32(w1, 31), vshlq_n_u32(w2, 1));
  } else {
    return vshrq_n_u32(w2, 3 * C - 64);
  }
}

}  // namespace claq::neon
