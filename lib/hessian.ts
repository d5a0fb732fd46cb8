import { availableParallelism } from 'node:os';

import { checkFiniteMatrix, checkInteger, checkLength, checkTypedArray, describeValue, typedArrayName } from './checks.js';
import { ClaqError, fromNativeError } from './errors.js';
import { native } from './native.js';
import type { NativeHessian } from '../types/native.js';

/** Largest supported column count: 65536 columns already need a 32 GiB float64 Gram matrix. */
export const MAX_HESSIAN_COLS = 65536;
const MAX_TOKENS = 2 ** 40;
const MAX_THREADS = 1024;

/** Options of {@link Hessian.add} and {@link Hessian.addAsync}. */
export interface HessianAddOptions {
  /** Worker threads for the SYRK kernel; default: `os.availableParallelism()`. */
  threads?: number;
}

/**
 * The GPTQ Hessian of one linear layer, `H = (2 / n) · Σ x xᵀ` over the `n`
 * calibration tokens seen so far. The Gram matrix `Σ x xᵀ` is accumulated in
 * float64 by the native SIMD kernels, batch by batch, so the activations of a
 * whole calibration set never need to be in memory at once.
 *
 * A running {@link quantizeLayer} call reads the matrix in place rather than
 * copying it, so the calls on one Hessian are ordered: a quantization waits
 * for the pending {@link Hessian.addAsync} calls, and an `addAsync` waits for
 * the running quantizations. The synchronous {@link Hessian.add} throws
 * `ERR_CLAQ_BUSY` instead of waiting. Quantizations of one Hessian run at the
 * same time.
 *
 * @example
 * const hessian = new Hessian(4096);
 * hessian.add(activations, 2048);  // Float32Array [2048, 4096]
 * await hessian.addAsync(moreActivations, 2048);
 * hessian.samples;  // 4096
 */
export class Hessian {
  /** Input features: the size of one activation row. */
  readonly cols: number;
  readonly #native: NativeHessian;
  #pending: Promise<void> | null = null;
  #inFlight = 0;
  #readers = 0;
  #unread: Array<() => void> = [];

  /**
   * Creates an empty accumulator for activations with `cols` features.
   *
   * @throws {TypeError} when `cols` is not a number.
   * @throws {RangeError} when `cols` is not an integer in [1, 65536].
   * @throws {ClaqError} `ERR_CLAQ_OUT_OF_MEMORY` when the cols × cols float64 matrix cannot be allocated.
   */
  constructor(cols: number) {
    checkInteger('Hessian', 'cols', cols, 1, MAX_HESSIAN_COLS);
    this.cols = cols;
    try {
      this.#native = new native.NativeHessian(cols);
    } catch (error) {
      throw fromNativeError(error);
    }
  }

  /**
   * Creates a Hessian from a precomputed Gram matrix `XᵀX` (`Σ x xᵀ`, not yet
   * scaled by 2 / n) over `samples` tokens, for example one saved by another
   * tool. A float32 matrix is widened to float64.
   *
   * @param gram - `[cols, cols]` row-major, symmetric, finite, with a non-negative diagonal.
   * @throws {TypeError} when `gram` is not a Float64Array or Float32Array.
   * @throws {RangeError} on a wrong length, a non-finite or asymmetric entry, a negative diagonal or a bad count.
   * @example
   * const hessian = Hessian.fromGram(xtx, 64, 32768);
   */
  static fromGram(gram: Float64Array | Float32Array, cols: number, samples: number): Hessian {
    const operation = 'Hessian.fromGram';
    const type = typedArrayName(gram);
    if (!ArrayBuffer.isView(gram) || (type !== 'Float64Array' && type !== 'Float32Array')) {
      throw new TypeError(`${operation}: gram must be a Float64Array or Float32Array, received ${describeValue(gram)}`);
    }
    checkInteger(operation, 'cols', cols, 1, MAX_HESSIAN_COLS);
    checkInteger(operation, 'samples', samples, 1, MAX_TOKENS);
    checkLength(operation, 'gram', gram.length, cols * cols, `cols * cols = ${cols} * ${cols}`);
    checkFiniteMatrix(operation, 'gram', gram, cols);
    checkGramShape(operation, gram, cols);

    const hessian = new Hessian(cols);
    const wide = type === 'Float64Array' ? gram as Float64Array : Float64Array.from(gram);
    try {
      hessian.#native.addGram(wide, samples);
    } catch (error) {
      throw fromNativeError(error);
    }
    return hessian;
  }

  /** Calibration tokens accumulated so far (`n`). */
  get samples(): number {
    return this.#native.samples();
  }

  /**
   * Adds a batch of activations on the calling thread.
   *
   * @param activations - `[tokens, cols]` row-major float32, all finite.
   * @param tokens - rows in `activations`, at least 1.
   * @returns this Hessian, so calls chain.
   * @throws {TypeError} when `activations` is not a Float32Array or a count is not a number.
   * @throws {RangeError} when the length is not tokens × cols or an element is not finite (the message names its row and column).
   * @throws {ClaqError} `ERR_CLAQ_BUSY` when an {@link Hessian.addAsync} call is still running or a
   *   {@link quantizeLayer} call is reading this Hessian.
   */
  add(activations: Float32Array, tokens: number, options: HessianAddOptions = {}): this {
    const threads = checkBatch('Hessian.add', activations, tokens, this.cols, options);
    this.#checkIdle('add');
    if (this.#readers > 0) {
      throw new ClaqError('ERR_CLAQ_BUSY',
        'Hessian.add: a quantizeLayer call is reading this Hessian; await it (or hessian.settled()) first, ' +
        'or use addAsync, which waits for it');
    }
    try {
      this.#native.add(activations, tokens, threads);
    } catch (error) {
      throw fromNativeError(error);
    }
    return this;
  }

  /**
   * Adds a batch of activations on a worker thread and resolves when it is
   * in. The activations are copied first, so the caller may reuse the
   * buffer at once. Calls on one Hessian run one after another, each after
   * the {@link quantizeLayer} calls already reading it.
   *
   * @throws the errors of {@link Hessian.add}, synchronously for bad arguments.
   */
  addAsync(activations: Float32Array, tokens: number, options: HessianAddOptions = {}): Promise<void> {
    const threads = checkBatch('Hessian.addAsync', activations, tokens, this.cols, options);
    const context = new Error();
    const previous = Promise.all([this.#pending, this.#unreadPromise()]);
    this.#inFlight++;
    // The counter drops inside the chain, before the caller's await resumes,
    // so a sync call right after `await addAsync(...)` is allowed.
    const run = previous.then(() => this.#native.addAsync(activations, tokens, threads)).then(
      () => { this.#inFlight--; },
      (error: unknown) => {
        this.#inFlight--;
        throw fromNativeError(error, context);
      });
    this.#pending = run.then(() => undefined, () => undefined);
    return run;
  }

  /** Returns `H = (2 / n) · Σ x xᵀ` as a new `[cols, cols]` Float64Array (zero while `samples` is 0). */
  toFloat64Array(): Float64Array {
    this.#checkIdle('toFloat64Array');
    return new Float64Array(this.#native.hessian());
  }

  /** Returns the accumulated Gram matrix `Σ x xᵀ` as a new `[cols, cols]` Float64Array. */
  gram(): Float64Array {
    this.#checkIdle('gram');
    return new Float64Array(this.#native.gram());
  }

  /**
   * Resolves once every pending {@link Hessian.addAsync} call has finished,
   * whatever its outcome, and no {@link quantizeLayer} call reads the Hessian.
   */
  async settled(): Promise<void> {
    while (this.busy) {
      await this.addsSettled();
      await this.#unreadPromise();
    }
  }

  /** Whether an {@link Hessian.addAsync} call has not finished yet or a {@link quantizeLayer} call reads the Hessian. */
  get busy(): boolean {
    return this.#inFlight > 0 || this.#readers > 0;
  }

  /** Whether an {@link Hessian.addAsync} call has not finished yet. @internal */
  get adding(): boolean {
    return this.#inFlight > 0;
  }

  /** Resolves once every pending {@link Hessian.addAsync} call has finished. @internal */
  async addsSettled(): Promise<void> {
    while (this.#inFlight > 0 && this.#pending !== null) await this.#pending;
  }

  /**
   * Marks the start of a quantization that reads the matrix in place and
   * returns the function that marks its end. Later addAsync calls wait for it. @internal
   */
  beginRead(): () => void {
    this.#readers++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#readers--;
      if (this.#readers > 0) return;
      const waiting = this.#unread;
      this.#unread = [];
      for (const resolve of waiting) resolve();
    };
  }

  #unreadPromise(): Promise<void> {
    if (this.#readers === 0) return Promise.resolve();
    return new Promise((resolve) => { this.#unread.push(resolve); });
  }

  /** Returns the native accumulator, for quantizeLayer. @internal */
  nativeHandle(): NativeHessian {
    return this.#native;
  }

  #checkIdle(operation: string): void {
    if (this.#inFlight > 0) {
      throw new ClaqError('ERR_CLAQ_BUSY',
        `Hessian.${operation}: an addAsync call is still running; await it (or hessian.settled()) first`);
    }
  }
}

function checkBatch(operation: string, activations: Float32Array, tokens: number, cols: number,
  options: HessianAddOptions): number {
  checkTypedArray(operation, 'activations', activations, 'Float32Array');
  checkInteger(operation, 'tokens', tokens, 1, MAX_TOKENS);
  checkLength(operation, 'activations', activations.length, tokens * cols,
    `tokens * cols = ${tokens} * ${cols}`);
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${operation}: options must be an object, received ${describeValue(options)}`);
  }
  const threads = options.threads ?? availableParallelism();
  checkInteger(operation, 'options.threads', threads, 1, MAX_THREADS);
  checkFiniteMatrix(operation, 'activations', activations, cols);
  return threads;
}

// A Gram matrix is symmetric with a non-negative diagonal. The symmetry check
// allows a relative 1e-5, because a Gram matrix computed by a general GEMM
// (not a SYRK) in float32 can differ in the last bits across the diagonal.
function checkGramShape(operation: string, gram: ArrayLike<number>, cols: number): void {
  for (let i = 0; i < cols; i++) {
    const diagonal = gram[i * cols + i];
    if (diagonal < 0) {
      throw new RangeError(`${operation}: gram must have a non-negative diagonal, but [${i}, ${i}] is ${diagonal}`);
    }
  }
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < i; j++) {
      const a = gram[i * cols + j];
      const b = gram[j * cols + i];
      const scale = Math.sqrt(gram[i * cols + i] * gram[j * cols + j]);
      if (Math.abs(a - b) > 1e-5 * Math.max(scale, Math.abs(a), Math.abs(b))) {
        throw new RangeError(
          `${operation}: gram must be symmetric, but [${i}, ${j}] = ${a} and [${j}, ${i}] = ${b}`);
      }
    }
  }
}
