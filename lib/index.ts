export { simdLevel, supportedSimdLevels, setSimdLevel } from './simd.js';
export type { SimdLevelName } from './simd.js';
export * from './safetensors/index.js';
