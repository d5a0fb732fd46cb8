// Declarations of the addon's raw exports: the typed native boundary. Only
// lib/native.ts loads the addon and casts it to this interface; everything
// else imports the typed object from there.

export type SimdLevelName = 'scalar' | 'avx2' | 'avx512' | 'neon';

/** The float64 Gram matrix accumulator behind lib/hessian.ts (native/binding/hessian_binding.cc). */
export interface NativeHessian {
  cols(): number;
  samples(): number;
  /** Adds `tokens` rows of activations [tokens, cols] on the calling thread. */
  add(activations: Float32Array, tokens: number, threads: number): void;
  /** Copies the activations, then adds them on a worker thread. */
  addAsync(activations: Float32Array, tokens: number, threads: number): Promise<void>;
  /** Adds a precomputed Gram matrix sum x x^T [cols, cols] over `samples` tokens. */
  addGram(gram: Float64Array, samples: number): void;
  /** H = (2 / samples) * gram, [cols, cols]. */
  hessian(): Float64Array;
  /** sum x x^T, [cols, cols]. */
  gram(): Float64Array;
}

export interface NativeHessianConstructor {
  new (cols: number): NativeHessian;
}

/** The options object that lib/quantize-options.ts builds: every field present and already checked. */
export interface NativeQuantizeOptions {
  method: 'claq' | 'gptq' | 'rtn';
  /** 'row' only with gptq and rtn; claq sends 'column'. */
  grid: 'row' | 'column';
  lowBits: number;
  highBits: number;
  targetBits: number;
  ranking: 'outlier-order' | 'hessian';
  outlierColumnFraction: number;
  outlierHighFraction: number;
  outlierLowFraction: number;
  outlierThreshold: number;
  actOrder: boolean;
  blockSize: number;
  damping: number;
  threads: number;
}

/** A progress report from the quantization worker. */
export interface NativeQuantizeProgress {
  type: 'start' | 'columns';
  done: number;
  total: number;
}

/** Engine statistics, as in QuantizedLayerData::Stats. */
export interface NativeQuantizeStats {
  loss: number;
  damping: number;
  deadColumns: number;
  outlierCount: number;
  seconds: number;
  factorizationSeconds: number;
  kmeansSeconds: number;
  reservationSeconds: number;
  assignmentSeconds: number;
  updateSeconds: number;
}

/** QuantizedLayerData as plain typed arrays, in the original column order. */
export interface NativeQuantizedLayer {
  rows: number;
  cols: number;
  bitsPerColumn: Uint8Array;
  permutation: Int32Array;
  codes: Uint8Array;
  codebookOffsets: Uint32Array;
  codebooks: Float32Array;
  outlierRows: Int32Array;
  outlierCols: Int32Array;
  outlierValues: Float32Array;
  /** Present only for a row grid: float16 scale and integer zero point per row. */
  rowScales?: Float32Array;
  rowZeros?: Float32Array;
  stats: NativeQuantizeStats;
}

/** Opaque handle of a packed layer (a type-tagged External). */
export interface PackedHandle {
  readonly __claqPackedLayer: unique symbol;
}

/** Opaque handle of a float32 benchmark baseline layer. */
export interface DenseF32Handle {
  readonly __claqDenseF32Layer: unique symbol;
}

/** Parts as the addon reads them (see lib/quantized-parts.ts). */
export interface NativeQuantizedParts {
  rows: number;
  cols: number;
  bitsPerColumn: Uint8Array;
  permutation: Int32Array;
  codes: Uint8Array;
  codebookOffsets: Uint32Array;
  codebooks: Float32Array;
  outlierRows: Int32Array;
  outlierCols: Int32Array;
  outlierValues: Float32Array;
  rowScales?: Float32Array;
  rowZeros?: Float32Array;
}

export interface NativePackedInfo {
  rows: number;
  cols: number;
  bytes: number;
  storageBitsPerWeight: number;
}

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

export interface BenchCholeskyOptions {
  /** Symmetric positive-definite A [n, n], overwritten by its lower Cholesky factor. */
  a: Float32Array;
  n: number;
  threads: number;
}

export interface BenchHessianOptions {
  /** Activations [tokens, cols], row-major. */
  activations: Float32Array;
  tokens: number;
  cols: number;
  threads: number;
}

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

/** A linear: float32 [out_features, in_features] row-major, or quantized parts (packed by the addon). */
export type NativeLlamaLinear = Float32Array | NativeQuantizedParts;

export interface NativeLlamaBlockWeights {
  inputNorm: Float32Array;
  qProj: NativeLlamaLinear;
  kProj: NativeLlamaLinear;
  vProj: NativeLlamaLinear;
  oProj: NativeLlamaLinear;
  postAttentionNorm: Float32Array;
  gateProj: NativeLlamaLinear;
  upProj: NativeLlamaLinear;
  downProj: NativeLlamaLinear;
}

/** Which linear input of a block llamaBlock collects. */
export type NativeLinearInput = 'attention' | 'output' | 'mlp' | 'down';

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
  /** Index of the first NaN or ±Inf element, or -1 (native/core/finite.h). */
  firstNonFiniteSync(array: Float32Array | Float64Array): number;

  llamaCreate(config: NativeLlamaConfig, weights: NativeLlamaWeights, options: { threads: number }): LlamaHandle;
  llamaForwardSync(model: LlamaHandle, tokens: Int32Array): Float32Array;
  llamaPerplexity(model: LlamaHandle, tokens: Int32Array, options: { context: number },
    onProgress: ((event: NativePerplexityProgress) => void) | null): NativeJob<NativePerplexity>;
  llamaGenerate(model: LlamaHandle, prompt: Int32Array,
    options: { maxTokens: number; temperature: number; seed: number; stopTokens: Int32Array },
    onToken: ((token: number) => void) | null): NativeJob<NativeGeneration>;
  llamaEmbed(model: LlamaHandle, tokens: Int32Array): Float32Array;
  llamaBlock(model: LlamaHandle, block: number, states: Float32Array, seqLen: number,
    input: NativeLinearInput | null): NativeJob<Float32Array>;
  llamaSetLinear(model: LlamaHandle, block: number, name: string, weight: NativeLlamaLinear): void;


  NativeHessian: NativeHessianConstructor;
  quantizeLayer(
    weight: Float32Array, rows: number, cols: number, hessian: NativeHessian | null,
    options: NativeQuantizeOptions, onProgress: ((event: NativeQuantizeProgress) => void) | null,
  ): { promise: Promise<NativeQuantizedLayer>; abort(): void };
  quantizeLayerSync(
    weight: Float32Array, rows: number, cols: number, hessian: NativeHessian | null,
    options: NativeQuantizeOptions,
  ): NativeQuantizedLayer;
  /** Frees the engine's cached work buffers; returns the bytes freed. */
  trimWorkMemory(): number;
  /** Bytes the engine's work-buffer cache contains now. */
  cachedWorkMemory(): number;
  /** ||X W^T - X Q^T||^2 / ||X W^T||^2 from the Hessian's Gram matrix. */
  relativeOutputErrorSync(
    weight: Float32Array, quantized: Float32Array, rows: number, cols: number, hessian: NativeHessian,
    threads: number,
  ): number;
  // F16/BF16 <-> F32 conversion (native/kernels/convert.h). The 16-bit side
  // is raw little-endian bytes; both buffers hold the same element count.
  /** Packs row-major codes [rows, bitsPerColumn.length] into the checkpoint's code stream (core/code_stream.h). */
  packCodesSync(codes: Uint8Array, rows: number, bitsPerColumn: Uint8Array, stream: Uint8Array): void;
  /** Unpacks the code stream into codes; returns the first column with nonzero padding bits, or -1. */
  unpackCodesSync(stream: Uint8Array, rows: number, bitsPerColumn: Uint8Array, codes: Uint8Array): number;
  /** The index of the first code above its column's `largest` entry (codes [rows, largest.length]), or -1. */
  firstCodeAboveSync(codes: Uint8Array, largest: Uint8Array): number;
  /** Writes the weights [rows, cols] of checked parts into `out` (core/dequantize.h). */
  dequantizeSync(parts: NativeQuantizedParts, out: Float32Array): void;
  f16ToF32Sync(source: Uint8Array, target: Float32Array): void;
  bf16ToF32Sync(source: Uint8Array, target: Float32Array): void;
  f32ToF16Sync(source: Float32Array, target: Uint8Array): void;
  f32ToBf16Sync(source: Float32Array, target: Uint8Array): void;

  packLayer(parts: NativeQuantizedParts): PackedHandle;
  packedInfo(handle: PackedHandle): NativePackedInfo;
  packedMatmul(handle: PackedHandle, x: Float32Array, tokens: number, y: Float32Array,
    options: { threads: number }): void;
  packedMatmulAsync(handle: PackedHandle, x: Float32Array, tokens: number, y: Float32Array,
    options: { threads: number }): Promise<void>;
  packedRelease(handle: PackedHandle): void;

  /** Sums x over `threads` slices, prefetching `prefetchBytes` ahead (0 or absent: no software prefetch). */
  sumF32(x: Float32Array, threads: number, prefetchBytes?: number): number;
  /** Asks for huge pages under x's untouched memory; returns the bytes advised (0 where unsupported). */
  adviseHugePages(x: Float32Array): number;
  denseF32Pack(weight: Float32Array, rows: number, cols: number): DenseF32Handle;
  denseF32Matmul(handle: DenseF32Handle, x: Float32Array, tokens: number, y: Float32Array, threads: number): void;

  // Benchmark-only entry points of the dense linear algebra (bench/linalg.ts).
  benchGemm(options: BenchGemmOptions): void;
  benchInverseFactor(options: BenchInverseFactorOptions): void;
  benchCholesky(options: BenchCholeskyOptions): void;
  /** Returns trace(H) of the accumulated Hessian, as a check that work was done. */
  benchHessian(options: BenchHessianOptions): number;
}
