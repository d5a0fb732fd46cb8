// Declarations of the addon's raw exports: the typed native boundary. Only
// lib/native.ts loads the addon and casts it to this interface; everything
// else imports the typed object from there.

export type SimdLevelName = 'scalar' | 'avx2' | 'avx512' | 'neon';

/** Options of benchGemm: C = op(A) op(B) + C, dense row-major matrices. */
export interface BenchGemmOptions {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  /** Threads including the caller; 0 means every core. */
  threads: number;
}

export interface BenchInverseFactorOptions {
  /** Symmetric positive-definite H [n, n]; only its lower triangle is read. */
  h: Float32Array;
  n: number;
  /** Output U [n, n] with H^-1 = U^T U. */
  u: Float32Array;
  threads: number;
}

export interface BenchHessianOptions {
  /** Activations [tokens, cols], row-major. */
  activations: Float32Array;
  tokens: number;
  cols: number;
  threads: number;
}

export interface NativeAddon {
  simdLevel(): SimdLevelName;
  supportedSimdLevels(): SimdLevelName[];
  setSimdLevel(level: string): void;
  simdLevelWarning(): string;

  // Benchmark-only entry points of the dense linear algebra (bench/linalg.ts).
  benchGemm(options: BenchGemmOptions): void;
  benchInverseFactor(options: BenchInverseFactorOptions): void;
  /** Returns trace(H) of the accumulated Hessian, as a check that work was done. */
  benchHessian(options: BenchHessianOptions): number;
}
