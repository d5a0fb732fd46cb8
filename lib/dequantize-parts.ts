// Dense float32 weights from the stored parts of a quantized layer. The addon
// checks the parts in full and computes the weights (core/dequantize.h).
import { checkInteger, checkLength, checkTypedArray } from './checks.js';
import { fromNativeError } from './errors.js';
import { native } from './native.js';
import type { QuantizedParts } from './quantized-parts.js';

const MAX_DIMENSION = 2 ** 30;

/**
 * Returns W [rows, cols] row-major: each weight is its column's centroid for
 * its code, and each reserved outlier its stored value. With a row grid the
 * weight is `rowScales[i] · (centroid − rowZeros[i])`, exact in float32 (a
 * float16 scale times an integer below 2^8).
 *
 * @throws {TypeError} when a field of `parts` has the wrong type.
 * @throws {RangeError} when a size, index or value of `parts` is invalid; the
 *   message names the first one.
 */
export function dequantizeParts(parts: QuantizedParts): Float32Array {
  // The output is allocated before the addon checks the parts, so its size
  // is checked here against the codes, which already take rows × cols bytes.
  const operation = 'dequantizeParts';
  const rows = checkInteger(operation, 'parts.rows', parts.rows, 1, MAX_DIMENSION);
  const cols = checkInteger(operation, 'parts.cols', parts.cols, 1, MAX_DIMENSION);
  checkTypedArray(operation, 'parts.codes', parts.codes, 'Uint8Array');
  checkLength(operation, 'parts.codes', parts.codes.length, rows * cols, `rows * cols = ${rows} * ${cols}`);

  const weight = new Float32Array(rows * cols);
  try {
    native.dequantizeSync(parts, weight);
  } catch (error) {
    throw fromNativeError(error, new Error());
  }
  return weight;
}
