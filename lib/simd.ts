import { native } from './native.js';
import type { SimdLevelName } from '../types/native.js';

export type { SimdLevelName };

/**
 * Returns the SIMD level the kernels dispatch on: the best one this CPU and
 * OS support, unless the environment variable `CLAQ_SIMD` or
 * {@link setSimdLevel} pinned another.
 *
 * @example
 * simdLevel(); // 'avx512' on a recent x86-64 server
 */
export function simdLevel(): SimdLevelName {
  return native.simdLevel();
}

/** Returns every level this CPU, OS and build support, `'scalar'` first. */
export function supportedSimdLevels(): SimdLevelName[] {
  return native.supportedSimdLevels();
}

/**
 * Pins the SIMD level for all later kernel calls in this process.
 *
 * @throws {TypeError} when `level` is not a string.
 * @throws {RangeError} when `level` is unknown or not supported here.
 */
export function setSimdLevel(level: SimdLevelName): void {
  if (typeof level !== 'string') {
    throw new TypeError(`setSimdLevel: level must be a string, received ${typeof level}`);
  }
  const supported = supportedSimdLevels();
  if (!supported.includes(level)) {
    throw new RangeError(
      `setSimdLevel: level '${level}' is not supported here (supported: ${supported.join(', ')})`);
  }
  native.setSimdLevel(level);
}
