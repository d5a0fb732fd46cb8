// Declarations of the addon's raw exports: the typed native boundary. Only
// lib/native.ts loads the addon and casts it to this interface; everything
// else imports the typed object from there.

export type SimdLevelName = 'scalar' | 'avx2' | 'avx512' | 'neon';

export interface NativeAddon {
  simdLevel(): SimdLevelName;
  supportedSimdLevels(): SimdLevelName[];
  setSimdLevel(level: string): void;
  simdLevelWarning(): string;
}
