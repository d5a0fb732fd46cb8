export { simdLevel, supportedSimdLevels, setSimdLevel } from './simd.js';
export type { SimdLevelName } from './simd.js';
export * from './safetensors/index.js';
export * from './checkpoint/index.js';
export type { QuantizedParts } from './quantized-parts.js';
