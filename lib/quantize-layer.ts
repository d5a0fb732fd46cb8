import { checkFiniteMatrix, checkInteger, checkLength, checkTypedArray, describeValue } from './checks.js';
import { AbortError, ClaqError, fromNativeError } from './errors.js';
import { Hessian } from './hessian.js';
import { native } from './native.js';
import { QuantizedLayer } from './quantized-layer.js';
import { normalizeQuantizeOptions } from './quantize-options.js';
import { scheduleWorkMemoryRelease } from './work-memory.js';
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
 * The Hessian is read in place: until the promise settles, `hessian.add`
 * throws `ERR_CLAQ_BUSY` and `hessian.addAsync` waits (see {@link Hessian}).
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
  checkWeight(operation, weight, false);
  checkHessian(operation, hessian, weight.cols);
  const normalized = normalizeQuantizeOptions(operation, options, hessian !== null);
  const context = new Error();
  // Dispatch at once when no addAsync is pending: the addon then copies the
  // weights and checks them for NaN and infinities in one pass before this
  // call returns. Otherwise the check runs now, the copy after the addAsync.
  if (hessian === null || !hessian.adding) {
    return dispatch(operation, weight, hessian, normalized, context, false);
  }

  checkFiniteMatrix(operation, 'weight.data', weight.data, weight.cols);
  if (normalized.signal?.aborted) return Promise.reject(abortErrorFrom(normalized.signal, context));
  return hessian.addsSettled().then(() => dispatch(operation, weight, hessian, normalized, context, true));
}

// Starts the native worker and wires the signal and progress events to it.
// Unless `finiteChecked`, the addon checks the weights for NaN and infinities
// while it copies them, and a bad value throws here, synchronously. Every
// other failure rejects.
function dispatch(operation: string, weight: WeightMatrix, hessian: Hessian | null,
  normalized: NormalizedQuantizeOptions, context: Error, finiteChecked: boolean): Promise<QuantizedLayer> {
  const { signal, onProgress } = normalized;
  let early: Error | undefined;
  try {
    checkHessianSamples(operation, hessian);
  } catch (error) {
    early = error as Error;
  }
  if (early === undefined && signal?.aborted) early = abortErrorFrom(signal, context);
  if (early !== undefined) {
    if (!finiteChecked) checkFiniteMatrix(operation, 'weight.data', weight.data, weight.cols);
    return Promise.reject(early);
  }

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
    const converted = withLayerName(fromNativeError(error, context), normalized.name);
    if (converted instanceof RangeError || converted instanceof TypeError) throw converted;
    return Promise.reject(converted);
  }

  // The engine reads the Hessian in place until the promise settles. The read
  // ends before the caller's await resumes, so an add right after it works.
  const endRead = hessian?.beginRead();
  const onAbort = (): void => run.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  return run.promise.then(
    (result) => {
      endRead?.();
      signal?.removeEventListener('abort', onAbort);
      scheduleWorkMemoryRelease();
      const layer = QuantizedLayer.fromNative(result);
      onProgress?.({ type: 'done', seconds: layer.stats.seconds });
      return layer;
    },
    (error: unknown) => {
      endRead?.();
      signal?.removeEventListener('abort', onAbort);
      scheduleWorkMemoryRelease();
      if (signal?.aborted && isAbort(error)) throw abortErrorFrom(signal, context);
      throw isNativeError(error) ? withLayerName(fromNativeError(error, context), normalized.name) : error;
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
  if (hessian?.adding) {
    throw new ClaqError('ERR_CLAQ_BUSY',
      `${operation}: the Hessian still has an addAsync call running; await it (or hessian.settled()) first`);
  }
  checkHessianSamples(operation, hessian);

  try {
    return QuantizedLayer.fromNative(native.quantizeLayerSync(weight.data, weight.rows, weight.cols,
      nativeHessian(hessian), normalized.native));
  } catch (error) {
    throw withLayerName(fromNativeError(error), normalized.name);
  } finally {
    scheduleWorkMemoryRelease();
  }
}

// Checks the shape, and the values when `finite` is set (quantizeLayer leaves
// that to the addon's copy when it dispatches at once).
function checkWeight(operation: string, weight: WeightMatrix, finite = true): void {
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
  if (finite) checkFiniteMatrix(operation, 'weight.data', weight.data, cols);
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

// Prefixes an engine error with the layer's name, so a failure in a
// whole-model run names the layer to look at.
function withLayerName(error: Error, name: string | undefined): Error {
  if (name === undefined || error.name === 'AbortError') return error;
  error.message = `layer '${name}': ${error.message}`;
  if (error.stack !== undefined) error.stack = `${error.name}: ${error.message}\n${error.stack.split('\n').slice(1).join('\n')}`;
  return error;
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
