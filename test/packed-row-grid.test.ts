// PackedLinear of row-grid layers (the gptq and rtn grid) at every SIMD
// level, against a float64 product of the weights dequantized here from the
// contract W_q[i][j] = rowScales[i] · (level(code_ij) − rowZeros[i]).
//
// Tolerance: the product with the level codebooks accumulates in float32 with
// at most 2 · cols + 8 roundings of terms bounded by (2^b − 1) · |x_j|; the
// epilogue rounds the token sum, z_i times it, the difference and the scale,
// each within 2^-24 of at most 2 (2^b − 1) Σ|x|. So |y − exact| <=
// s_i · (2^b − 1) · Σ_j |x_j| · (2 · cols + 14) · 2^-24. The bound follows
// Σ|x| rather than |y| because acc and z_i · Σx cancel. At the avx512 level,
// 3-bit layers may be looked up in integer tables, whose rounding adds s_i
// times integerTablesError (integer-tables.ts).
import {
  PackedLinear, quantizeLayerSync, setSimdLevel, simdLevel, storageBits, supportedSimdLevels,
} from '../lib/index.js';
import type { QuantizedParts } from '../lib/index.js';
import { integerTablesError } from './integer-tables.js';
import { normal, rng } from './seeded-random.js';

const edgeSizes = [1, 3, 15, 16, 17, 31, 33, 127, 129];

// A row-grid layer: identity codebooks, random codes and permutation, float16
// scales over several octaves (powers of two times 11-bit mantissas), integer zeros.
function makeRowGridParts(rows: number, cols: number, bits: number, seed: number): QuantizedParts {
  const random = rng(seed);
  const levels = 1 << bits;
  const permutation = Int32Array.from({ length: cols }, (_, k) => k);
  for (let k = cols - 1; k > 0; k--) {
    const other = Math.floor(random() * (k + 1));
    [permutation[k], permutation[other]] = [permutation[other], permutation[k]];
  }
  return {
    rows, cols, permutation,
    bitsPerColumn: new Uint8Array(cols).fill(bits),
    codes: Uint8Array.from({ length: rows * cols }, () => Math.floor(random() * levels)),
    codebookOffsets: Uint32Array.from({ length: cols + 1 }, (_, j) => j * levels),
    codebooks: Float32Array.from({ length: cols * levels }, (_, k) => k % levels),
    outlierRows: new Int32Array(0),
    outlierCols: new Int32Array(0),
    outlierValues: new Float32Array(0),
    rowScales: Float32Array.from({ length: rows }, () => (1024 + Math.floor(random() * 1024)) * 2 ** (-10 - Math.floor(random() * 8))),
    rowZeros: Float32Array.from({ length: rows }, () => Math.floor(random() * levels)),
  };
}

// Outputs outside the bound (0 when the product is right).
function countMismatches(parts: QuantizedParts, y: Float32Array, x: Float32Array, tokens: number): number {
  const { rows, cols } = parts;
  const scales = parts.rowScales as Float32Array;
  const zeros = parts.rowZeros as Float32Array;
  const top = 2 ** parts.bitsPerColumn[0] - 1;
  let bad = 0;
  for (let t = 0; t < tokens; t++) {
    let magnitude = 0;
    for (let j = 0; j < cols; j++) magnitude += Math.abs(x[t * cols + j]);
    const tablesError = integerTablesError(parts, x, t, simdLevel());
    for (let i = 0; i < rows; i++) {
      let exact = 0;
      for (let j = 0; j < cols; j++) exact += scales[i] * (parts.codes[i * cols + j] - zeros[i]) * x[t * cols + j];
      const bound = scales[i] * (top * magnitude * (2 * cols + 14) * 2 ** -24 + tablesError);
      if (!(Math.abs(y[t * rows + i] - exact) <= bound)) bad++;
    }
  }
  return bad;
}

function randomX(tokens: number, cols: number, magnitude: number, seed: number): Float32Array {
  const random = rng(seed);
  return Float32Array.from({ length: tokens * cols }, () => normal(random) * magnitude);
}

function atEveryLevel(body: (level: string) => void): void {
  const original = simdLevel();
  try {
    for (const level of supportedSimdLevels()) {
      setSimdLevel(level);
      body(level);
    }
  } finally {
    setSimdLevel(original);
  }
}

describe('PackedLinear with a row grid', () => {
  test('edge shapes at every SIMD level', () => {
    atEveryLevel((level) => {
      let seed = level.length * 1000;
      for (const rows of edgeSizes) {
        for (const cols of edgeSizes) {
          const parts = makeRowGridParts(rows, cols, 2 + (seed % 3), seed++);
          const layer = PackedLinear.fromParts(parts, { threads: 2 });
          for (const tokens of [1, 9]) {
            const x = randomX(tokens, cols, 1, seed++);
            expect([level, rows, cols, tokens, countMismatches(parts, layer.matmul(x, tokens), x, tokens)])
              .toEqual([level, rows, cols, tokens, 0]);
          }
          layer.release();
        }
      }
    });
  });

  test('matmul and matmulAsync for 1 to 130 tokens', async () => {
    for (const level of supportedSimdLevels()) {
      const original = simdLevel();
      setSimdLevel(level);
      try {
        for (const bits of [2, 3, 4]) {
          const parts = makeRowGridParts(33, 129, bits, 40 + bits);
          const layer = PackedLinear.fromParts(parts, { threads: 2 });
          for (const tokens of [1, 7, 8, 16, 31, 130]) {
            const x = randomX(tokens, 129, 1, tokens);
            expect([level, bits, tokens, countMismatches(parts, layer.matmul(x, tokens), x, tokens)])
              .toEqual([level, bits, tokens, 0]);
            const y = await layer.matmulAsync(x, tokens);
            expect([level, bits, tokens, countMismatches(parts, y, x, tokens)]).toEqual([level, bits, tokens, 0]);
          }
          layer.release();
        }
      } finally {
        setSimdLevel(original);
      }
    }
  });

  test('stays within the bound for activations of 1e30', () => {
    atEveryLevel((level) => {
      for (const bits of [2, 3, 4]) {
        const parts = makeRowGridParts(31, 127, bits, 70 + bits);
        const layer = PackedLinear.fromParts(parts, { threads: 1 });
        for (const tokens of [1, 16]) {
          const x = randomX(tokens, 127, 1e30, bits * tokens);
          const y = layer.matmul(x, tokens);
          expect(y.every(Number.isFinite)).toBe(true);
          expect([level, bits, tokens, countMismatches(parts, y, x, tokens)]).toEqual([level, bits, tokens, 0]);
        }
        layer.release();
      }
    });
  });

  test('QuantizedLayer.pack of an rtn layer', () => {
    const random = rng(5);
    const weight = { data: Float32Array.from({ length: 40 * 70 }, () => normal(random)), rows: 40, cols: 70 };
    const layer = quantizeLayerSync(weight, null, { method: 'rtn', bits: 3 });
    expect(layer.rowScales).toBeInstanceOf(Float32Array);
    const packed = layer.pack({ threads: 1 });
    for (const tokens of [1, 20]) {
      const x = randomX(tokens, 70, 1, tokens);
      expect(countMismatches(layer, packed.matmul(x, tokens), x, tokens)).toBe(0);
    }
    packed.release();
  });

  test('counts the row arrays in bytes and bitsPerWeight', () => {
    const parts = makeRowGridParts(64, 48, 4, 3);
    const layer = PackedLinear.fromParts(parts, { threads: 1 });
    const plain = PackedLinear.fromParts({ ...parts, rowScales: undefined, rowZeros: undefined }, { threads: 1 });
    expect(layer.bytes - plain.bytes).toBe(64 * 2 * 4);
    // Codes, a float16 scale per row, 4-bit zero points, a uint8 width and int32 permutation entry per column.
    const bytes = 48 * (64 * 4) / 8 + 2 * 64 + (64 * 4) / 8 + 5 * 48;
    expect(layer.bitsPerWeight).toBeCloseTo((8 * bytes) / (64 * 48), 12);
    expect(storageBits(parts)).toBeCloseTo(layer.bitsPerWeight, 12);
    layer.release();
    plain.release();
  });

  test('rejects bad row grids with an error naming the field', () => {
    const good = makeRowGridParts(5, 6, 3, 9);
    const reject = (change: Partial<QuantizedParts>, error: typeof RangeError | typeof TypeError, field: string) =>
      expect(() => PackedLinear.fromParts({ ...good, ...change })).toThrow(
        expect.objectContaining({ name: error.name, message: expect.stringContaining(field) }));
    const withScale = (value: number) => Float32Array.from(good.rowScales as Float32Array, (s, i) => (i === 2 ? value : s));
    const withZero = (value: number) => Float32Array.from(good.rowZeros as Float32Array, (z, i) => (i === 4 ? value : z));

    reject({ rowZeros: undefined }, TypeError, 'rowZeros');
    reject({ rowScales: undefined }, TypeError, 'rowScales');
    reject({ rowScales: new Float32Array(4) }, RangeError, 'rowScales');
    reject({ rowZeros: new Float32Array(6) }, RangeError, 'rowZeros');
    for (const value of [0, -1, NaN, Infinity, 0.1]) reject({ rowScales: withScale(value) }, RangeError, 'rowScales[2]');
    for (const value of [-1, 8, 2.5, NaN]) reject({ rowZeros: withZero(value) }, RangeError, 'rowZeros[4]');
    reject({ bitsPerColumn: Uint8Array.of(3, 3, 3, 2, 3, 3) }, RangeError, 'bitsPerColumn[3]');
    reject({ outlierRows: Int32Array.of(0), outlierCols: Int32Array.of(0), outlierValues: Float32Array.of(1) },
      RangeError, 'outlier');
  });
});
