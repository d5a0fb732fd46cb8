// PackedLinear at every SIMD level against a float64 product built here from
// the parts (dequantize, then multiply in float64).
//
// Tolerance: the kernels accumulate in float32. Each table entry or panel
// product rounds once, 2-bit pair tables round a second time, and a row sums
// at most 2 * cols terms, so |y - exact| <= (2 * cols + 8) * 2^-24 * S where
// S sums (|centroid| + |outlier correction|) * |x_j| over the row: the dense
// pass multiplies the centroid and the sparse pass adds value - centroid.
// At the avx512 level, 3-bit columns may be looked up in integer tables,
// whose rounding adds integerTablesError (integer-tables.ts).
import { ClaqError } from '../lib/errors.js';
import {
  PackedLinear, packLayer, setSimdLevel, simdLevel, storageBits, supportedSimdLevels,
} from '../lib/index.js';
import type { QuantizedParts } from '../lib/index.js';
import { integerTablesError } from './integer-tables.js';
import { normal, rng } from './seeded-random.js';

const edgeSizes = [1, 3, 15, 16, 17, 31, 33, 127, 129];

// Nearest float16 value (normal range, which the generator stays in).
function roundToHalf(v: number): number {
  if (v === 0) return 0;
  const step = 2 ** (Math.floor(Math.log2(Math.abs(v))) - 10);
  return Math.round(v / step) * step;
}

type BitsMix = 2 | 3 | 4 | 'ap2.1' | 'ap3.5' | 'all';

function pickBits(mix: BitsMix, random: () => number): number {
  if (typeof mix === 'number') return mix;
  if (mix === 'ap2.1') return random() < 0.05 ? 4 : 2;
  if (mix === 'ap3.5') return random() < 0.5 ? 4 : 3;
  return 2 + Math.floor(random() * 3);
}

function makeParts(rows: number, cols: number, mix: BitsMix, outlierRate: number, seed: number): QuantizedParts {
  const random = rng(seed);
  const bitsPerColumn = new Uint8Array(cols).map(() => pickBits(mix, random));

  const permutation = Int32Array.from({ length: cols }, (_, k) => k);
  for (let k = cols - 1; k > 0; k--) {
    const other = Math.floor(random() * (k + 1));
    [permutation[k], permutation[other]] = [permutation[other], permutation[k]];
  }

  const codebookOffsets = new Uint32Array(cols + 1);
  const centroids: number[] = [];
  for (let j = 0; j < cols; j++) {
    const column = Array.from({ length: 1 << bitsPerColumn[j] }, () => roundToHalf(normal(random)));
    centroids.push(...column.sort((a, b) => a - b));
    codebookOffsets[j + 1] = centroids.length;
  }

  const codes = new Uint8Array(rows * cols);
  for (let i = 0; i < codes.length; i++) codes[i] = Math.floor(random() * (1 << bitsPerColumn[i % cols]));

  const outlierRows: number[] = [];
  const outlierCols: number[] = [];
  const outlierValues: number[] = [];
  for (let j = 0; j < cols; j++) {
    for (let r = 0; r < rows; r++) {
      if (random() >= outlierRate) continue;
      outlierRows.push(r);
      outlierCols.push(j);
      outlierValues.push(roundToHalf(normal(random) * 40));
    }
  }

  return {
    rows, cols, bitsPerColumn, permutation, codes, codebookOffsets,
    codebooks: Float32Array.from(centroids),
    outlierRows: Int32Array.from(outlierRows),
    outlierCols: Int32Array.from(outlierCols),
    outlierValues: Float32Array.from(outlierValues),
  };
}

// Float64 Y = X W^T from the parts, and the error scale S of each output.
function reference(parts: QuantizedParts, x: Float32Array, tokens: number): { y: Float64Array; scale: Float64Array } {
  const { rows, cols } = parts;
  const weight = new Float64Array(rows * cols);
  const magnitude = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const centroid = parts.codebooks[parts.codebookOffsets[j] + parts.codes[r * cols + j]];
      weight[r * cols + j] = centroid;
      magnitude[r * cols + j] = Math.abs(centroid);
    }
  }
  for (let k = 0; k < parts.outlierRows.length; k++) {
    const at = parts.outlierRows[k] * cols + parts.outlierCols[k];
    magnitude[at] += Math.abs(parts.outlierValues[k] - weight[at]);
    weight[at] = parts.outlierValues[k];
  }
  const y = new Float64Array(tokens * rows);
  const scale = new Float64Array(tokens * rows);
  for (let t = 0; t < tokens; t++) {
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      let s = 0;
      for (let j = 0; j < cols; j++) {
        sum += weight[r * cols + j] * x[t * cols + j];
        s += magnitude[r * cols + j] * Math.abs(x[t * cols + j]);
      }
      y[t * rows + r] = sum;
      scale[t * rows + r] = s;
    }
  }
  return { y, scale };
}

function randomX(tokens: number, cols: number, magnitude: number, seed: number): Float32Array {
  const random = rng(seed);
  return Float32Array.from({ length: tokens * cols }, () => normal(random) * magnitude);
}

// Number of outputs outside the bound (0 when the kernel is right).
function countMismatches(parts: QuantizedParts, layer: PackedLinear, tokens: number, xScale: number,
  seed: number): number {
  const x = randomX(tokens, parts.cols, xScale, seed);
  const y = layer.matmul(x, tokens);
  const expected = reference(parts, x, tokens);
  const tablesError = Array.from({ length: tokens },
    (_, t) => integerTablesError(parts, x, t, simdLevel()));
  let bad = 0;
  for (let i = 0; i < y.length; i++) {
    const bound = (2 * parts.cols + 8) * 2 ** -24 * expected.scale[i] + tablesError[Math.floor(i / parts.rows)] + 1e-30;
    if (!(Math.abs(y[i] - expected.y[i]) <= bound)) bad++;
  }
  return bad;
}

const levels = supportedSimdLevels();
const originalLevel = simdLevel();
afterAll(() => setSimdLevel(originalLevel));

describe.each(levels)('PackedLinear at level %s', (level) => {
  beforeAll(() => setSimdLevel(level));

  test('edge shapes match float64', () => {
    let seed = 1;
    for (const rows of edgeSizes) {
      for (const cols of edgeSizes) {
        const parts = makeParts(rows, cols, 'all', 0.02, seed++);
        const layer = PackedLinear.fromParts(parts, { threads: 2 });
        for (const tokens of [1, 8]) {
          expect([rows, cols, tokens, countMismatches(parts, layer, tokens, 1, seed++)]).toEqual([rows, cols, tokens, 0]);
        }
        layer.release();
      }
    }
  });

  test.each([2, 3, 4, 'ap2.1', 'ap3.5', 'all'] as const)('bits %s with and without outliers', (mix) => {
    for (const outlierRate of [0, 0.03]) {
      const parts = makeParts(70, 97, mix, outlierRate, 1000 + outlierRate * 100);
      const layer = packLayer(parts, { threads: 1 });
      for (const tokens of [1, 3, 8, 14, 15]) {
        expect([outlierRate, tokens, countMismatches(parts, layer, tokens, 1, tokens)]).toEqual([outlierRate, tokens, 0]);
      }
    }
  });

  test('tokens from 1 to 130', () => {
    const parts = makeParts(33, 40, 'all', 0.02, 7);
    const layer = packLayer(parts);
    for (const tokens of [1, 2, 6, 7, 8, 13, 14, 29, 64, 130]) {
      expect([tokens, countMismatches(parts, layer, tokens, 1, tokens)]).toEqual([tokens, 0]);
    }
  });

  test('1e30 activations give finite, accurate outputs', () => {
    const parts = makeParts(17, 129, 'all', 0.02, 9);
    const layer = packLayer(parts);
    for (const tokens of [1, 9]) {
      const x = randomX(tokens, parts.cols, 1e30, 3);
      expect(layer.matmul(x, tokens).every(Number.isFinite)).toBe(true);
      expect(countMismatches(parts, layer, tokens, 1e30, 3)).toBe(0);
    }
  });
});

describe('PackedLinear API', () => {
  const parts = makeParts(19, 21, 'all', 0.05, 42);

  test('threads do not change the result', () => {
    const x = randomX(12, parts.cols, 1, 5);
    const one = packLayer(parts, { threads: 1 }).matmul(x, 12);
    const two = packLayer(parts, { threads: 2 }).matmul(x, 12);
    expect(Array.from(two)).toEqual(Array.from(one));
  });

  test('matmulAsync equals matmul and fills out', async () => {
    const layer = packLayer(parts);
    const x = randomX(40, parts.cols, 1, 6);
    const out = new Float32Array(40 * parts.rows);
    const result = await layer.matmulAsync(x, 40, out);
    expect(result).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(layer.matmul(x, 40)));
  });

  test('release during matmulAsync is safe', async () => {
    const layer = packLayer(parts);
    const x = randomX(64, parts.cols, 1, 7);
    const expected = layer.matmul(x, 64);
    const pending = layer.matmulAsync(x, 64);
    layer.release();
    expect(Array.from(await pending)).toEqual(Array.from(expected));
  });

  test('use after release raises ERR_CLAQ_RELEASED', () => {
    const layer = packLayer(parts);
    layer.release();
    layer.release();
    expect(layer.released).toBe(true);
    expect(() => layer.matmul(new Float32Array(parts.cols), 1)).toThrow(ClaqError);
    expect(() => layer.matmul(new Float32Array(parts.cols), 1)).toThrow(/released/);
  });

  test('bitsPerWeight counts the checkpoint bytes of the layer', () => {
    const layer = packLayer(parts);
    // Per column: packed codes, float16 centroids, a uint8 width, an int32
    // permutation entry and a uint32 offset; per outlier: int32 row and
    // column and a float16 value; plus the final offset.
    let bytes = 4;
    parts.bitsPerColumn.forEach((b) => { bytes += Math.ceil((parts.rows * b) / 8) + 2 * (1 << b) + 9; });
    bytes += 10 * parts.outlierRows.length;
    expect(layer.bitsPerWeight).toBeCloseTo((8 * bytes) / (parts.rows * parts.cols), 12);
    expect(layer.bitsPerWeight).toBeCloseTo(storageBits(parts), 12);
    expect(layer.bytes).toBeGreaterThan(0);
    expect([layer.rows, layer.cols]).toEqual([19, 21]);
  });

  test('matmul rejects bad arguments with messages that name the value', () => {
    const layer = packLayer(parts);
    const x = new Float32Array(parts.cols);
    expect(() => layer.matmul(x, 0)).toThrow(RangeError);
    expect(() => layer.matmul(x, 1.5)).toThrow(/tokens must be an integer >= 1, received 1.5/);
    expect(() => layer.matmul(x, 2)).toThrow(/x has length 21, expected tokens \* cols/);
    expect(() => layer.matmul([1, 2] as unknown as Float32Array, 1)).toThrow(TypeError);
    const bad = new Float32Array(parts.cols);
    bad[4] = NaN;
    expect(() => layer.matmul(bad, 1)).toThrow(/x\[4\] = NaN is not finite/);
    const infinite = new Float32Array(parts.cols);
    infinite[parts.cols - 1] = -Infinity;
    infinite[parts.cols - 2] = Infinity;
    expect(() => layer.matmul(infinite, 1)).toThrow(/x\[19\] = Infinity is not finite/);
    const backing = new Float32Array(parts.cols + 5);
    backing[3] = NaN;
    backing[7] = NaN;
    expect(() => layer.matmul(backing.subarray(5), 1)).toThrow(/x\[2\] = NaN is not finite/);
    expect(() => layer.matmul(x, 1, new Float32Array(3))).toThrow(/out has length 3/);
    const shared = new Float32Array(parts.cols + parts.rows);
    expect(() => layer.matmul(shared.subarray(0, parts.cols), 1, shared.subarray(parts.cols - 1, parts.cols - 1 + parts.rows)))
      .toThrow(/must not overlap/);
  });

  test('packLayer rejects malformed parts with the field named', () => {
    expect(() => packLayer({ ...parts, rows: 0 })).toThrow(/parts.rows must be an integer/);
    expect(() => packLayer({ ...parts, codes: new Uint8Array(3) })).toThrow(/parts.codes has length 3/);
    expect(() => packLayer({ ...parts, codebooks: new Float64Array(3) as unknown as Float32Array }))
      .toThrow(TypeError);
    const bits = parts.bitsPerColumn.slice();
    bits[3] = 5;
    expect(() => packLayer({ ...parts, bitsPerColumn: bits })).toThrow(/bitsPerColumn\[3\] = 5/);
    const permutation = parts.permutation.slice();
    permutation[0] = permutation[1];
    expect(() => packLayer({ ...parts, permutation })).toThrow(RangeError);
    expect(() => packLayer({ ...parts, permutation })).toThrow(/repeats a column/);
    const codes = parts.codes.slice();
    codes[5] = 200;
    expect(() => packLayer({ ...parts, codes })).toThrow(/codes\[5\] = 200/);
    const outlierRows = parts.outlierRows.slice();
    outlierRows[0] = 99;
    expect(() => packLayer({ ...parts, outlierRows })).toThrow(/outlierRows\[0\] = 99/);
    expect(() => packLayer(parts, { threads: 0 })).toThrow(/options.threads/);
  });
});
