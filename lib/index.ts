export { simdLevel, supportedSimdLevels, setSimdLevel } from './simd.js';
export type { SimdLevelName } from './simd.js';
export { PackedLinear, packLayer } from './packed-linear.js';
export type { PackedLinearOptions } from './packed-linear.js';
export * from './safetensors/index.js';
export * from './checkpoint/index.js';
export type { QuantizedParts } from './quantized-parts.js';
export {
  loadModel, LlamaModel, parseLlamaConfig, TextTokenizer, STORY_SEPARATOR, readTokenFile, evaluatePerplexity, generate,
} from './model/index.js';
export type {
  LoadModelOptions, LlamaConfig, TokenWidth, PerplexityOptions, PerplexityProgress, PerplexityResult, GenerateOptions,
  GenerateResult,
} from './model/index.js';
