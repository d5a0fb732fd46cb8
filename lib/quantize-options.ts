// The options of quantizeLayer: their public types, their defaults, and the
// validation that turns them into the one plain object the addon reads.
import { availableParallelism } from 'node:os';

import {
  checkBoolean, checkChoice, checkInteger, checkKnownKeys, checkNumber, describeValue,
} from './checks.js';
import type { NativeQuantizeOptions } from '../types/native.js';

export type QuantizeMethod = 'claq' | 'gptq' | 'rtn';
export type ColumnRanking = 'outlier-order' | 'hessian';
export type UniformGrid = 'row' | 'column';

export const QUANTIZE_METHODS: readonly QuantizeMethod[] = ['claq', 'gptq', 'rtn'];
export const COLUMN_RANKINGS: readonly ColumnRanking[] = ['outlier-order', 'hessian'];
export const UNIFORM_GRIDS: readonly UniformGrid[] = ['row', 'column'];

/**
 * Outlier reservation (OR) fractions. The top `columnFraction` of columns by
 * Outlier Order keep `highFraction` of their weights in float16, and the other
 * columns keep `lowFraction`. Each column reserves `round(rows · fraction)`
 * weights at each tail of its values.
 */
export interface OutlierOptions {
  /** Share of columns that get `highFraction`, in [0, 1]; default 0.10. */
  columnFraction?: number;
  /** Reserved share per tail for those columns, in [0, 0.5); default 0.014. */
  highFraction?: number;
  /** Reserved share per tail for the other columns, in [0, 0.5); default 0.004. */
  lowFraction?: number;
}

/** The dynamic OR rule of the CLAQ paper: top 10 % of columns keep 1.4 %, the others 0.4 %. */
export const DYNAMIC_OUTLIERS: Readonly<Required<OutlierOptions>> = Object.freeze({
  columnFraction: 0.10,
  highFraction: 0.014,
  lowFraction: 0.004,
});

/** A progress report of {@link quantizeLayer}; events arrive in this order, `columns` throttled. */
export type QuantizeProgressEvent =
  /** The worker thread picked up the layer. */
  | { type: 'start'; rows: number; cols: number; method: QuantizeMethod }
  /** `done` of `total` columns are quantized (after each column block, at most every 50 ms, and always at the end). */
  | { type: 'columns'; done: number; total: number }
  /** The layer is quantized; `seconds` is the engine's wall time. */
  | { type: 'done'; seconds: number };

/** Options of {@link quantizeLayer} and {@link quantizeLayerSync}. */
export interface QuantizeOptions {
  /** `'claq'` (K-Means codebooks, default), `'gptq'` (uniform min–max with error feedback) or `'rtn'` (round to nearest, no Hessian). */
  method?: QuantizeMethod;
  /**
   * The uniform grid of methods 'gptq' and 'rtn'. `'row'` (default) fits one
   * asymmetric min–max grid per output row of the original weights, the
   * standard GPTQ grid that the quantizeLayer requirements name. It stores a
   * float16 scale and an integer zero point per row (see
   * {@link QuantizedParts.rowScales}), so it takes one bit width for every
   * column and no outliers. `'column'` fits a min–max grid per column inside
   * the loop, as the design notes (DESIGN.md) describe. It combines with
   * `targetBits` and `outliers`. Not an option of 'claq', whose codebooks are
   * per column.
   */
  grid?: UniformGrid;
  /**
   * Code width of every column: 2, 3 or 4. Alone it gives a uniform width.
   * With `targetBits` it is the base width of adaptive precision and the high
   * width is 4. Default: 4 when `targetBits` is absent.
   */
  bits?: number;
  /**
   * Adaptive precision (AP): the average code width over columns, in [2, 4].
   * Without `bits`, a target in [2, 3) mixes 2- and 4-bit columns, and a
   * target in [3, 4] mixes 3- and 4-bit columns. An integer target alone is a
   * uniform width. With `bits`, it must lie in [bits, 4]. A fractional target
   * needs method 'claq' or grid 'column'.
   */
  targetBits?: number;
  /** Outlier reservation (OR): `false` (default), `true` for {@link DYNAMIC_OUTLIERS}, or custom fractions. Needs method 'claq' or grid 'column'. */
  outliers?: boolean | OutlierOptions;
  /** `t` of the Outlier Order `OO[j] = #{i : |W[i][j]| ≥ t · mean|W|}`; > 0, default 13. */
  outlierThreshold?: number;
  /** Column ranking for AP: `'outlier-order'` (default) or `'hessian'` (`mean_i W[i][j]² / U[j][j]²`). */
  ranking?: ColumnRanking;
  /** Quantize columns by descending Hessian diagonal; default true. */
  actOrder?: boolean;
  /** Columns per lazy-update block, in [1, 65536]; default 128. */
  blockSize?: number;
  /** Damping λ, relative to mean(diag H), in (0, 1]; default 0.01. The engine multiplies it by 10 until H + λI factors. */
  damping?: number;
  /** Worker threads, in [1, 1024]; default `os.availableParallelism()`. */
  threads?: number;
  /** Stops the run between column blocks; the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** Receives {@link QuantizeProgressEvent}s on the JavaScript thread. Not supported by quantizeLayerSync. */
  onProgress?: (event: QuantizeProgressEvent) => void;
  /** The layer's name (e.g. 'model.layers.0.mlp.up_proj'); engine errors start with it. */
  name?: string;
}

const KNOWN_OPTIONS = [
  'method', 'grid', 'bits', 'targetBits', 'outliers', 'outlierThreshold', 'ranking', 'actOrder', 'blockSize',
  'damping', 'threads', 'signal', 'onProgress', 'name',
] as const;
const KNOWN_OUTLIER_OPTIONS = ['columnFraction', 'highFraction', 'lowFraction'] as const;

/** The result of {@link normalizeQuantizeOptions}: the native options plus the JS-only ones. */
export interface NormalizedQuantizeOptions {
  native: NativeQuantizeOptions;
  signal: AbortSignal | undefined;
  onProgress: ((event: QuantizeProgressEvent) => void) | undefined;
  name: string | undefined;
}

/**
 * Checks every option and fills in the defaults.
 *
 * @param operation - the public function, for error messages.
 * @param hasHessian - whether the caller passed a Hessian (only 'rtn' works without one).
 * @throws {TypeError} on a wrong type or an unknown option name.
 * @throws {RangeError} on a value out of range or a contradiction between options.
 */
export function normalizeQuantizeOptions(operation: string, options: unknown,
  hasHessian: boolean): NormalizedQuantizeOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${operation}: options must be an object, received ${describeValue(options)}`);
  }
  checkKnownKeys(operation, 'options', options, KNOWN_OPTIONS);
  const given = options as QuantizeOptions;

  const method = checkChoice(operation, 'options.method', given.method ?? 'claq', QUANTIZE_METHODS);
  if (!hasHessian && method !== 'rtn') {
    throw new TypeError(
      `${operation}: hessian must be a Hessian for method '${method}', received null (only 'rtn' works without one)`);
  }
  const grid = normalizeGrid(operation, given.grid, method);
  const { lowBits, highBits, targetBits } = normalizeBits(operation, given.bits, given.targetBits, method, grid);
  const outliers = normalizeOutliers(operation, given.outliers, method, grid);

  const native: NativeQuantizeOptions = {
    method,
    grid,
    lowBits,
    highBits,
    targetBits,
    ranking: checkChoice(operation, 'options.ranking', given.ranking ?? 'outlier-order', COLUMN_RANKINGS),
    outlierColumnFraction: outliers.columnFraction,
    outlierHighFraction: outliers.highFraction,
    outlierLowFraction: outliers.lowFraction,
    outlierThreshold: checkPositive(operation, 'options.outlierThreshold', given.outlierThreshold ?? 13),
    actOrder: checkBoolean(operation, 'options.actOrder', given.actOrder ?? true),
    blockSize: checkInteger(operation, 'options.blockSize', given.blockSize ?? 128, 1, 65536),
    damping: checkDamping(operation, given.damping ?? 0.01),
    threads: checkInteger(operation, 'options.threads', given.threads ?? availableParallelism(), 1, 1024),
  };
  if (native.ranking === 'hessian' && !hasHessian) {
    throw new RangeError(`${operation}: options.ranking 'hessian' needs a Hessian`);
  }
  return {
    native,
    signal: checkSignal(operation, given.signal),
    onProgress: checkCallback(operation, given.onProgress),
    name: checkName(operation, given.name),
  };
}

// 'row' by default for gptq and rtn; claq has no grid and always sends 'column'.
function normalizeGrid(operation: string, grid: unknown, method: QuantizeMethod): UniformGrid {
  if (grid === undefined) return method === 'claq' ? 'column' : 'row';
  const checked = checkChoice(operation, 'options.grid', grid, UNIFORM_GRIDS);
  if (method === 'claq') {
    throw new RangeError(`${operation}: options.grid applies to methods 'gptq' and 'rtn', not 'claq', ` +
      'whose K-Means codebooks are per column');
  }
  return checked;
}

// Returns the reason the row grid rejects AP and OR, for the messages below.
function rowGridLimit(method: QuantizeMethod): string {
  return `the row grid of method '${method}' stores one scale and zero point per row for all columns; ` +
    `use method 'claq' or options.grid 'column'`;
}

// bits alone: uniform. targetBits alone: the paper's pairs {2, 4} below 3 and
// {3, 4} from 3 on. Both: bits is the base width, 4 the high width.
function normalizeBits(operation: string, bits: unknown, target: unknown,
  method: QuantizeMethod, grid: UniformGrid): { lowBits: number; highBits: number; targetBits: number } {
  if (bits !== undefined) checkBitWidth(operation, bits);
  if (target !== undefined) checkNumber(operation, 'options.targetBits', target, 2, 4);

  if (target === undefined) {
    const width = (bits as number | undefined) ?? 4;
    return { lowBits: width, highBits: width, targetBits: width };
  }
  const targetBits = target as number;
  if (bits !== undefined && targetBits < (bits as number)) {
    throw new RangeError(`${operation}: options.targetBits (${targetBits}) must be at least options.bits ` +
      `(${bits as number}): with both set, bits is the base width of adaptive precision and targetBits ` +
      'the average over columns, in [bits, 4]');
  }
  if (Number.isInteger(targetBits) && (bits === undefined || bits === targetBits)) {
    return { lowBits: targetBits, highBits: targetBits, targetBits };
  }
  if (grid === 'row') {
    const withBits = bits === undefined ? '' : ` with options.bits ${bits as number}`;
    throw new RangeError(`${operation}: options.targetBits ${targetBits}${withBits} asks for adaptive precision, ` +
      `a mix of bit widths, but ${rowGridLimit(method)}`);
  }
  const lowBits = (bits as number | undefined) ?? (targetBits < 3 ? 2 : 3);
  return { lowBits, highBits: 4, targetBits };
}

function checkBitWidth(operation: string, bits: unknown): void {
  if (typeof bits !== 'number') {
    throw new TypeError(`${operation}: options.bits must be a number, received ${describeValue(bits)}`);
  }
  if (bits !== 2 && bits !== 3 && bits !== 4) {
    throw new RangeError(`${operation}: options.bits must be 2, 3 or 4, received ${bits}`);
  }
}

function normalizeOutliers(operation: string, outliers: unknown,
  method: QuantizeMethod, grid: UniformGrid): Required<OutlierOptions> {
  if (outliers === undefined || outliers === false) {
    return { columnFraction: DYNAMIC_OUTLIERS.columnFraction, highFraction: 0, lowFraction: 0 };
  }
  if (outliers !== true && (outliers === null || typeof outliers !== 'object' || Array.isArray(outliers))) {
    throw new TypeError(
      `${operation}: options.outliers must be a boolean or an object with fractions, received ${describeValue(outliers)}`);
  }
  if (grid === 'row') {
    throw new RangeError(`${operation}: options.outliers (outlier reservation) does not combine with the row grid: ` +
      rowGridLimit(method));
  }
  if (outliers === true) return { ...DYNAMIC_OUTLIERS };

  checkKnownKeys(operation, 'options.outliers', outliers, KNOWN_OUTLIER_OPTIONS);
  const given = outliers as OutlierOptions;
  return {
    columnFraction: checkNumber(operation, 'options.outliers.columnFraction',
      given.columnFraction ?? DYNAMIC_OUTLIERS.columnFraction, 0, 1),
    highFraction: checkNumber(operation, 'options.outliers.highFraction',
      given.highFraction ?? DYNAMIC_OUTLIERS.highFraction, 0, 0.5, true),
    lowFraction: checkNumber(operation, 'options.outliers.lowFraction',
      given.lowFraction ?? DYNAMIC_OUTLIERS.lowFraction, 0, 0.5, true),
  };
}

function checkPositive(operation: string, name: string, value: unknown): number {
  const number = checkNumber(operation, name, value, 0, Number.MAX_VALUE);
  if (number === 0) throw new RangeError(`${operation}: ${name} must be greater than 0, received 0`);
  return number;
}

function checkDamping(operation: string, value: unknown): number {
  const damping = checkNumber(operation, 'options.damping', value, 0, 1);
  if (damping === 0) {
    throw new RangeError(`${operation}: options.damping must be in (0, 1], received 0 ` +
      '(the engine multiplies it by 10 until the Cholesky factorization succeeds)');
  }
  return damping;
}

function checkSignal(operation: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  const candidate = signal as { aborted?: unknown; addEventListener?: unknown } | null;
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.aborted !== 'boolean' ||
    typeof candidate.addEventListener !== 'function') {
    throw new TypeError(`${operation}: options.signal must be an AbortSignal, received ${describeValue(signal)}`);
  }
  return signal as AbortSignal;
}

function checkName(operation: string, name: unknown): string | undefined {
  if (name === undefined || typeof name === 'string') return name;
  throw new TypeError(`${operation}: options.name must be a string, received ${describeValue(name)}`);
}

function checkCallback(operation: string, callback: unknown): ((event: QuantizeProgressEvent) => void) | undefined {
  if (callback === undefined) return undefined;
  if (typeof callback !== 'function') {
    throw new TypeError(`${operation}: options.onProgress must be a function, received ${describeValue(callback)}`);
  }
  return callback as (event: QuantizeProgressEvent) => void;
}
