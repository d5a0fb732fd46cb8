export { simdLevel, supportedSimdLevels, setSimdLevel } from './simd.js';
export type { SimdLevelName } from './simd.js';
export { AbortError, ClaqError } from './errors.js';
export { Hessian, MAX_HESSIAN_COLS } from './hessian.js';
export type { HessianAddOptions } from './hessian.js';
export { quantizeLayer, quantizeLayerSync } from './quantize-layer.js';
export type { WeightMatrix } from './quantize-layer.js';
export { releaseWorkMemory, cachedWorkMemory, WORK_MEMORY_IDLE_MS } from './work-memory.js';
export { DYNAMIC_OUTLIERS } from './quantize-options.js';
export type {
  ColumnRanking, OutlierOptions, QuantizeMethod, QuantizeOptions, QuantizeProgressEvent, UniformGrid,
} from './quantize-options.js';
export { QuantizedLayer, codeBits, storageBits } from './quantized-layer.js';
export type { MeasuredStats, QuantizeStats } from './quantized-layer.js';
export type { QuantizedParts } from './quantized-parts.js';
export * from './safetensors/index.js';
export { relativeOutputError } from './output-error.js';
export { PackedLinear, packLayer } from './packed-linear.js';
export type { PackedLinearOptions } from './packed-linear.js';
export * from './checkpoint/index.js';
export {
  loadModel, LlamaModel, parseLlamaConfig, TextTokenizer, STORY_SEPARATOR, readTokenFile, evaluatePerplexity, generate,
  quantizeModel, dequantizeParts, exportDequantized,
} from './model/index.js';
export type {
  LoadModelOptions, LlamaConfig, TokenWidth, PerplexityOptions, PerplexityProgress, PerplexityResult, GenerateOptions,
  GenerateResult, LayerReport, QuantizeModelOptions, QuantizeModelProgress, QuantizeModelResult,
} from './model/index.js';
