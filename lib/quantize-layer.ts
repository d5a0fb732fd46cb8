import { checkFiniteMatrix, checkInteger, checkLength, checkTypedArray, describeValue } from './checks.js';
import { AbortError, ClaqError, fromNativeError } from './errors.js';
import { Hessian } from './hessian.js';
import { native } from './native.js';
import { QuantizedLayer } from './quantized-layer.js';
import { normalizeQuantizeOptions } from './quantize-options.js';
import type { NormalizedQuantizeOptions, QuantizeOptions } from './quantize-options.js';
import type { NativeHessian, NativeQuantizeProgress } from '../types/native.js';

/** A weight matrix: `data` is float32 `[rows, cols]` row-major, the PyTorch `nn.Linear` layout `[out, in]`. */
export interface WeightMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

const MAX_DIMENSION = 2 ** 24;
const MAX_WEIGHTS = 2 ** 32 - 1;

/**
 * Quantizes one linear layer on a worker thread (the JavaScript thread stays
 * free) with CLAQ, GPTQ or RTN; see {@link QuantizeOptions} for the choices.
 * The weights are copied before this call returns (after a pending
 * `hessian.addAsync` when there is one), so the caller may then reuse its buffer.
 *
 * @param weight - `{ data, rows, cols }`, float32 `[out, in]` row-major, all finite.
 * @param hessian - the layer's input {@link Hessian} (`cols` features, at least one sample); `null` only for method 'rtn'.
 * @returns the {@link QuantizedLayer}, in the original column order.
 * @throws {TypeError} / {RangeError} synchronously for a bad argument or option, naming it and the rule.
 * @throws {AbortError} (rejection) when `options.signal` aborts; the engine stops at the next column block.
 * @throws {ClaqError} (rejection) `ERR_CLAQ_NOT_POSITIVE_DEFINITE` when H + λI does not factor even at λ = 1, or another native failure.
 * @example
 * const hessian = new Hessian(4096);
 * hessian.add(activations, 2048);
 * const layer = await quantizeLayer({ data, rows: 4096, cols: 4096 }, hessian,
 *   { targetBits: 2.05, outliers: true, onProgress: (e) => console.error(e) });
 * console.log(layer.stats.storageBits);
 */
export function quantizeLayer(weight: WeightMatrix, hessian: Hessian | null,
  options: QuantizeOptions = {}): Promise<QuantizedLayer> {
  const operation = 'quantizeLayer';
  checkWeight(operation, weight);
  checkHessian(operation, hessian, weight.cols);
  const normalized = normalizeQuantizeOptions(operation, options, hessian !== null);
  const context = new Error();
  if (normalized.signal?.aborted) {
    return Promise.reject(abortErrorFrom(normalized.signal, context));
  }

  // Dispatch at once when the Hessian is idle, so the addon copies the
  // weights before this call returns; otherwise after its pending addAsync.
  if (hessian === null || !hessian.busy) {
    return dispatch(operation, weight, hessian, normalized, context);
  }
  return hessian.settled().then(() => dispatch(operation, weight, hessian, normalized, context));
}

// Starts the native worker and wires the signal and progress events to it.
function dispatch(operation: string, weight: WeightMatrix, hessian: Hessian | null,
  normalized: NormalizedQuantizeOptions, context: Error): Promise<QuantizedLayer> {
  const { signal, onProgress } = normalized;
  try {
    checkHessianSamples(operation, hessian);
  } catch (error) {
    return Promise.reject(error);
  }
  if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, context));

  const forward = onProgress === undefined ? null : (event: NativeQuantizeProgress) => {
    if (event.type === 'start') {
      onProgress({ type: 'start', rows: weight.rows, cols: weight.cols, method: normalized.native.method });
    } else {
      onProgress({ type: 'columns', done: event.done, total: event.total });
    }
  };
  let run: ReturnType<typeof native.quantizeLayer>;
  try {
    run = native.quantizeLayer(weight.data, weight.rows, weight.cols, nativeHessian(hessian),
      normalized.native, forward);
  } catch (error) {
    return Promise.reject(fromNativeError(error, context));
  }

  const onAbort = (): void => run.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  return run.promise.then(
    (result) => {
      signal?.removeEventListener('abort', onAbort);
      const layer = QuantizedLayer.fromNative(result);
      onProgress?.({ type: 'done', seconds: layer.stats.seconds });
      return layer;
    },
    (error: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted && isAbort(error)) throw abortErrorFrom(signal, context);
      throw isNativeError(error) ? fromNativeError(error, context) : error;
    });
}

/**
 * Quantizes one linear layer on the calling thread: the twin of
 * {@link quantizeLayer} for scripts and small layers. It reads the weights
 * in place. `options.onProgress` is not supported (the thread is busy
 * until the result returns); `options.signal` is checked once, before the start.
 *
 * @throws the errors of {@link quantizeLayer}, synchronously.
 */
export function quantizeLayerSync(weight: WeightMatrix, hessian: Hessian | null,
  options: QuantizeOptions = {}): QuantizedLayer {
  const operation = 'quantizeLayerSync';
  checkWeight(operation, weight);
  checkHessian(operation, hessian, weight.cols);
  const normalized = normalizeQuantizeOptions(operation, options, hessian !== null);
  if (normalized.onProgress !== undefined) {
    throw new TypeError(`${operation}: options.onProgress is not supported on the calling thread; ` +
      'use quantizeLayer (async) for progress events');
  }
  if (normalized.signal?.aborted) throw abortErrorFrom(normalized.signal, new Error());
  if (hessian?.busy) {
    throw new ClaqError('ERR_CLAQ_BUSY',
      `${operation}: the Hessian still has an addAsync call running; await it (or hessian.settled()) first`);
  }
  checkHessianSamples(operation, hessian);

  try {
    return QuantizedLayer.fromNative(native.quantizeLayerSync(weight.data, weight.rows, weight.cols,
      nativeHessian(hessian), normalized.native));
  } catch (error) {
    throw fromNativeError(error);
  }
}

function checkWeight(operation: string, weight: WeightMatrix): void {
  if (weight === null || typeof weight !== 'object') {
    throw new TypeError(`${operation}: weight must be an object { data, rows, cols }, received ${describeValue(weight)}`);
  }
  checkTypedArray(operation, 'weight.data', weight.data, 'Float32Array');
  const rows = checkInteger(operation, 'weight.rows', weight.rows, 1, MAX_DIMENSION);
  const cols = checkInteger(operation, 'weight.cols', weight.cols, 1, MAX_DIMENSION);
  if (rows * cols > MAX_WEIGHTS) {
    throw new RangeError(`${operation}: weight.rows * weight.cols must be at most ${MAX_WEIGHTS}, received ${rows * cols}`);
  }
  checkLength(operation, 'weight.data', weight.data.length, rows * cols, `rows * cols = ${rows} * ${cols}`);
  checkFiniteMatrix(operation, 'weight.data', weight.data, cols);
}

function checkHessian(operation: string, hessian: Hessian | null, cols: number): void {
  if (hessian === null) return;
  if (!(hessian instanceof Hessian)) {
    throw new TypeError(`${operation}: hessian must be a Hessian or null, received ${describeValue(hessian)}`);
  }
  if (hessian.cols !== cols) {
    throw new RangeError(`${operation}: hessian.cols must equal weight.cols (${cols}), received ${hessian.cols}`);
  }
}

function checkHessianSamples(operation: string, hessian: Hessian | null): void {
  if (hessian !== null && hessian.samples === 0) {
    throw new RangeError(`${operation}: hessian has no samples; add calibration activations with hessian.add first`);
  }
}

function nativeHessian(hessian: Hessian | null): NativeHessian | null {
  return hessian === null ? null : hessian.nativeHandle();
}

function isNativeError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' &&
    String((error as { code: string }).code).startsWith('ERR_CLAQ') || isAbort(error);
}

function isAbort(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ABORT_ERR';
}

function abortErrorFrom(signal: AbortSignal, context: Error): AbortError {
  const reason: unknown = signal.reason;
  const error = new AbortError('quantizeLayer: the operation was aborted', { cause: reason });
  if (context.stack) error.stack = `${error.name}: ${error.message}\n${context.stack.split('\n').slice(1).join('\n')}`;
  return error;
}
