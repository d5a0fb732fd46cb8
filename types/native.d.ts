// Declarations of the addon's raw exports: the typed native boundary. Only
// lib/native.ts loads the addon and casts it to this interface; everything
// else imports the typed object from there.

export type SimdLevelName = 'scalar' | 'avx2' | 'avx512' | 'neon';

/** An opaque handle to a native Llama model (an External with a type tag). */
export interface LlamaHandle {
  readonly __brand: 'LlamaHandle';
}

export interface NativeRopeScaling {
  type: 'linear' | 'llama3';
  factor: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositions?: number;
}

export interface NativeLlamaConfig {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositions: number;
  normEps: number;
  ropeTheta: number;
  ropeScaling: NativeRopeScaling | null;
}

/** Float32 weights, [out_features, in_features] row-major for the linears. */
export interface NativeLlamaBlockWeights {
  inputNorm: Float32Array;
  qProj: Float32Array;
  kProj: Float32Array;
  vProj: Float32Array;
  oProj: Float32Array;
  postAttentionNorm: Float32Array;
  gateProj: Float32Array;
  upProj: Float32Array;
  downProj: Float32Array;
}

export interface NativeLlamaWeights {
  embedTokens: Float32Array;
  blocks: NativeLlamaBlockWeights[];
  norm: Float32Array;
  /** null ties the head to embedTokens. */
  lmHead: Float32Array | null;
}

export interface NativePerplexity {
  nllSum: number;
  targets: number;
  windows: number;
}

export interface NativePerplexityProgress extends NativePerplexity {
  windowsDone: number;
  windowsTotal: number;
}

export interface NativeGeneration {
  tokens: Int32Array;
  finishReason: 'length' | 'stop' | 'context';
  prefillSeconds: number;
  decodeSeconds: number;
}

/** A running native job: abort() makes the promise reject with an AbortError. */
export interface NativeJob<T> {
  promise: Promise<T>;
  abort(): void;
}

export interface NativeAddon {
  simdLevel(): SimdLevelName;
  supportedSimdLevels(): SimdLevelName[];
  setSimdLevel(level: string): void;
  simdLevelWarning(): string;

  llamaCreate(config: NativeLlamaConfig, weights: NativeLlamaWeights, options: { threads: number }): LlamaHandle;
  llamaForwardSync(model: LlamaHandle, tokens: Int32Array): Float32Array;
  llamaPerplexity(model: LlamaHandle, tokens: Int32Array, options: { context: number },
    onProgress: ((event: NativePerplexityProgress) => void) | null): NativeJob<NativePerplexity>;
  llamaGenerate(model: LlamaHandle, prompt: Int32Array,
    options: { maxTokens: number; temperature: number; seed: number; stopTokens: Int32Array },
    onToken: ((token: number) => void) | null): NativeJob<NativeGeneration>;

  // F16/BF16 <-> F32 conversion (native/kernels/convert.h). The 16-bit side
  // is raw little-endian bytes; both buffers hold the same element count.
  f16ToF32Sync(source: Uint8Array, target: Float32Array): void;
  bf16ToF32Sync(source: Uint8Array, target: Float32Array): void;
  f32ToF16Sync(source: Float32Array, target: Uint8Array): void;
  f32ToBf16Sync(source: Float32Array, target: Uint8Array): void;
}
