import { availableParallelism } from 'node:os';

import { firstNonFinite } from './checks.js';
import { ClaqError, fromNativeError } from './errors.js';
import { native } from './native.js';
import type { QuantizedParts } from './quantized-parts.js';
import { float16BytesToFloat32, float32ToFloat16Bytes } from './safetensors/convert.js';
import type { PackedHandle } from '../types/native.js';

/** Options of {@link PackedLinear.fromParts} and {@link packLayer}. */
export interface PackedLinearOptions {
  /**
   * Threads that `matmul` splits the output rows over; an integer >= 1.
   * Default: `os.availableParallelism()`.
   */
  threads?: number;
}

const typedArrayFields = [
  ['bitsPerColumn', Uint8Array],
  ['permutation', Int32Array],
  ['codes', Uint8Array],
  ['codebookOffsets', Uint32Array],
  ['codebooks', Float32Array],
  ['outlierRows', Int32Array],
  ['outlierCols', Int32Array],
  ['outlierValues', Float32Array],
] as const;

function checkDimension(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2 ** 30) {
    throw new RangeError(`packLayer: parts.${name} must be an integer in [1, 2^30], received ${String(value)}`);
  }
  return value;
}

function checkLength(name: string, array: ArrayLike<unknown>, expected: number): void {
  if (array.length !== expected) {
    throw new RangeError(`packLayer: parts.${name} has length ${array.length}, expected ${expected}`);
  }
}

// Throws a RangeError that names the first NaN or infinite element. The
// native scan matters here: a JavaScript loop took about 5 µs for the x of a
// 4096-column GEMV (a third of a 16 x 4096 call), the native one 0.9 µs.
function checkFinite(operation: string, name: string, array: Float32Array): void {
  const index = firstNonFinite(array);
  if (index >= 0) {
    throw new RangeError(`${operation}: ${name}[${index}] = ${array[index]} is not finite`);
  }
}

// Shapes, types, lengths, bit widths and finite values. The native packer
// repeats these and also checks the permutation, every code and the outlier
// order, so nothing unchecked reaches a kernel.
function checkParts(parts: QuantizedParts): void {
  if (typeof parts !== 'object' || parts === null) {
    throw new TypeError(`packLayer: parts must be a QuantizedParts object, received ${parts === null ? 'null' : typeof parts}`);
  }
  const rows = checkDimension('rows', parts.rows);
  const cols = checkDimension('cols', parts.cols);
  for (const [name, type] of typedArrayFields) {
    if (!(parts[name] instanceof type)) {
      throw new TypeError(`packLayer: parts.${name} must be a ${type.name}`);
    }
  }
  checkLength('bitsPerColumn', parts.bitsPerColumn, cols);
  checkLength('permutation', parts.permutation, cols);
  checkLength('codes', parts.codes, rows * cols);
  checkLength('codebookOffsets', parts.codebookOffsets, cols + 1);
  checkLength('outlierCols', parts.outlierCols, parts.outlierRows.length);
  checkLength('outlierValues', parts.outlierValues, parts.outlierRows.length);
  parts.bitsPerColumn.forEach((bits, j) => {
    if (bits < 2 || bits > 4) {
      throw new RangeError(`packLayer: parts.bitsPerColumn[${j}] = ${bits} is not 2, 3 or 4`);
    }
  });
  checkFinite('packLayer', 'parts.codebooks', parts.codebooks);
  checkFinite('packLayer', 'parts.outlierValues', parts.outlierValues);
  checkRowGrid(parts, rows);
}

// The per-row grid of gptq and rtn layers: both arrays or neither, one bit
// width, no outliers, float16 scales > 0 and integer zeros below 2^bits.
function checkRowGrid(parts: QuantizedParts, rows: number): void {
  const { rowScales, rowZeros } = parts;
  if (rowScales === undefined && rowZeros === undefined) return;
  if (!(rowScales instanceof Float32Array)) {
    throw new TypeError('packLayer: parts.rowScales must be a Float32Array when parts.rowZeros is given');
  }
  if (!(rowZeros instanceof Float32Array)) {
    throw new TypeError('packLayer: parts.rowZeros must be a Float32Array when parts.rowScales is given');
  }
  checkLength('rowScales', rowScales, rows);
  checkLength('rowZeros', rowZeros, rows);

  if (parts.outlierRows.length > 0) {
    throw new RangeError(`packLayer: parts.outlierRows has ${parts.outlierRows.length} entries; ` +
      'a row-grid layer (rowScales, rowZeros) cannot have outliers');
  }

  const bits = parts.bitsPerColumn[0];
  const mixed = parts.bitsPerColumn.findIndex((b) => b !== bits);
  if (mixed >= 0) {
    throw new RangeError(`packLayer: parts.bitsPerColumn[${mixed}] = ${parts.bitsPerColumn[mixed]} differs from ` +
      `column 0's ${bits}; a row-grid layer has one bit width`);
  }

  for (let i = 0; i < rows; i++) {
    const scale = rowScales[i];
    if (!(Number.isFinite(scale) && scale > 0)) {
      throw new RangeError(`packLayer: parts.rowScales[${i}] = ${scale} is not a finite float16 value > 0`);
    }
  }

  const asFloat16 = float16BytesToFloat32(float32ToFloat16Bytes(rowScales));
  for (let i = 0; i < rows; i++) {
    const scale = rowScales[i];
    if (asFloat16[i] !== scale) {
      throw new RangeError(`packLayer: parts.rowScales[${i}] = ${scale} is not a finite float16 value > 0`);
    }
    const zero = rowZeros[i];
    if (!(Number.isInteger(zero) && zero >= 0 && zero < 2 ** bits)) {
      throw new RangeError(`packLayer: parts.rowZeros[${i}] = ${zero} is not an integer in [0, 2^${bits} - 1]`);
    }
  }
}

function checkThreads(operation: string, threads: unknown): number {
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new RangeError(`${operation}: options.threads must be an integer in [1, 1024], received ${String(threads)}`);
  }
  return threads;
}

function overlaps(a: Float32Array, b: Float32Array): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * A quantized linear layer packed for the CPU kernels: codes grouped by bit
 * width in SIMD row tiles, float32 codebooks, reserved outliers as a sparse
 * correction. `matmul` computes `Y = X W_qᵀ` (the `nn.Linear` convention)
 * with the act-order permutation and the outliers applied, at the SIMD level
 * {@link simdLevel} reports.
 *
 * The native memory is freed by {@link PackedLinear.release}, or by the
 * garbage collector when the object is unreachable.
 *
 * @example
 * const layer = PackedLinear.fromParts(parts, { threads: 2 });
 * const y = layer.matmul(x, tokens);        // Float32Array [tokens, rows]
 * console.log(layer.bitsPerWeight, layer.bytes);
 * layer.release();
 */
export class PackedLinear {
  /** Output features (rows of W). */
  readonly rows: number;
  /** Input features (columns of W). */
  readonly cols: number;
  /** Bytes of the packed layer in memory: codes, float32 codebooks, outliers, permutation, row grid. */
  readonly bytes: number;
  /**
   * Storage bits per weight: the bytes of the layer in a claq checkpoint
   * (codes, float16 codebooks, outliers as row, column and float16 value,
   * bit widths, permutation and codebook offsets) × 8 / (rows · cols), the
   * same figure as `storageBits(parts)`. A row-grid layer stores no
   * codebooks but a float16 scale and a bit-packed zero point per row.
   */
  readonly bitsPerWeight: number;
  /** Threads `matmul` uses. */
  readonly threads: number;

  #handle: PackedHandle | null;

  private constructor(handle: PackedHandle, threads: number) {
    const info = native.packedInfo(handle);
    this.#handle = handle;
    this.rows = info.rows;
    this.cols = info.cols;
    this.bytes = info.bytes;
    this.bitsPerWeight = info.storageBitsPerWeight;
    this.threads = threads;
  }

  /**
   * Packs the parts of a quantized layer. The parts are copied; they may be
   * changed or dropped afterwards.
   *
   * @throws {TypeError} when `parts` or one of its arrays has the wrong type.
   * @throws {RangeError} when a size, bit width, permutation entry, code,
   *   codebook offset or outlier is invalid (the message names it), or
   *   `options.threads` is not an integer in [1, 1024].
   */
  static fromParts(parts: QuantizedParts, options: PackedLinearOptions = {}): PackedLinear {
    checkParts(parts);
    const threads = checkThreads('packLayer', options.threads ?? availableParallelism());
    let handle: PackedHandle;
    try {
      handle = native.packLayer(parts);
    } catch (error) {
      throw fromNativeError(error);
    }
    return new PackedLinear(handle, threads);
  }

  /** True after {@link PackedLinear.release}. */
  get released(): boolean {
    return this.#handle === null;
  }

  /**
   * Computes `Y = X W_qᵀ` for `tokens` rows of activations.
   *
   * @param x activations `[tokens, cols]`, row-major, finite.
   * @param tokens number of activation rows, an integer >= 1.
   * @param out optional output `[tokens, rows]`; must not overlap `x`.
   * @returns `out`, or a new Float32Array `[tokens, rows]`.
   * @throws {TypeError} when `x` or `out` is not a Float32Array.
   * @throws {RangeError} when `tokens` is not an integer >= 1, a length does
   *   not match, `x` has a non-finite entry, or `out` overlaps `x`.
   * @throws {ClaqError} `ERR_CLAQ_RELEASED` after {@link PackedLinear.release}.
   */
  matmul(x: Float32Array, tokens: number, out?: Float32Array): Float32Array {
    const handle = this.#live('matmul');
    const y = this.#checkCall('matmul', x, tokens, out);
    try {
      native.packedMatmul(handle, x, tokens, y, { threads: this.threads });
    } catch (error) {
      throw fromNativeError(error);
    }
    return y;
  }

  /**
   * Like {@link PackedLinear.matmul}, off the JavaScript thread (worth it for
   * large batches). Do not change `x` or `out` until the promise settles.
   * Releasing the layer meanwhile is safe: the data is freed when the work ends.
   *
   * @returns a promise of `out`, or of a new Float32Array `[tokens, rows]`.
   * @throws the errors of {@link PackedLinear.matmul}, synchronously.
   */
  matmulAsync(x: Float32Array, tokens: number, out?: Float32Array): Promise<Float32Array> {
    const handle = this.#live('matmulAsync');
    const y = this.#checkCall('matmulAsync', x, tokens, out);
    const context = new Error('matmulAsync');
    return native.packedMatmulAsync(handle, x, tokens, y, { threads: this.threads }).then(
      () => y,
      (error: unknown) => {
        throw fromNativeError(error, context);
      });
  }

  /** Frees the packed data now. Later calls raise `ERR_CLAQ_RELEASED`; releasing twice is allowed. */
  release(): void {
    if (this.#handle !== null) native.packedRelease(this.#handle);
    this.#handle = null;
  }

  #live(operation: string): PackedHandle {
    if (this.#handle === null) {
      throw new ClaqError('ERR_CLAQ_RELEASED', `${operation}: the packed layer was released; pack it again`);
    }
    return this.#handle;
  }

  #checkCall(operation: string, x: Float32Array, tokens: number, out: Float32Array | undefined): Float32Array {
    if (!(x instanceof Float32Array)) {
      throw new TypeError(`${operation}: x must be a Float32Array`);
    }
    if (typeof tokens !== 'number' || !Number.isInteger(tokens) || tokens < 1) {
      throw new RangeError(`${operation}: tokens must be an integer >= 1, received ${String(tokens)}`);
    }
    if (x.length !== tokens * this.cols) {
      throw new RangeError(
        `${operation}: x has length ${x.length}, expected tokens * cols = ${tokens} * ${this.cols}`);
    }
    checkFinite(operation, 'x', x);
    if (out === undefined) return new Float32Array(tokens * this.rows);
    if (!(out instanceof Float32Array)) {
      throw new TypeError(`${operation}: out must be a Float32Array`);
    }
    if (out.length !== tokens * this.rows) {
      throw new RangeError(
        `${operation}: out has length ${out.length}, expected tokens * rows = ${tokens} * ${this.rows}`);
    }
    if (overlaps(x, out)) {
      throw new RangeError(`${operation}: out must not overlap x`);
    }
    return out;
  }
}

/**
 * Packs a quantized layer for the kernels; the same as
 * {@link PackedLinear.fromParts}.
 *
 * @example
 * const packed = packLayer(parts);
 * const y = packed.matmul(x, 1);
 */
export function packLayer(parts: QuantizedParts, options?: PackedLinearOptions): PackedLinear {
  return PackedLinear.fromParts(parts, options);
}
