// Declarations of the addon's raw exports: the typed native boundary. Only
// lib/native.ts loads the addon and casts it to this interface; everything
// else imports the typed object from there.

export type SimdLevelName = 'scalar' | 'avx2' | 'avx512' | 'neon';

export interface NativeAddon {
  simdLevel(): SimdLevelName;
  supportedSimdLevels(): SimdLevelName[];
  setSimdLevel(level: string): void;
  simdLevelWarning(): string;

  // F16/BF16 <-> F32 conversion (native/kernels/convert.h). The 16-bit side
  // is raw little-endian bytes; both buffers hold the same element count.
  f16ToF32Sync(source: Uint8Array, target: Float32Array): void;
  bf16ToF32Sync(source: Uint8Array, target: Float32Array): void;
  f32ToF16Sync(source: Float32Array, target: Uint8Array): void;
  f32ToBf16Sync(source: Float32Array, target: Uint8Array): void;
}
