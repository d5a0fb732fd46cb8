// The row grid of the gptq and rtn baselines through the public API. RTN is
// checked against a float64 reference written here (exact scales, zero
// points, codes and values). GPTQ must share the grid of the original rows.
// Also covered: the storage bits and fromParts checks on row-grid parts.
import { Hessian, QuantizedLayer, quantizeLayerSync, relativeOutputError } from '../lib/index.js';
import type { QuantizedParts } from '../lib/index.js';
import { syntheticLayer } from '../lib/cli/synthetic-layer.js';

// Rounds a float32 value to the nearest float16 (ties to even), clamped to
// +-65504, by counting units in the last place of its binade.
function roundToFloat16(x: number): number {
  const magnitude = Math.min(Math.abs(x), 65504);
  if (magnitude === 0) return 0;
  const exponent = Math.max(Math.floor(Math.log2(magnitude)), -14);
  const ulp = 2 ** (exponent - 10);
  return Math.sign(x) * Math.min(roundHalfEven(magnitude / ulp) * ulp, 65504);
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

interface ReferenceGrid {
  scales: number[];
  zeros: number[];
}

// GPTQ's min-max grid per row, range widened to contain 0, [-1, 1] for a zero row.
function referenceGrid(data: Float32Array, rows: number, cols: number, bits: number): ReferenceGrid {
  const grid: ReferenceGrid = { scales: [], zeros: [] };
  for (let i = 0; i < rows; i++) {
    let lo = 0;
    let hi = 0;
    for (let j = 0; j < cols; j++) {
      lo = Math.min(lo, data[i * cols + j]);
      hi = Math.max(hi, data[i * cols + j]);
    }
    if (lo === 0 && hi === 0) [lo, hi] = [-1, 1];
    const scale = (hi - lo) / (2 ** bits - 1);
    grid.scales.push(roundToFloat16(Math.fround(scale)));
    grid.zeros.push(roundHalfEven(-lo / scale) + 0);  // + 0 turns -0 into 0
  }
  return grid;
}

function referenceCode(grid: ReferenceGrid, i: number, w: number, bits: number): number {
  return Math.min(Math.max(roundHalfEven(w / grid.scales[i]) + grid.zeros[i], 0), 2 ** bits - 1);
}

// Rows with ties, a zero row, only positive and only negative values, 6 columns.
const CORNERS = new Float32Array([
  -1.5, 1.5, 0.5, -0.5, 1.5, 0,
  0, 0, 0, 0, 0, 0,
  0.25, 3, 1.7, 0.9, 2.2, 0.6,
  -0.3, -2.5, -1.25, -0.01, -1.9, -0.7,
  0.37, -1.13, 2.71, -0.05, 0.88, -2.02,
]);

describe('row grid', () => {
  test('rtn 2-bit on hand-worked rows', () => {
    const layer = quantizeLayerSync({ data: CORNERS, rows: 5, cols: 6 }, null, { method: 'rtn', bits: 2 });
    // Row 0: range [-1.5, 1.5], scale 1, zero round(1.5) = 2 (ties to even).
    // Codes: -1.5 -> round(-1.5) + 2 = 0; 1.5 -> 2 + 2 = 4, clamped to 3;
    // +-0.5 -> round(+-0.5) + 2 = 2 (ties to even); 0 -> 2.
    expect(layer.rowScales?.[0]).toBe(1);
    expect(layer.rowZeros?.[0]).toBe(2);
    expect(Array.from(layer.codes.subarray(0, 6))).toEqual([0, 3, 2, 2, 3, 2]);
    expect(Array.from(layer.dequantize().subarray(0, 6))).toEqual([-2, 1, 0, 0, 1, 0]);
    // Row 1 (zeros): [-1, 1], scale 2/3, zero round(1.5) = 2 (ties to even).
    expect(layer.rowScales?.[1]).toBe(roundToFloat16(Math.fround(2 / 3)));
    expect(layer.rowZeros?.[1]).toBe(2);
    expect(Array.from(layer.dequantize().subarray(6, 12))).toEqual([0, 0, 0, 0, 0, 0]);
    // Row 2 has only positive values (zero 0), row 3 only negative ones (zero 3).
    expect(layer.rowZeros?.[2]).toBe(0);
    expect(layer.rowZeros?.[3]).toBe(3);
    expect(layer.rowScales?.[2]).toBe(1);
  });

  test.each([2, 3, 4])('rtn %i-bit matches the float64 reference exactly', (bits) => {
    const random = syntheticLayer({ rows: 24, cols: 40, tokens: 8, seed: 3 });
    const cases = [{ data: CORNERS, rows: 5, cols: 6 }, { data: random.weight, rows: 24, cols: 40 }];
    for (const weight of cases) {
      const { rows, cols, data } = weight;
      const layer = quantizeLayerSync(weight, null, { method: 'rtn', bits });
      const grid = referenceGrid(data, rows, cols, bits);
      expect(Array.from(layer.rowScales ?? [])).toEqual(grid.scales);
      expect(Array.from(layer.rowZeros ?? [])).toEqual(grid.zeros);
      const values = layer.dequantize();
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const code = referenceCode(grid, i, data[i * cols + j], bits);
          expect(layer.codes[i * cols + j]).toBe(code);
          expect(values[i * cols + j]).toBe(grid.scales[i] * (code - grid.zeros[i]));
        }
      }
      const levels = Array.from({ length: cols * 2 ** bits }, (_, k) => k % 2 ** bits);
      expect(Array.from(layer.codebooks)).toEqual(levels);
      expect(layer.stats.codeBits).toBe(bits);
      // Codes, 5 bytes (permutation and width) per column, a float16 scale per
      // row and the zero points packed into whole bytes.
      const bytes = cols * Math.ceil((rows * bits) / 8) + 5 * cols + 2 * rows + Math.ceil((rows * bits) / 8);
      expect(layer.stats.storageBits).toBeCloseTo((8 * bytes) / (rows * cols), 12);
    }
  });

  test('gptq uses the grid of the original rows and beats rtn on its calibration', () => {
    const layer = syntheticLayer({ rows: 64, cols: 96, tokens: 400, seed: 11 });
    const weight = { data: layer.weight, rows: layer.rows, cols: layer.cols };
    const hessian = new Hessian(layer.cols).add(layer.activations, layer.tokens);
    for (const bits of [2, 3, 4]) {
      const gptq = quantizeLayerSync(weight, hessian, { method: 'gptq', bits });
      const rtn = quantizeLayerSync(weight, null, { method: 'rtn', bits });
      const grid = referenceGrid(layer.weight, layer.rows, layer.cols, bits);
      expect(Array.from(gptq.rowScales ?? [])).toEqual(grid.scales);
      expect(Array.from(gptq.rowZeros ?? [])).toEqual(grid.zeros);
      expect(relativeOutputError(weight, gptq, hessian)).toBeLessThan(relativeOutputError(weight, rtn, hessian));
      const column = quantizeLayerSync(weight, hessian, { method: 'gptq', bits, grid: 'column' });
      expect(column.rowScales).toBeUndefined();
      expect(column.toParts()).not.toHaveProperty('rowScales');
    }
  });

  describe('fromParts', () => {
    const base = quantizeLayerSync({ data: CORNERS, rows: 5, cols: 6 }, null, { method: 'rtn', bits: 3 });
    const parts = (change: Partial<QuantizedParts>): QuantizedParts => ({ ...base.toParts(), ...change });

    test('round trip keeps the grid and the values', () => {
      const copy = QuantizedLayer.fromParts(base.toParts());
      expect(copy.rowScales).toBe(base.rowScales);
      expect(Array.from(copy.dequantize())).toEqual(Array.from(base.dequantize()));
      expect(copy.stats.storageBits).toBe(base.stats.storageBits);
    });

    const scales = (index: number, value: number): Float32Array => {
      const out = Float32Array.from(base.rowScales ?? []);
      out[index] = value;
      return out;
    };
    const rejected: Array<[string, Partial<QuantizedParts>, RegExp]> = [
      ['scales without zeros', { rowZeros: undefined }, /rowScales and parts\.rowZeros must both be present/],
      ['short scales', { rowScales: new Float32Array(4) }, /parts\.rowScales must have 5 elements/],
      ['zero scale', { rowScales: scales(2, 0) }, /rowScales\[2\] must be a float16 value > 0, received 0/],
      ['non-float16 scale', { rowScales: scales(1, 0.1) }, /rowScales\[1\] must be a float16 value/],
      ['infinite scale', { rowScales: scales(0, Infinity) }, /rowScales\[0\] must be a float16 value/],
      ['fractional zero', { rowZeros: Float32Array.of(0, 1.5, 0, 0, 0) }, /rowZeros\[1\] must be an integer in \[0, 7\]/],
      ['zero above the top level', { rowZeros: Float32Array.of(0, 8, 0, 0, 0) }, /rowZeros\[1\] must be an integer/],
      ['mixed widths', {
        bitsPerColumn: Uint8Array.of(3, 3, 3, 3, 3, 4),
        codebookOffsets: Uint32Array.of(0, 8, 16, 24, 32, 40, 56),
        codebooks: new Float32Array(56).map((_, k) => (k < 40 ? k % 8 : k - 40)),
      }, /a row grid needs one bit width for every column/],
      ['a codebook that is not the levels', {
        codebooks: new Float32Array(48).map((_, k) => (k === 9 ? 1.5 : k % 8)),
      }, /centroid 1 of column 1 is 1\.5/],
      ['outliers', {
        outlierRows: Int32Array.of(0), outlierCols: Int32Array.of(0), outlierValues: Float32Array.of(1),
      }, /a row grid has no outliers, received 1/],
    ];
    test.each(rejected)('rejects %s', (_name, change, message) => {
      expect(() => QuantizedLayer.fromParts(parts(change))).toThrow(message);
    });
  });
});
