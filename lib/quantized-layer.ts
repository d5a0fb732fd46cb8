import { checkInteger, checkLength, checkTypedArray, describeValue } from './checks.js';
import { dequantizeParts } from './dequantize-parts.js';
import { PackedLinear } from './packed-linear.js';
import type { PackedLinearOptions } from './packed-linear.js';
import type { QuantizedParts } from './quantized-parts.js';
import type { NativeQuantizedLayer } from '../types/native.js';

/** Statistics of one quantized layer. Times are wall-clock seconds of the engine. */
export interface QuantizeStats {
  /** GPTQ objective `Σ_j Σ_i (w − q)² / (2 U[j][j]²)` over all columns (RTN: plain squared error / 2). */
  loss: number;
  /** Mean code width over columns (AP 2.1 gives 2.1). */
  codeBits: number;
  /** Bits per weight of the stored result (all checkpoint bytes × 8 / weights); see {@link storageBits}. */
  storageBits: number;
  /** Damping λ actually used (after retries); 0 for RTN. */
  damping: number;
  /** Columns whose Hessian diagonal was 0: their weights were set to 0. */
  deadColumns: number;
  /** Weights kept in float16 by outlier reservation. */
  outlierCount: number;
  seconds: number;
  /** Damping, Cholesky and the inverse factor. */
  factorizationSeconds: number;
  /** Sorting each column and fitting its codebook: the 1-D K-Means. */
  kmeansSeconds: number;
  /** Choosing the weights that outlier reservation keeps. */
  reservationSeconds: number;
  /** Assigning codes, with the quantized values and their squared errors. */
  assignmentSeconds: number;
  /** Error feedback inside and after column blocks. */
  updateSeconds: number;
}

/** The statistics the engine measures; {@link QuantizedLayer.fromParts} may omit them. */
export type MeasuredStats = Omit<QuantizeStats, 'codeBits' | 'storageBits' | 'outlierCount'>;

const UNMEASURED: MeasuredStats = {
  loss: NaN, damping: NaN, deadColumns: NaN, seconds: NaN,
  factorizationSeconds: NaN, kmeansSeconds: NaN, reservationSeconds: NaN, assignmentSeconds: NaN,
  updateSeconds: NaN,
};

/**
 * Returns the bits per weight of the stored form of a layer: the bytes of its
 * tensors in a claq checkpoint (docs/FORMAT.md) × 8 / (rows · cols), the
 * same figure `claq inspect` prints. That counts
 * - the codes, bit-packed per column: `⌈rows · b_j / 8⌉` bytes for column `j`;
 * - the codebooks, one float16 per centroid;
 * - each reserved outlier as a float16 value plus int32 row and column (80 bits);
 * - per column, the int32 permutation entry, the uint8 bit width and the
 *   uint32 codebook offset (plus one final offset).
 *
 * A row-grid layer (`rowScales`, the gptq and rtn default) counts the codes
 * and, per column, the int32 permutation entry and the uint8 bit width. Per
 * row it counts a float16 scale (16 bits) and a zero point of `b` bits, the
 * column width, bit-packed into `⌈rows · b / 8⌉` bytes. It has no codebooks,
 * codebook offsets or outliers. That is `b + (16 + b) / cols + 40 / rows` bits
 * per weight when rows · b is a multiple of 8.
 */
export function storageBits(parts: QuantizedParts): number {
  let bytes = 0;
  for (let j = 0; j < parts.cols; j++) bytes += Math.ceil((parts.rows * parts.bitsPerColumn[j]) / 8);
  if (parts.rowScales !== undefined) {
    const rowBytes = 2 * parts.rows + Math.ceil((parts.rows * parts.bitsPerColumn[0]) / 8);
    return (8 * (bytes + (4 + 1) * parts.cols + rowBytes)) / (parts.rows * parts.cols);
  }
  bytes += 2 * parts.codebooks.length;
  bytes += 10 * parts.outlierValues.length;
  bytes += (4 + 1 + 4) * parts.cols + 4;
  return (8 * bytes) / (parts.rows * parts.cols);
}

/** Returns the mean code width over columns. */
export function codeBits(parts: QuantizedParts): number {
  let sum = 0;
  for (let j = 0; j < parts.cols; j++) sum += parts.bitsPerColumn[j];
  return sum / parts.cols;
}

/**
 * One quantized linear layer: per-column codebooks, one code per weight, the
 * reserved outliers and the act-order permutation, all in the original
 * column order (see {@link QuantizedParts}), plus the run's statistics. A
 * gptq or rtn layer on the row grid also has `rowScales` and `rowZeros`.
 *
 * @example
 * const layer = await quantizeLayer({ data, rows, cols }, hessian, { targetBits: 2.1 });
 * const w = layer.dequantize();  // Float32Array [rows, cols]
 * layer.stats.storageBits;       // e.g. 2.2
 */
export class QuantizedLayer implements QuantizedParts {
  readonly rows: number;
  readonly cols: number;
  readonly bitsPerColumn: Uint8Array;
  readonly permutation: Int32Array;
  readonly codes: Uint8Array;
  readonly codebookOffsets: Uint32Array;
  readonly codebooks: Float32Array;
  readonly outlierRows: Int32Array;
  readonly outlierCols: Int32Array;
  readonly outlierValues: Float32Array;
  /** The row grid's float16 scale per row (gptq and rtn with `grid: 'row'`), else undefined. */
  readonly rowScales?: Float32Array;
  /** The row grid's integer zero point per row, else undefined. */
  readonly rowZeros?: Float32Array;
  readonly stats: QuantizeStats;

  private constructor(parts: QuantizedParts, measured: MeasuredStats) {
    this.rows = parts.rows;
    this.cols = parts.cols;
    this.bitsPerColumn = parts.bitsPerColumn;
    this.permutation = parts.permutation;
    this.codes = parts.codes;
    this.codebookOffsets = parts.codebookOffsets;
    this.codebooks = parts.codebooks;
    this.outlierRows = parts.outlierRows;
    this.outlierCols = parts.outlierCols;
    this.outlierValues = parts.outlierValues;
    if (parts.rowScales !== undefined) {
      this.rowScales = parts.rowScales;
      this.rowZeros = parts.rowZeros;
    }
    this.stats = Object.freeze({
      ...measured,
      codeBits: codeBits(parts),
      storageBits: storageBits(parts),
      outlierCount: parts.outlierValues.length,
    });
  }

  /**
   * Builds a layer from stored parts (a checkpoint, a packer's input) after
   * checking every size and index. The checks cover lengths, bit widths (1 to
   * 8, as the checkpoint format allows), the permutation, codebook offsets
   * (1 to 2^bits centroids per column), codes below the column's centroid
   * count, and finite ascending centroids. Outlier positions must be in range and sorted by
   * column then row, without repeats. A row grid needs both `rowScales` and
   * `rowZeros` (see {@link QuantizedParts.rowScales}): one bit width for all
   * columns, identity codebooks, float16 scales > 0, integer zero points in
   * range and no outliers. The arrays are used as given, not copied. Statistics
   * the parts do not carry are NaN unless `measured` gives them.
   *
   * @throws {TypeError} when a field has the wrong type.
   * @throws {RangeError} naming the first field and index that break a rule.
   */
  static fromParts(parts: QuantizedParts, measured: Partial<MeasuredStats> = {}): QuantizedLayer {
    validateParts('QuantizedLayer.fromParts', parts);
    return new QuantizedLayer(parts, { ...UNMEASURED, ...measured });
  }

  /** @internal Wraps the addon's result; the arrays are re-viewed so that instanceof works in this realm. */
  static fromNative(result: NativeQuantizedLayer): QuantizedLayer {
    const parts: QuantizedParts = {
      rows: result.rows,
      cols: result.cols,
      bitsPerColumn: new Uint8Array(result.bitsPerColumn.buffer, result.bitsPerColumn.byteOffset, result.bitsPerColumn.length),
      permutation: new Int32Array(result.permutation.buffer, result.permutation.byteOffset, result.permutation.length),
      codes: new Uint8Array(result.codes.buffer, result.codes.byteOffset, result.codes.length),
      codebookOffsets: new Uint32Array(result.codebookOffsets.buffer, result.codebookOffsets.byteOffset,
        result.codebookOffsets.length),
      codebooks: new Float32Array(result.codebooks.buffer, result.codebooks.byteOffset, result.codebooks.length),
      outlierRows: new Int32Array(result.outlierRows.buffer, result.outlierRows.byteOffset, result.outlierRows.length),
      outlierCols: new Int32Array(result.outlierCols.buffer, result.outlierCols.byteOffset, result.outlierCols.length),
      outlierValues: new Float32Array(result.outlierValues.buffer, result.outlierValues.byteOffset,
        result.outlierValues.length),
    };
    if (result.rowScales !== undefined && result.rowZeros !== undefined) {
      parts.rowScales = new Float32Array(result.rowScales.buffer, result.rowScales.byteOffset, result.rowScales.length);
      parts.rowZeros = new Float32Array(result.rowZeros.buffer, result.rowZeros.byteOffset, result.rowZeros.length);
    }
    return new QuantizedLayer(parts, { ...result.stats });
  }

  /**
   * Returns the quantized weights as float32 `[rows, cols]` row-major in the
   * original column order: each weight is its column's centroid for its
   * code, and each reserved outlier replaces its centroid. On a row grid the
   * weight is `rowScales[i] · (centroid − rowZeros[i])`.
   */
  dequantize(): Float32Array {
    return dequantizeParts(this);
  }


  /**
   * Packs the layer for the low-bit kernels: a {@link PackedLinear} that
   * computes `y = x Wᵀ` with these weights (see {@link packLayer}).
   *
   * @example
   * const linear = layer.pack({ threads: 2 });
   * linear.matmul(x, tokens);
   */
  pack(options?: PackedLinearOptions): PackedLinear {
    return PackedLinear.fromParts(this.toParts(), options);
  }

  /** Returns the parts as a plain object (the same arrays, not copies), with the row grid when there is one. */
  toParts(): QuantizedParts {
    const parts: QuantizedParts = {
      rows: this.rows, cols: this.cols, bitsPerColumn: this.bitsPerColumn, permutation: this.permutation,
      codes: this.codes, codebookOffsets: this.codebookOffsets, codebooks: this.codebooks,
      outlierRows: this.outlierRows, outlierCols: this.outlierCols, outlierValues: this.outlierValues,
    };
    if (this.rowScales !== undefined) {
      parts.rowScales = this.rowScales;
      parts.rowZeros = this.rowZeros;
    }
    return parts;
  }
}

function isIdentity(permutation: Int32Array): boolean {
  for (let k = 0; k < permutation.length; k++) {
    if (permutation[k] !== k) return false;
  }
  return true;
}

/** Checks every size and index of `parts`; see {@link QuantizedLayer.fromParts}. */
export function validateParts(operation: string, parts: QuantizedParts): void {
  if (parts === null || typeof parts !== 'object') {
    throw new TypeError(`${operation}: parts must be an object, received ${describeValue(parts)}`);
  }
  const rows = checkInteger(operation, 'parts.rows', parts.rows, 1, 2 ** 24);
  const cols = checkInteger(operation, 'parts.cols', parts.cols, 1, 2 ** 24);
  checkTypedArray(operation, 'parts.bitsPerColumn', parts.bitsPerColumn, 'Uint8Array');
  checkTypedArray(operation, 'parts.permutation', parts.permutation, 'Int32Array');
  checkTypedArray(operation, 'parts.codes', parts.codes, 'Uint8Array');
  checkTypedArray(operation, 'parts.codebookOffsets', parts.codebookOffsets, 'Uint32Array');
  checkTypedArray(operation, 'parts.codebooks', parts.codebooks, 'Float32Array');
  checkTypedArray(operation, 'parts.outlierRows', parts.outlierRows, 'Int32Array');
  checkTypedArray(operation, 'parts.outlierCols', parts.outlierCols, 'Int32Array');
  checkTypedArray(operation, 'parts.outlierValues', parts.outlierValues, 'Float32Array');

  checkLength(operation, 'parts.bitsPerColumn', parts.bitsPerColumn.length, cols, 'cols');
  checkLength(operation, 'parts.permutation', parts.permutation.length, cols, 'cols');
  checkLength(operation, 'parts.codes', parts.codes.length, rows * cols, `rows * cols = ${rows} * ${cols}`);
  checkLength(operation, 'parts.codebookOffsets', parts.codebookOffsets.length, cols + 1, 'cols + 1');

  checkBitsAndCodebooks(operation, parts);
  checkPermutation(operation, parts.permutation);
  checkCodes(operation, parts);
  checkOutliers(operation, parts);
  checkRowGrid(operation, parts);
}

// The row grid: both arrays or neither; with them, one width, identity
// codebooks, no outliers, float16 scales > 0 and integer zeros in range.
function checkRowGrid(operation: string, parts: QuantizedParts): void {
  const { rows, cols, rowScales, rowZeros, bitsPerColumn, codebooks } = parts;
  if ((rowScales === undefined) !== (rowZeros === undefined)) {
    throw new TypeError(`${operation}: parts.rowScales and parts.rowZeros must both be present or both absent, ` +
      `received ${rowScales === undefined ? 'only rowZeros' : 'only rowScales'}`);
  }
  if (rowScales === undefined || rowZeros === undefined) return;
  checkTypedArray(operation, 'parts.rowScales', rowScales, 'Float32Array');
  checkTypedArray(operation, 'parts.rowZeros', rowZeros, 'Float32Array');
  checkLength(operation, 'parts.rowScales', rowScales.length, rows, 'rows');
  checkLength(operation, 'parts.rowZeros', rowZeros.length, rows, 'rows');

  const width = bitsPerColumn[0];
  const levels = 1 << width;
  for (let j = 0; j < cols; j++) {
    if (bitsPerColumn[j] !== width) {
      throw new RangeError(`${operation}: a row grid needs one bit width for every column, but ` +
        `parts.bitsPerColumn[${j}] is ${bitsPerColumn[j]} and parts.bitsPerColumn[0] is ${width}`);
    }
  }
  checkLength(operation, 'parts.codebooks', codebooks.length, cols * levels, `cols * 2^bits for a row grid`);
  for (let k = 0; k < codebooks.length; k++) {
    if (codebooks[k] !== k % levels) {
      throw new RangeError(`${operation}: a row grid's codebooks must be the levels 0 .. ${levels - 1}, but ` +
        `centroid ${k % levels} of column ${Math.floor(k / levels)} is ${codebooks[k]}`);
    }
  }
  if (parts.outlierValues.length !== 0) {
    throw new RangeError(`${operation}: a row grid has no outliers, received ${parts.outlierValues.length}`);
  }
  for (let i = 0; i < rows; i++) {
    if (!isPositiveFloat16(rowScales[i])) {
      throw new RangeError(`${operation}: parts.rowScales[${i}] must be a float16 value > 0, received ${rowScales[i]}`);
    }
    const zero = rowZeros[i];
    if (!Number.isInteger(zero) || zero < 0 || zero >= levels) {
      throw new RangeError(`${operation}: parts.rowZeros[${i}] must be an integer in [0, ${levels - 1}], received ${zero}`);
    }
  }
}

// True when x is a finite float16 value > 0: in [2^-24, 65504] and a whole
// number of units in the last place of its binade (2^-24 below 2^-14).
function isPositiveFloat16(x: number): boolean {
  if (!(x >= 2 ** -24 && x <= 65504)) return false;
  const exponent = Math.max(Math.floor(Math.log2(x)), -14);
  return Number.isInteger(x / 2 ** (exponent - 10));
}

function checkBitsAndCodebooks(operation: string, parts: QuantizedParts): void {
  const { cols, bitsPerColumn, codebookOffsets, codebooks } = parts;
  if (codebookOffsets[0] !== 0) {
    throw new RangeError(`${operation}: parts.codebookOffsets[0] must be 0, received ${codebookOffsets[0]}`);
  }
  for (let j = 0; j < cols; j++) {
    const width = bitsPerColumn[j];
    if (width < 1 || width > 8) {
      throw new RangeError(`${operation}: parts.bitsPerColumn[${j}] must be in [1, 8], received ${width}`);
    }
    const size = codebookOffsets[j + 1] - codebookOffsets[j];
    if (!(size >= 1 && size <= 1 << width)) {
      throw new RangeError(`${operation}: column ${j} has ${width} bits, so codebookOffsets[${j + 1}] - ` +
        `codebookOffsets[${j}] must be in [1, ${1 << width}], received ${size}`);
    }
  }
  checkLength(operation, 'parts.codebooks', codebooks.length, codebookOffsets[cols],
    `codebookOffsets[cols] = ${codebookOffsets[cols]}`);
  for (let j = 0; j < cols; j++) {
    for (let k = codebookOffsets[j]; k < codebookOffsets[j + 1]; k++) {
      const value = codebooks[k];
      if (!Number.isFinite(value)) {
        throw new RangeError(`${operation}: centroid ${k - codebookOffsets[j]} of column ${j} must be finite, received ${value}`);
      }
      if (k > codebookOffsets[j] && value < codebooks[k - 1]) {
        throw new RangeError(`${operation}: the centroids of column ${j} must be ascending, but centroid ` +
          `${k - codebookOffsets[j]} (${value}) is below the one before (${codebooks[k - 1]})`);
      }
    }
  }
}

function checkPermutation(operation: string, permutation: Int32Array): void {
  const seen = new Uint8Array(permutation.length);
  for (let k = 0; k < permutation.length; k++) {
    const column = permutation[k];
    if (column < 0 || column >= permutation.length || seen[column] === 1) {
      throw new RangeError(`${operation}: parts.permutation must hold each column 0..${permutation.length - 1} once, ` +
        `but entry ${k} is ${column}`);
    }
    seen[column] = 1;
  }
}

function checkCodes(operation: string, parts: QuantizedParts): void {
  const { rows, cols, codes, codebookOffsets } = parts;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const code = codes[i * cols + j];
      const size = codebookOffsets[j + 1] - codebookOffsets[j];
      if (code >= size) {
        throw new RangeError(`${operation}: parts.codes [row ${i}, column ${j}] is ${code}, but column ${j} ` +
          `has ${size} centroids (codes below ${size})`);
      }
    }
  }
}

function checkOutliers(operation: string, parts: QuantizedParts): void {
  const { rows, cols, outlierRows, outlierCols, outlierValues } = parts;
  const count = outlierValues.length;
  checkLength(operation, 'parts.outlierRows', outlierRows.length, count, 'outlierValues.length');
  checkLength(operation, 'parts.outlierCols', outlierCols.length, count, 'outlierValues.length');
  for (let k = 0; k < count; k++) {
    const row = outlierRows[k];
    const col = outlierCols[k];
    if (row < 0 || row >= rows || col < 0 || col >= cols) {
      throw new RangeError(`${operation}: outlier ${k} is at [row ${row}, column ${col}], outside the ` +
        `${rows} x ${cols} layer`);
    }
    if (!Number.isFinite(outlierValues[k])) {
      throw new RangeError(`${operation}: outlier ${k} must have a finite value, received ${outlierValues[k]}`);
    }
    if (k > 0) {
      const previousCol = outlierCols[k - 1];
      const previousRow = outlierRows[k - 1];
      if (col < previousCol || (col === previousCol && row <= previousRow)) {
        throw new RangeError(`${operation}: outliers must be sorted by column then row without repeats, but ` +
          `outlier ${k} [row ${row}, column ${col}] follows [row ${previousRow}, column ${previousCol}]`);
      }
    }
  }
}
