// Conversions between float32 and the 16-bit float formats of safetensors
// checkpoints: IEEE 754 binary16 (F16) and bfloat16 (BF16).
//
// Contract, the same at every level:
// - Widening (F16/BF16 -> F32) is exact for every finite value, subnormals and
//   signed zeros included, and maps +-Inf to +-Inf. A BF16 NaN keeps its bits
//   (the result is the 16 bits shifted left by 16). An F16 NaN keeps its sign
//   and payload and comes back quiet (bit 22 set), as x86 F16C and AArch64
//   FCVT do.
// - Narrowing (F32 -> F16/BF16) rounds to nearest, ties to even; values
//   beyond the largest finite value round to +-Inf; float32 subnormals and
//   tiny values round to F16 subnormals or signed zero. A NaN stays a NaN
//   with its sign and the top payload bits, quiet bit set.
// - Buffers: `src` and `dst` hold n elements each, any alignment (the 16-bit
//   side is raw little-endian bytes), must not overlap; no read or write
//   outside them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace claq {

// One value, scalar. These define the correct result for every level.
float f16_bits_to_f32(uint16_t h);
float bf16_bits_to_f32(uint16_t b);
uint16_t f32_to_f16_bits(float f);
uint16_t f32_to_bf16_bits(float f);

void f16_to_f32_ref(const uint8_t* src, float* dst, size_t n);
void bf16_to_f32_ref(const uint8_t* src, float* dst, size_t n);
void f32_to_f16_ref(const float* src, uint8_t* dst, size_t n);
void f32_to_bf16_ref(const float* src, uint8_t* dst, size_t n);

void f16_to_f32_avx2(const uint8_t* src, float* dst, size_t n);
void bf16_to_f32_avx2(const uint8_t* src, float* dst, size_t n);
void f32_to_f16_avx2(const float* src, uint8_t* dst, size_t n);
void f32_to_bf16_avx2(const float* src, uint8_t* dst, size_t n);

void f16_to_f32_avx512(const uint8_t* src, float* dst, size_t n);
void bf16_to_f32_avx512(const uint8_t* src, float* dst, size_t n);
void f32_to_f16_avx512(const float* src, uint8_t* dst, size_t n);
void f32_to_bf16_avx512(const float* src, uint8_t* dst, size_t n);

void f16_to_f32_neon(const uint8_t* src, float* dst, size_t n);
void bf16_to_f32_neon(const uint8_t* src, float* dst, size_t n);
void f32_to_f16_neon(const float* src, uint8_t* dst, size_t n);
void f32_to_bf16_neon(const float* src, uint8_t* dst, size_t n);

// Call the version for active_simd_level() (scalar where no vector version
// exists for the level).
void f16_to_f32(const uint8_t* src, float* dst, size_t n);
void bf16_to_f32(const uint8_t* src, float* dst, size_t n);
void f32_to_f16(const float* src, uint8_t* dst, size_t n);
void f32_to_bf16(const float* src, uint8_t* dst, size_t n);

}  // namespace claq
