import { availableParallelism } from 'node:os';

import { checkInteger, checkLength, checkTypedArray, describeValue } from './checks.js';
import { fromNativeError } from './errors.js';
import { Hessian } from './hessian.js';
import { native } from './native.js';
import { QuantizedLayer } from './quantized-layer.js';
import type { WeightMatrix } from './quantize-layer.js';

/**
 * Returns the relative output error of a quantized layer on its calibration
 * tokens, `‖XWᵀ − XQᵀ‖²_F / ‖XWᵀ‖²_F`, computed from the Hessian (which stores
 * `XᵀX`) as `Σ_i dᵢ G dᵢᵀ / Σ_i wᵢ G wᵢᵀ` with `d = w − q`, so the activations
 * are not needed. It runs a float32 GEMM of `[rows, cols] × [cols, cols]` on
 * the calling thread and the native thread pool.
 *
 * @param quantized - a {@link QuantizedLayer}, or dequantized weights `[rows, cols]`.
 * @throws {TypeError} / {RangeError} for a bad argument or mismatched sizes.
 * @example
 * const error = relativeOutputError(weight, layer, hessian);  // 0.012
 */
export function relativeOutputError(weight: WeightMatrix, quantized: QuantizedLayer | Float32Array, hessian: Hessian,
  options: { threads?: number } = {}): number {
  const operation = 'relativeOutputError';
  if (weight === null || typeof weight !== 'object') {
    throw new TypeError(`${operation}: weight must be an object { data, rows, cols }, received ${describeValue(weight)}`);
  }
  checkTypedArray(operation, 'weight.data', weight.data, 'Float32Array');
  const rows = checkInteger(operation, 'weight.rows', weight.rows, 1, 2 ** 24);
  const cols = checkInteger(operation, 'weight.cols', weight.cols, 1, 2 ** 24);
  checkLength(operation, 'weight.data', weight.data.length, rows * cols, `rows * cols = ${rows} * ${cols}`);
  const values = quantized instanceof QuantizedLayer ? quantized.dequantize() : quantized;
  checkTypedArray(operation, 'quantized', values, 'Float32Array');
  checkLength(operation, 'quantized', values.length, rows * cols, `rows * cols = ${rows} * ${cols}`);
  if (!(hessian instanceof Hessian)) {
    throw new TypeError(`${operation}: hessian must be a Hessian, received ${describeValue(hessian)}`);
  }
  if (hessian.cols !== cols) {
    throw new RangeError(`${operation}: hessian.cols must equal weight.cols (${cols}), received ${hessian.cols}`);
  }
  const threads = checkInteger(operation, 'options.threads', options.threads ?? availableParallelism(), 1, 1024);
  try {
    return native.relativeOutputErrorSync(weight.data, values, rows, cols, hessian.nativeHandle(), threads);
  } catch (error) {
    throw fromNativeError(error);
  }
}
