// Checks of every index and size in a QuantizedParts, so that a kernel given
// parts that passed can index codebooks, rows and columns without bounds
// checks. The loader runs them on everything it reads from a file.
import type { QuantizedParts } from '../quantized-parts.js';
import { native } from '../native.js';
import { SafetensorsError } from '../safetensors/errors.js';

/** Largest code width accepted: codes are stored one byte each in memory. */
export const MAX_CODE_BITS = 8;

/** Largest code width of a row-grid layer (the gptq and rtn grid; the quantizer uses 2 to 4). */
export const MAX_ROW_GRID_BITS = 4;

/** Names the file and tensor that a failed check points at. */
export interface PartsContext {
  file: string;
  /** Returns the tensor name to report for a part, e.g. 'codes' -> 'model.q_proj.claq.codes'. */
  tensorOf(part: string): string;
}

/** Context for parts held in memory: errors name the layer and the field. */
export function memoryContext(layer: string): PartsContext {
  return { file: '<memory>', tensorOf: (part) => `${layer}.${part}` };
}

/**
 * Validates a QuantizedParts: dimensions, bits per column, the permutation,
 * the codebook offsets and ascending finite centroids, every code below both
 * 2^bits and its column's codebook size, and outliers in range, sorted by
 * column then row without repeats, with finite values. A row grid
 * (rowScales, rowZeros) needs one bit width, the identity codebooks
 * 0 .. 2^bits - 1, no outliers, scales finite and > 0, and integer zeros in
 * [0, 2^bits - 1].
 * @throws SafetensorsError with reason 'bad-checkpoint' naming the part and the rule.
 */
export function validateQuantizedParts(parts: QuantizedParts, context: PartsContext): void {
  const fail = (part: string, rule: string): never => {
    throw new SafetensorsError('bad-checkpoint', context.file, context.tensorOf(part), rule);
  };
  checkTypes(parts, fail);
  const { rows, cols } = parts;
  if (!Number.isSafeInteger(rows) || rows < 1 || !Number.isSafeInteger(cols) || cols < 1 || rows * cols > 2 ** 32) {
    fail('shape', `rows (${rows}) and cols (${cols}) must be positive integers with rows * cols <= 2^32`);
  }

  checkLength(parts.bitsPerColumn, cols, 'bits', fail);
  for (let j = 0; j < cols; ++j) {
    const bits = parts.bitsPerColumn[j];
    if (bits < 1 || bits > MAX_CODE_BITS) fail('bits', `column ${j} has ${bits} bits; expected 1 to ${MAX_CODE_BITS}`);
  }

  checkPermutation(parts.permutation, cols, fail);
  checkCodebooks(parts, fail);
  checkCodes(parts, fail);
  checkOutliers(parts, fail);
  checkRowGrid(parts, fail);
}

type Fail = (part: string, rule: string) => never;

// Kernels read the arrays through their element type, so a Float64Array of
// codebooks or an Array of codes must not pass. The tag is compared rather
// than instanceof, which fails for arrays made in another realm.
const PART_TYPES: [keyof QuantizedParts, string, string][] = [
  ['bitsPerColumn', 'bits', 'Uint8Array'],
  ['permutation', 'permutation', 'Int32Array'],
  ['codes', 'codes', 'Uint8Array'],
  ['codebookOffsets', 'codebook_offsets', 'Uint32Array'],
  ['codebooks', 'codebooks', 'Float32Array'],
  ['outlierRows', 'outlier_rows', 'Int32Array'],
  ['outlierCols', 'outlier_cols', 'Int32Array'],
  ['outlierValues', 'outlier_values', 'Float32Array'],
];

function checkTypes(parts: QuantizedParts, fail: Fail): void {
  for (const [field, part, type] of PART_TYPES) {
    const value = parts[field] as unknown;
    const tag = ArrayBuffer.isView(value) ? (value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] : typeof value;
    if (tag !== type) fail(part, `${field} must be a ${type}, got ${tag}`);
  }
}

function checkLength(array: ArrayLike<number>, expected: number, part: string, fail: Fail): void {
  if (array.length !== expected) fail(part, `has ${array.length} elements; expected ${expected}`);
}

function checkPermutation(permutation: Int32Array, cols: number, fail: Fail): void {
  checkLength(permutation, cols, 'permutation', fail);
  const seen = new Uint8Array(cols);
  for (let k = 0; k < cols; ++k) {
    const column = permutation[k];
    if (!(column >= 0 && column < cols)) fail('permutation', `entry ${k} is ${column}, outside [0, ${cols})`);
    if (seen[column]) fail('permutation', `column ${column} appears twice, so it is not a permutation`);
    seen[column] = 1;
  }
}

function checkCodebooks(parts: QuantizedParts, fail: Fail): void {
  const { cols, codebookOffsets: offsets, codebooks } = parts;
  checkLength(offsets, cols + 1, 'codebook_offsets', fail);
  if (offsets[0] !== 0) fail('codebook_offsets', `starts at ${offsets[0]}; expected 0`);
  for (let j = 0; j < cols; ++j) {
    const count = offsets[j + 1] - offsets[j];
    const limit = 2 ** parts.bitsPerColumn[j];
    if (count < 1 || count > limit) {
      fail('codebook_offsets', `column ${j} has ${count} centroids; expected 1 to 2^${parts.bitsPerColumn[j]} = ${limit}`);
    }
  }
  if (offsets[cols] !== codebooks.length) {
    fail('codebook_offsets', `ends at ${offsets[cols]} but there are ${codebooks.length} centroids`);
  }
  for (let j = 0; j < cols; ++j) {
    for (let c = offsets[j]; c < offsets[j + 1]; ++c) {
      if (!Number.isFinite(codebooks[c])) fail('codebooks', `column ${j} centroid ${c - offsets[j]} is ${codebooks[c]}`);
      if (c > offsets[j] && codebooks[c] < codebooks[c - 1]) {
        fail('codebooks', `column ${j} centroids are not ascending at index ${c - offsets[j]}`);
      }
    }
  }
}

function checkCodes(parts: QuantizedParts, fail: Fail): void {
  const { rows, cols, codes, codebookOffsets: offsets } = parts;
  checkLength(codes, rows * cols, 'codes', fail);
  // checkCodebooks has run: every column has 1 to 2^bits <= 256 centroids.
  const largest = new Uint8Array(cols);
  for (let j = 0; j < cols; ++j) largest[j] = offsets[j + 1] - offsets[j] - 1;
  const bad = native.firstCodeAboveSync(codes, largest);
  if (bad >= 0) {
    const j = bad % cols;
    fail('codes', `code ${codes[bad]} at row ${Math.floor(bad / cols)}, column ${j} is not below the column's ` +
      `${offsets[j + 1] - offsets[j]} centroids`);
  }
}

function checkOutliers(parts: QuantizedParts, fail: Fail): void {
  const { rows, cols, outlierRows, outlierCols, outlierValues } = parts;
  const count = outlierValues.length;
  checkLength(outlierRows, count, 'outlier_rows', fail);
  checkLength(outlierCols, count, 'outlier_cols', fail);
  for (let k = 0; k < count; ++k) {
    const row = outlierRows[k];
    const col = outlierCols[k];
    if (!(row >= 0 && row < rows)) fail('outlier_rows', `entry ${k} is ${row}, outside [0, ${rows})`);
    if (!(col >= 0 && col < cols)) fail('outlier_cols', `entry ${k} is ${col}, outside [0, ${cols})`);
    if (!Number.isFinite(outlierValues[k])) fail('outlier_values', `entry ${k} is ${outlierValues[k]}`);
    if (k > 0) {
      const previousCol = outlierCols[k - 1];
      const previousRow = outlierRows[k - 1];
      if (col < previousCol || (col === previousCol && row <= previousRow)) {
        fail('outlier_cols', `entry ${k} (row ${row}, column ${col}) does not come strictly after ` +
          `(row ${previousRow}, column ${previousCol}); outliers must be sorted by column then row, without repeats`);
      }
    }
  }
}

// The part names are the checkpoint's tensors: row_scales, row_zeros.
function checkRowGrid(parts: QuantizedParts, fail: Fail): void {
  const { rows, cols, rowScales, rowZeros } = parts;
  if (rowScales === undefined && rowZeros === undefined) return;
  const arrays = [[rowScales, 'row_scales', 'rowScales'], [rowZeros, 'row_zeros', 'rowZeros']] as const;
  for (const [value, part, field] of arrays) {
    const tag = ArrayBuffer.isView(value) ? (value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] : typeof value;
    if (tag !== 'Float32Array') fail(part, `${field} must be a Float32Array when the other row grid array is given, got ${tag}`);
  }
  const scales = rowScales as Float32Array;
  const zeros = rowZeros as Float32Array;
  checkLength(scales, rows, 'row_scales', fail);
  checkLength(zeros, rows, 'row_zeros', fail);
  if (parts.outlierValues.length > 0) {
    fail('outlier_values', `a row-grid layer cannot have outliers; it has ${parts.outlierValues.length}`);
  }

  const bits = parts.bitsPerColumn[0];
  const levels = 2 ** bits;
  if (bits > MAX_ROW_GRID_BITS) fail('bits', `a row-grid layer has ${bits} bits; expected 1 to ${MAX_ROW_GRID_BITS}`);
  for (let j = 0; j < cols; ++j) {
    if (parts.bitsPerColumn[j] !== bits) {
      fail('bits', `column ${j} has ${parts.bitsPerColumn[j]} bits and column 0 has ${bits}; a row-grid layer has one width`);
    }
    if (parts.codebookOffsets[j + 1] !== (j + 1) * levels) {
      fail('codebook_offsets', `column ${j} does not have the ${levels} levels of a row grid`);
    }
  }
  for (let k = 0; k < parts.codebooks.length; ++k) {
    if (parts.codebooks[k] !== k % levels) {
      fail('codebooks', `centroid ${k % levels} of column ${Math.floor(k / levels)} is ${parts.codebooks[k]}; ` +
        `a row grid has the levels 0 .. ${levels - 1}`);
    }
  }
  for (let i = 0; i < rows; ++i) {
    if (!(Number.isFinite(scales[i]) && scales[i] > 0)) {
      fail('row_scales', `row ${i} has scale ${scales[i]}; expected a finite value > 0`);
    }
    if (!(Number.isInteger(zeros[i]) && zeros[i] >= 0 && zeros[i] < levels)) {
      fail('row_zeros', `row ${i} has zero point ${zeros[i]}; expected an integer in [0, ${levels - 1}]`);
    }
  }
}
