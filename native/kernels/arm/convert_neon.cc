// NEON versions of the conversions in kernels/convert.h, eight values per
// step. The tail (fewer than eight) goes through the scalar reference, so
// nothing is read or written past n. The F16 conversions use FCVT, which
// rounds to nearest even under the default FPCR and, with FPCR.DN clear,
// quiets a NaN and keeps its sign and top payload bits, as the reference does.
#include <arm_neon.h>

#include "kernels/convert.h"

namespace claq {
namespace {

// BF16 rounding on four float32 bit patterns, the same rule as
// f32_to_bf16_bits: NaN keeps its top bits and is made quiet.
uint16x4_t round_to_bf16_neon(uint32x4_t u) {
  const uint32x4_t lowest_kept = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
  const uint32x4_t rounded = vaddq_u32(vaddq_u32(u, vdupq_n_u32(0x7FFF)), lowest_kept);
  const uint32x4_t magnitude = vandq_u32(u, vdupq_n_u32(0x7FFFFFFF));
  const uint32x4_t is_nan = vcgtq_u32(magnitude, vdupq_n_u32(0x7F800000));
  const uint32x4_t quiet_nan = vorrq_u32(u, vdupq_n_u32(0x00400000));
  return vshrn_n_u32(vbslq_u32(is_nan, quiet_nan, rounded), 16);
}

}  // namespace

void f16_to_f32_neon(const uint8_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t h = vreinterpretq_f16_u8(vld1q_u8(src + 2 * i));
    vst1q_f32(dst + i, vcvt_f32_f16(vget_low_f16(h)));
    vst1q_f32(dst + i + 4, vcvt_high_f32_f16(h));
  }
  f16_to_f32_ref(src + 2 * i, dst + i, n - i);
}

void bf16_to_f32_neon(const uint8_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint16x8_t b = vreinterpretq_u16_u8(vld1q_u8(src + 2 * i));
    vst1q_f32(dst + i, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(b), 16)));
    vst1q_f32(dst + i + 4, vreinterpretq_f32_u32(vshll_high_n_u16(b, 16)));
  }
  bf16_to_f32_ref(src + 2 * i, dst + i, n - i);
}

void f32_to_f16_neon(const float* src, uint8_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t h = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(src + i)), vld1q_f32(src + i + 4));
    vst1q_u8(dst + 2 * i, vreinterpretq_u8_f16(h));
  }
  f32_to_f16_ref(src + i, dst + 2 * i, n - i);
}

void f32_to_bf16_neon(const float* src, uint8_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint16x4_t low = round_to_bf16_neon(vreinterpretq_u32_f32(vld1q_f32(src + i)));
    const uint16x4_t high = round_to_bf16_neon(vreinterpretq_u32_f32(vld1q_f32(src + i + 4)));
    vst1q_u8(dst + 2 * i, vreinterpretq_u8_u16(vcombine_u16(low, high)));
  }
  f32_to_bf16_ref(src + i, dst + 2 * i, n - i);
}

}  // namespace claq
