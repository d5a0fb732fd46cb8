// QuantizedLayer.fromParts, dequantize and the bit counts on hand-made parts.
import { QuantizedLayer, storageBits } from '../lib/index.js';
import type { QuantizedParts } from '../lib/index.js';

// A 3 x 2 layer. Column 0 has 2 bits and column 1 has 3 bits, one outlier
// sits at [row 2, column 1], and act order swapped the columns.
function handParts(): QuantizedParts {
  return {
    rows: 3,
    cols: 2,
    bitsPerColumn: Uint8Array.of(2, 3),
    permutation: Int32Array.of(1, 0),
    codes: Uint8Array.of(
      0, 7,
      3, 0,
      1, 2),
    codebookOffsets: Uint32Array.of(0, 4, 12),
    codebooks: Float32Array.of(-1, -0.5, 0.5, 1, -4, -3, -2, -1, 0, 1, 2, 3),
    outlierRows: Int32Array.of(2),
    outlierCols: Int32Array.of(1),
    outlierValues: Float32Array.of(100),
  };
}

describe('QuantizedLayer', () => {
  test('dequantize applies codebooks and outliers', () => {
    const layer = QuantizedLayer.fromParts(handParts());
    expect(Array.from(layer.dequantize())).toEqual([
      -1, 3,
      1, -4,
      -0.5, 100]);
  });

  test('stats count bits by hand', () => {
    const layer = QuantizedLayer.fromParts(handParts(), { loss: 1.5 });
    expect(layer.stats.codeBits).toBe(2.5);
    // Bytes: codes ceil(3*2/8) + ceil(3*3/8) = 3, codebooks 2*12 = 24, one outlier 10,
    // permutation 2*4, bit widths 2, offsets 3*4 = 12.
    expect(layer.stats.storageBits).toBe((8 * (3 + 24 + 10 + 8 + 2 + 12)) / 6);
    expect(layer.stats.outlierCount).toBe(1);
    expect(layer.stats.loss).toBe(1.5);
    expect(layer.stats.seconds).toBeNaN();
    expect(layer.stats.reservationSeconds).toBeNaN();
    expect(layer.stats.assignmentSeconds).toBeNaN();
  });

  test('storage bits of a 2-bit layer', () => {
    // 64 x 4 at 2 bits, 4 centroids each, no outliers: 16 code bytes per
    // column, 8 codebook bytes, 4 + 1 + 4 bytes of metadata, plus 4.
    const parts: QuantizedParts = {
      rows: 64, cols: 4, bitsPerColumn: new Uint8Array(4).fill(2), permutation: Int32Array.of(0, 1, 2, 3),
      codes: new Uint8Array(256), codebookOffsets: Uint32Array.of(0, 4, 8, 12, 16), codebooks: new Float32Array(16),
      outlierRows: new Int32Array(0), outlierCols: new Int32Array(0), outlierValues: new Float32Array(0),
    };
    expect(storageBits(parts)).toBe((8 * (4 * (16 + 8 + 9) + 4)) / 256);
  });

  test('short codebooks are allowed', () => {
    const parts = handParts();
    parts.codebookOffsets = Uint32Array.of(0, 4, 6);
    parts.codebooks = Float32Array.of(-1, -0.5, 0.5, 1, 2, 3);
    parts.codes[1] = 1;
    parts.codes[3] = 0;
    parts.codes[5] = 1;
    expect(Array.from(QuantizedLayer.fromParts(parts).dequantize())).toEqual([-1, 3, 1, 2, -0.5, 100]);
  });

  test('toParts returns the same arrays', () => {
    const parts = handParts();
    const layer = QuantizedLayer.fromParts(parts);
    expect(layer.toParts().codes).toBe(parts.codes);
    expect(layer.toParts()).toEqual(parts);
  });

  const badCases: Array<[string, (p: QuantizedParts) => void, ErrorConstructor, RegExp]> = [
    ['rows not an integer', (p) => { p.rows = 2.5; }, RangeError, /parts\.rows must be an integer/],
    ['codes of the wrong type', (p) => { (p as { codes: unknown }).codes = new Int8Array(6); }, TypeError,
      /parts\.codes must be a Uint8Array, received an Int8Array/],
    ['codes too short', (p) => { p.codes = p.codes.subarray(1); }, RangeError,
      /parts\.codes must have 6 elements \(rows \* cols = 3 \* 2\), received 5/],
    ['a bit width of 9', (p) => { p.bitsPerColumn[0] = 9; }, RangeError, /parts\.bitsPerColumn\[0\] must be in \[1, 8\], received 9/],
    ['a bit width of 0', (p) => { p.bitsPerColumn[0] = 0; }, RangeError, /parts\.bitsPerColumn\[0\] must be in \[1, 8\], received 0/],
    ['a code above its codebook', (p) => { p.codes[2] = 4; }, RangeError,
      /parts\.codes \[row 1, column 0\] is 4, but column 0 has 4 centroids/],
    ['a repeated permutation entry', (p) => { p.permutation[1] = 1; }, RangeError, /entry 1 is 1/],
    ['a permutation entry out of range', (p) => { p.permutation[0] = 2; }, RangeError, /entry 0 is 2/],
    ['a codebook above 2^bits', (p) => { p.codebookOffsets[1] = 5; }, RangeError,
      /codebookOffsets\[1\] - codebookOffsets\[0\] must be in \[1, 4\], received 5/],
    ['an empty codebook', (p) => { p.codebookOffsets[1] = 0; }, RangeError,
      /codebookOffsets\[1\] - codebookOffsets\[0\] must be in \[1, 4\], received 0/],
    ['a first offset above 0', (p) => { p.codebookOffsets[0] = 1; }, RangeError, /codebookOffsets\[0\] must be 0/],
    ['descending centroids', (p) => { p.codebooks[1] = -2; }, RangeError,
      /centroids of column 0 must be ascending, but centroid 1 \(-2\)/],
    ['a NaN centroid', (p) => { p.codebooks[5] = NaN; }, RangeError, /centroid 1 of column 1 must be finite, received NaN/],
    ['an outlier row out of range', (p) => { p.outlierRows[0] = 3; }, RangeError, /outlier 0 is at \[row 3, column 1\], outside the 3 x 2 layer/],
    ['outlier arrays of different lengths', (p) => { p.outlierCols = new Int32Array(0); }, RangeError,
      /parts\.outlierCols must have 1 elements/],
    ['a non-finite outlier', (p) => { p.outlierValues[0] = Infinity; }, RangeError, /outlier 0 must have a finite value/],
  ];
  test.each(badCases)('fromParts rejects %s', (_name, spoil, type, message) => {
    const parts = handParts();
    spoil(parts);
    expect(() => QuantizedLayer.fromParts(parts)).toThrow(type);
    expect(() => QuantizedLayer.fromParts(parts)).toThrow(message);
  });

  test('fromParts rejects unsorted outliers', () => {
    const parts: QuantizedParts = {
      ...handParts(),
      outlierRows: Int32Array.of(1, 0),
      outlierCols: Int32Array.of(1, 0),
      outlierValues: Float32Array.of(5, 6),
    };
    expect(() => QuantizedLayer.fromParts(parts)).toThrow(/sorted by column then row without repeats, but outlier 1 \[row 0, column 0\]/);
  });
});
