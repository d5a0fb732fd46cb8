// dequantizeParts (the addon's dequantization) on hand-made parts, on layers
// from the quantizer against a plain loop, and on malformed parts.
import { Hessian, dequantizeParts, quantizeLayerSync } from '../lib/index.js';
import type { QuantizedParts } from '../lib/index.js';

// Two rows, three columns of 1, 2 and 8 bits, one outlier at [1, 2].
function handParts(): QuantizedParts {
  return {
    rows: 2,
    cols: 3,
    bitsPerColumn: Uint8Array.of(1, 2, 8),
    permutation: Int32Array.of(2, 0, 1),
    codes: Uint8Array.of(
      1, 3, 0,
      0, 2, 4),
    codebookOffsets: Uint32Array.of(0, 2, 6, 11),
    codebooks: Float32Array.of(-1, 1, -2, -1, 0.5, 4, 0, 1, 2, 3, 8),
    outlierRows: Int32Array.of(1),
    outlierCols: Int32Array.of(2),
    outlierValues: Float32Array.of(100),
  };
}

// W[i][j] from the definition, one weight at a time.
function reference(parts: QuantizedParts): Float32Array {
  const out = new Float32Array(parts.rows * parts.cols);
  for (let i = 0; i < parts.rows; i++) {
    for (let j = 0; j < parts.cols; j++) {
      const centroid = parts.codebooks[parts.codebookOffsets[j] + parts.codes[i * parts.cols + j]];
      out[i * parts.cols + j] = parts.rowScales === undefined
        ? centroid
        : parts.rowScales[i] * (centroid - parts.rowZeros![i]);
    }
  }
  parts.outlierValues.forEach((value, k) => { out[parts.outlierRows[k] * parts.cols + parts.outlierCols[k]] = value; });
  return out;
}

function randomWeight(rows: number, cols: number, seed: number): Float32Array {
  const data = new Float32Array(rows * cols);
  let state = seed;
  for (let k = 0; k < data.length; k++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    data[k] = state / 2 ** 30 - 1;
  }
  return data;
}

describe('dequantizeParts', () => {
  test('hand-made parts with 1- and 8-bit columns', () => {
    expect(Array.from(dequantizeParts(handParts()))).toEqual([1, 4, 0, -1, 0.5, 100]);
  });

  test('a row grid scales and shifts each row', () => {
    const parts = { ...handParts(), outlierRows: new Int32Array(0), outlierCols: new Int32Array(0),
      outlierValues: new Float32Array(0), rowScales: Float32Array.of(0.5, 0.25), rowZeros: Float32Array.of(1, 2) };
    expect(Array.from(dequantizeParts(parts))).toEqual([0, 1.5, -0.5, -0.75, -0.375, 1.5]);
  });

  test('matches the plain loop on a claq layer with outliers', () => {
    const hessian = new Hessian(40);
    hessian.add(randomWeight(64, 40, 11), 64);
    // 128 rows, so that 0.4 % of a column rounds to one reserved weight per tail.
    const layer = quantizeLayerSync({ data: randomWeight(128, 40, 7), rows: 128, cols: 40 }, hessian,
      { targetBits: 2.1, outliers: true });
    expect(layer.rowScales).toBeUndefined();
    expect(layer.outlierValues.length).toBeGreaterThan(0);
    expect(dequantizeParts(layer)).toEqual(reference(layer));
    expect(layer.dequantize()).toEqual(reference(layer));
  });

  test('matches the plain loop on a row-grid layer', () => {
    const layer = quantizeLayerSync({ data: randomWeight(33, 40, 9), rows: 33, cols: 40 }, null,
      { method: 'rtn', bits: 3 });
    expect(layer.rowScales).toBeDefined();
    expect(dequantizeParts(layer)).toEqual(reference(layer));
    expect(layer.dequantize()).toEqual(reference(layer));
  });

  const badCases: Array<[string, (p: QuantizedParts) => void, ErrorConstructor, RegExp]> = [
    ['rows not an integer', (p) => { p.rows = 1.5; }, RangeError, /dequantizeParts: parts\.rows must be an integer/],
    ['codes too short', (p) => { p.codes = p.codes.subarray(1); }, RangeError,
      /dequantizeParts: parts\.codes must have 6 elements \(rows \* cols = 2 \* 3\), received 5/],
    ['codebooks of the wrong type', (p) => { (p as { codebooks: unknown }).codebooks = new Float64Array(11); },
      TypeError, /dequantizeParts: parts\.codebooks must be a Float32Array/],
    ['a code above its codebook', (p) => { p.codes[5] = 5; }, RangeError,
      /dequantizeParts: parts\.codes\[5\] = 5 \(row 1, column 2\) is not below the column's 5 centroids/],
    ['an offset past the codebooks', (p) => { p.codebookOffsets[3] = 12; }, RangeError,
      /column 2 \(8 bits\) has codebook entries \[6, 12\)/],
    ['an outlier outside the layer', (p) => { p.outlierRows[0] = 2; }, RangeError,
      /outlier 0 is at \[row 2, column 2\], outside the 2 x 3 layer/],
  ];
  test.each(badCases)('rejects %s', (_name, spoil, type, message) => {
    const parts = handParts();
    spoil(parts);
    expect(() => dequantizeParts(parts)).toThrow(type);
    expect(() => dequantizeParts(parts)).toThrow(message);
  });
});
