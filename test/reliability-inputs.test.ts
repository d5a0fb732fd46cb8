// Bad and borderline inputs to the quantizer: Hessians that are not positive
// definite, dead inputs, too few samples, non-finite values, degenerate
// columns, float16 range limits and shapes that fit no tile, pack or block
// width. Each input must give the right value or an error that names the
// value and the fix, never a NaN, a crash or a hang. docs/RELIABILITY.md
// lists which test covers which kind of input.
//
// Tolerances: where the Hessian is diagonal the columns are independent
// (U is diagonal, so no error feeds into other columns), and values that are
// exact in float16 must come back exactly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  ClaqCheckpoint, Hessian, QuantizedLayer, SafetensorsFile, loadQuantizedParts, quantizeLayer, quantizeLayerSync,
  saveQuantizedParts, writeSafetensors,
} from '../lib/index.js';
import type { QuantizeOptions } from '../lib/index.js';
import { SeededRandom } from './checkpoint-helpers.js';

const FLOAT16_MAX = 65504;
const FLOAT16_MIN_NORMAL = 2 ** -14;

/** Uniform values in [-scale, scale) from a seeded generator. */
function randomMatrix(seed: number, length: number, scale = 1): Float32Array {
  const random = new SeededRandom(seed);
  return Float32Array.from({ length }, () => ((random.int(2 ** 20) / 2 ** 19) - 1) * scale);
}

/** Builds a Hessian with Gram matrix diag(1, ..., 1), so columns quantize independently. */
function identityHessian(cols: number): Hessian {
  const gram = new Float64Array(cols * cols);
  for (let j = 0; j < cols; j++) gram[j * cols + j] = 1;
  return Hessian.fromGram(gram, cols, 2);
}

function randomHessian(seed: number, cols: number, tokens: number): Hessian {
  return new Hessian(cols).add(randomMatrix(seed, tokens * cols), tokens);
}

function expectAllFinite(values: ArrayLike<number>, label: string): void {
  for (let k = 0; k < values.length; k++) {
    if (!Number.isFinite(values[k])) throw new Error(`${label}[${k}] is ${values[k]}`);
  }
}

function expectUsableLayer(layer: QuantizedLayer): void {
  expectAllFinite(layer.codebooks, 'codebooks');
  expectAllFinite(layer.outlierValues, 'outlierValues');
  expectAllFinite(layer.dequantize(), 'dequantized');
  expect(Number.isFinite(layer.stats.loss)).toBe(true);
}

/** Runs `call` and returns what it threw, so one test can check several fields of one error. */
function thrownBy(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

describe('Hessian that is not positive definite', () => {
  test('fewer calibration rows than columns still factor', () => {
    const cols = 64;
    const weight = { data: randomMatrix(1, 32 * cols), rows: 32, cols };
    const layer = quantizeLayerSync(weight, randomHessian(2, cols, 3), { bits: 3 });

    expectUsableLayer(layer);
    expect(layer.stats.damping).toBe(0.01);
  });

  test('damping retries ×10 until the factorization succeeds', () => {
    // Gram [[1, 1.05], [1.05, 1]] has eigenvalues 2.05 and -0.05: with λ · mean(diag)
    // added, λ = 0.01 leaves a negative eigenvalue and λ = 0.1 does not.
    const hessian = Hessian.fromGram(new Float64Array([1, 1.05, 1.05, 1]), 2, 2);
    const layer = quantizeLayerSync({ data: new Float32Array([0.5, -0.25, 1, 2]), rows: 2, cols: 2 }, hessian,
      { bits: 2 });

    expectUsableLayer(layer);
    expect(layer.stats.damping).toBeCloseTo(0.1, 12);
  });

  test('fails at λ = 1 naming the layer and λ', async () => {
    // Eigenvalues 4 and -2: even H + 1 · mean(diag) · I has the eigenvalue -1.
    const hessian = Hessian.fromGram(new Float64Array([1, 3, 3, 1]), 2, 2);
    const weight = { data: new Float32Array([0.5, -0.25, 1, 2]), rows: 2, cols: 2 };
    const options: QuantizeOptions = { bits: 2, name: 'model.layers.3.mlp.up_proj' };

    const error = thrownBy(() => quantizeLayerSync(weight, hessian, options));
    expect(error.name).toBe('ClaqError');
    expect(error).toMatchObject({ code: 'ERR_CLAQ_NOT_POSITIVE_DEFINITE' });
    expect(error.message).toMatch(/model\.layers\.3\.mlp\.up_proj/);
    expect(error.message).toMatch(/lambda = 1\b/);
    expect(error.message).toMatch(/more calibration tokens or a larger damping/);
    await expect(quantizeLayer(weight, hessian, options)).rejects.toMatchObject({
      code: 'ERR_CLAQ_NOT_POSITIVE_DEFINITE', message: expect.stringMatching(/up_proj.*lambda = 1\b/s),
    });
  });

  test('a layer name that is not a string is rejected', () => {
    const weight = { data: new Float32Array(4), rows: 2, cols: 2 };
    expect(() => quantizeLayerSync(weight, null, { method: 'rtn', name: 5 as never }))
      .toThrow(/options\.name must be a string, received 5/);
  });
});

describe('dead inputs and few samples', () => {
  test('dead input channels give zero columns', () => {
    const rows = 24;
    const cols = 40;
    const tokens = 100;
    const activations = randomMatrix(3, tokens * cols);
    const dead = [0, 17, 39];
    for (let t = 0; t < tokens; t++) for (const j of dead) activations[t * cols + j] = 0;
    const hessian = new Hessian(cols).add(activations, tokens);

    for (const options of [{ bits: 2 }, { targetBits: 2.5, outliers: true }, { method: 'gptq', bits: 4 }] as QuantizeOptions[]) {
      const layer = quantizeLayerSync({ data: randomMatrix(4, rows * cols), rows, cols }, hessian, options);
      const values = layer.dequantize();
      expect(layer.stats.deadColumns).toBe(dead.length);
      expectUsableLayer(layer);
      for (const j of dead) for (let i = 0; i < rows; i++) expect(values[i * cols + j]).toBe(0);
    }
  });

  test('every input dead gives an all-zero layer', () => {
    const hessian = new Hessian(8).add(new Float32Array(5 * 8), 5);
    const layer = quantizeLayerSync({ data: randomMatrix(5, 4 * 8), rows: 4, cols: 8 }, hessian, { bits: 3 });

    expect(layer.stats.deadColumns).toBe(8);
    expect(layer.dequantize().every((v) => v === 0)).toBe(true);
    expect(Number.isFinite(layer.stats.loss)).toBe(true);
  });

  test('zero calibration samples are rejected', () => {
    const weight = { data: randomMatrix(6, 4 * 8), rows: 4, cols: 8 };
    expect(() => quantizeLayerSync(weight, new Hessian(8), { bits: 3 })).toThrow(RangeError);
    expect(() => quantizeLayerSync(weight, new Hessian(8), { bits: 3 })).toThrow(/hessian has no samples/);
  });

  test('one calibration sample gives a usable layer', () => {
    const cols = 16;
    const layer = quantizeLayerSync({ data: randomMatrix(7, 8 * cols), rows: 8, cols }, randomHessian(8, cols, 1),
      { targetBits: 2.5 });
    expectUsableLayer(layer);
  });

  test('activations without a token count are rejected', () => {
    const hessian = new Hessian(4);
    const add = hessian.add.bind(hessian) as (a: Float32Array) => Hessian;
    const error = thrownBy(() => add(new Float32Array(12)));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/Hessian\.add: tokens must be a number, received undefined/);
    expect(() => hessian.add(new Float32Array(12), 4)).toThrow(/activations must have 16 elements \(tokens \* cols = 4 \* 4\), received 12/);
  });
});

describe('non-finite values', () => {
  test.each([NaN, Infinity, -Infinity])('weight %p is reported by row and column', (bad) => {
    const data = randomMatrix(9, 6 * 5);
    data[3 * 5 + 2] = bad;
    const error = thrownBy(() => quantizeLayer({ data, rows: 6, cols: 5 }, null, { method: 'rtn' }));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toContain(`weight.data must be finite, but element [row 3, column 2] (index 17) is ${bad}`);
  });

  // 1024 x 1024 weights are copied in two halves on two threads. The first
  // bad element must win, whichever half it lies in.
  test.each([
    ['the second half only', [600_000], 600_000],
    ['both halves', [700_000, 100_000], 100_000],
    ['the first element of the second half', [524_288, 900_000], 524_288],
  ])('a large weight with NaN in %s reports the first', (_name, positions, first) => {
    const data = new Float32Array(1024 * 1024);
    for (const index of positions) data[index] = NaN;
    const error = thrownBy(() => quantizeLayer({ data, rows: 1024, cols: 1024 }, null, { method: 'rtn' }));
    expect(error).toBeInstanceOf(RangeError);
    const row = Math.floor(first / 1024);
    expect(error.message).toContain(`element [row ${row}, column ${first % 1024}] (index ${first}) is NaN`);
  });

  test.each([NaN, Infinity, -Infinity])('activation %p is reported by row and column', (bad) => {
    const activations = randomMatrix(10, 7 * 4);
    activations[5 * 4 + 1] = bad;
    const hessian = new Hessian(4);
    expect(() => hessian.add(activations, 7)).toThrow(`element [row 5, column 1] (index 21) is ${bad}`);
    expect(() => hessian.addAsync(activations, 7)).toThrow(RangeError);
    expect(hessian.samples).toBe(0);
  });

  test.each([NaN, Infinity])('Gram entry %p is reported by row and column', (bad) => {
    const gram = new Float64Array([2, 0, 0, 0, 2, 0, 0, 0, 2]);
    gram[1 * 3 + 2] = bad;
    expect(() => Hessian.fromGram(gram, 3, 4)).toThrow(`gram must be finite, but element [row 1, column 2] (index 5) is ${bad}`);
  });

  test('activations whose squares overflow float32 give a finite Hessian', () => {
    // 2e19² = 4e38 is above float32's maximum (3.4e38); the Gram matrix is float64.
    const cols = 3;
    const activations = new Float32Array([2e19, 1, -2e19, 1e19, 0, 3e19]);
    const hessian = new Hessian(cols).add(activations, 2);
    const h = hessian.toFloat64Array();
    expectAllFinite(h, 'H');

    const x0 = Math.fround(2e19);
    const x3 = Math.fround(1e19);
    // Float32 products and sums: a relative error of a few 2^-24.
    expect(h[0] / (x0 * x0 + x3 * x3)).toBeCloseTo(1, 6);
  });

  test('a Hessian beyond float32 range quantizes as its scaled copy', () => {
    // The factorization runs in float32; a Gram matrix times 2^200 (or 2^-200)
    // must give the same codes, and a loss scaled by the same factor.
    const cols = 12;
    const rows = 10;
    const gram = randomHessian(21, cols, 40).gram();
    const weight = { data: randomMatrix(22, rows * cols), rows, cols };
    const options: QuantizeOptions = { targetBits: 2.5, ranking: 'hessian' };
    const reference = quantizeLayerSync(weight, Hessian.fromGram(gram, cols, 40), options);

    for (const exponent of [200, -200]) {
      const scaled = gram.map((v) => v * 2 ** exponent);
      const layer = quantizeLayerSync(weight, Hessian.fromGram(scaled, cols, 40), options);
      expectUsableLayer(layer);
      expect(Buffer.from(layer.codes).equals(Buffer.from(reference.codes))).toBe(true);
      expect(Array.from(layer.codebooks)).toEqual(Array.from(reference.codebooks));
      expect(Array.from(layer.bitsPerColumn)).toEqual(Array.from(reference.bitsPerColumn));
      expect(layer.stats.damping).toBe(reference.stats.damping);
      expect(layer.stats.loss / 2 ** exponent / reference.stats.loss).toBeCloseTo(1, 6);
    }
  });

  test('activations of 1e-30 are not dead inputs', () => {
    // Their squares (1e-60) are below float32's smallest subnormal.
    const cols = 6;
    const activations = randomMatrix(23, 20 * cols, 1e-30);
    const hessian = new Hessian(cols).add(activations, 20);
    const layer = quantizeLayerSync({ data: randomMatrix(24, 8 * cols), rows: 8, cols }, hessian, { bits: 3 });

    expect(layer.stats.deadColumns).toBe(0);
    expect(layer.stats.damping).toBe(0.01);
    expectUsableLayer(layer);
  });

  test('a NaN codebook in a checkpoint names the tensor and column', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'claq-reliability-'));
    try {
      const weight = { data: randomMatrix(12, 5 * 3), rows: 5, cols: 3 };
      // The column grid keeps per-column codebooks, which the checkpoint stores.
      const layer = quantizeLayerSync(weight, null, { method: 'rtn', bits: 2, grid: 'column' });
      const good = join(folder, 'good.safetensors');
      await saveQuantizedParts(good, layer, { name: 'blk.0.q' });

      // Copy every tensor and overwrite centroid 1 of column 2 with a NaN half (0x7e00).
      const source = await SafetensorsFile.open(good);
      const tensors = await Promise.all(source.tensors().map(async (info) => {
        const bytes = await source.readBytes(info.name);
        if (info.name.endsWith('.codebooks')) new DataView(bytes.buffer).setUint16((layer.codebookOffsets[2] + 1) * 2, 0x7e00, true);
        return { name: info.name, dtype: info.dtype, shape: info.shape, data: bytes };
      }));
      const bad = join(folder, 'bad.safetensors');
      await writeSafetensors(bad, tensors, { metadata: source.metadata });
      await source.close();

      await expect(loadQuantizedParts(bad)).rejects.toThrow(/blk\.0\.q\.claq\.codebooks.*column 2 centroid 1 is NaN/);
      const checkpoint = await ClaqCheckpoint.open(bad);
      await expect(checkpoint.loadLayer('blk.0.q')).rejects.toMatchObject({ code: 'ERR_CLAQ_SAFETENSORS' });
      await checkpoint.close();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('degenerate columns and float16 limits', () => {
  test('columns with fewer distinct values than 2^bits come back exactly', () => {
    const rows = 30;
    const cols = 4;
    const palette = [[-1.5, 0.25], [3], [-0.5, 0, 0.5], [1, 2, 4, 8, 16]];
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = palette[j][(i * 7 + j) % palette[j].length];

    for (const options of [{ bits: 3 }, { bits: 4, actOrder: false }, { targetBits: 3.5, outliers: { highFraction: 0, lowFraction: 0 } }] as QuantizeOptions[]) {
      const layer = quantizeLayerSync({ data, rows, cols }, identityHessian(cols), options);
      const values = layer.dequantize();
      for (let j = 0; j < 3; j++) for (let i = 0; i < rows; i++) expect(values[i * cols + j]).toBe(data[i * cols + j]);
      expectUsableLayer(layer);
    }
  });

  test('all-zero rows and columns stay zero without NaN', () => {
    const rows = 12;
    const cols = 10;
    const data = randomMatrix(13, rows * cols);
    for (let j = 0; j < cols; j++) data[4 * cols + j] = 0;
    for (let i = 0; i < rows; i++) data[i * cols + 7] = 0;
    const layer = quantizeLayerSync({ data, rows, cols }, identityHessian(cols), { bits: 2, outliers: true });
    const values = layer.dequantize();

    expectUsableLayer(layer);
    for (let i = 0; i < rows; i++) expect(values[i * cols + 7]).toBe(0);
  });

  test('an all-zero layer counts no Outlier Order outliers', () => {
    // With mean|W| = 0 the threshold t · mean|W| is 0; if |0| >= 0 counted, every
    // column would tie at `rows` and the result would not change, so the
    // planted column checks the ranking separately: it has the only outliers.
    const rows = 16;
    const cols = 8;
    const zero = quantizeLayerSync({ data: new Float32Array(rows * cols), rows, cols }, identityHessian(cols),
      { targetBits: 2.25, outliers: true });
    expect(zero.dequantize().every((v) => v === 0)).toBe(true);
    expect(Array.from(zero.bitsPerColumn)).toEqual([4, 2, 2, 2, 2, 2, 2, 2]);

    const planted = new Float32Array(rows * cols).fill(0.01);
    planted[3 * cols + 6] = 50;
    const layer = quantizeLayerSync({ data: planted, rows, cols }, identityHessian(cols), { targetBits: 2.25, actOrder: false });
    expect(layer.bitsPerColumn[6]).toBe(4);
  });

  test('constant columns come back as their float16 value', () => {
    const rows = 9;
    const constants = [0.1, -3.7, 1000.3, 1e-6];
    const cols = constants.length;
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) constants.forEach((c, j) => { data[i * cols + j] = c; });
    const layer = quantizeLayerSync({ data, rows, cols }, identityHessian(cols), { bits: 2 });
    const values = layer.dequantize();

    for (let j = 0; j < cols; j++) {
      const stored = values[j];
      expect(Math.abs(stored - constants[j])).toBeLessThanOrEqual(Math.abs(constants[j]) * 2 ** -11 + 2 ** -25);
      for (let i = 1; i < rows; i++) expect(values[i * cols + j]).toBe(stored);
    }
  });

  test('magnitudes below float16 normal range stay finite and close', () => {
    const rows = 64;
    const cols = 6;
    const data = randomMatrix(14, rows * cols, FLOAT16_MIN_NORMAL / 4);
    for (const options of [{ bits: 4 }, { bits: 2, outliers: true }, { method: 'rtn', bits: 3 }] as QuantizeOptions[]) {
      const layer = quantizeLayerSync({ data, rows, cols }, options.method === 'rtn' ? null : identityHessian(cols), options);
      const values = layer.dequantize();
      expectUsableLayer(layer);
      // Float16 subnormals are steps of 2^-24; with 2 bits per weight the
      // error is bounded by the column's range, not by the step.
      for (let k = 0; k < data.length; k++) expect(Math.abs(values[k] - data[k])).toBeLessThanOrEqual(FLOAT16_MIN_NORMAL / 4);
    }
  });

  test('values beyond float16 range saturate and never become Inf', () => {
    const rows = 20;
    const cols = 3;
    const data = randomMatrix(15, rows * cols, 1);
    for (let i = 0; i < rows; i++) {
      data[i * cols + 0] = i % 2 === 0 ? 1e6 : -1e6;
      data[i * cols + 1] = 3e38 * (i % 3 === 0 ? 1 : -1);
    }
    const columnGrids = [
      { bits: 2 }, { bits: 3, outliers: { highFraction: 0.1, lowFraction: 0.1 } }, { method: 'rtn', bits: 2, grid: 'column' },
    ] as QuantizeOptions[];
    for (const options of columnGrids) {
      const layer = quantizeLayerSync({ data, rows, cols }, options.method === 'rtn' ? null : identityHessian(cols), options);
      expectAllFinite(layer.codebooks, 'codebooks');
      expectAllFinite(layer.outlierValues, 'outlierValues');
      const values = layer.dequantize();
      for (let i = 0; i < rows; i++) {
        expect(Math.abs(values[i * cols + 0])).toBe(FLOAT16_MAX);
        expect(Math.abs(values[i * cols + 1])).toBe(FLOAT16_MAX);
        expect(Math.sign(values[i * cols + 0])).toBe(Math.sign(data[i * cols + 0]));
      }
    }
  });

  test('on the row grid, scales saturate at the float16 maximum and values stay finite', () => {
    const rows = 20;
    const cols = 3;
    const data = randomMatrix(15, rows * cols, 1);
    for (let i = 0; i < rows; i++) data[i * cols + 1] = 3e38 * (i % 3 === 0 ? 1 : -1);
    for (const method of ['rtn', 'gptq'] as const) {
      const layer = quantizeLayerSync({ data, rows, cols }, method === 'rtn' ? null : identityHessian(cols),
        { method, bits: 2 });
      expect(Array.from(layer.rowScales ?? [])).toEqual(new Array(rows).fill(FLOAT16_MAX));
      const values = layer.dequantize();
      expectAllFinite(values, 'dequantized');
      // The grid spans 3 scales, so the largest value is 3 * 65504.
      for (let i = 0; i < rows; i++) expect(Math.abs(values[i * cols + 1])).toBeLessThanOrEqual(3 * FLOAT16_MAX);
      for (let i = 0; i < rows; i++) expect(Math.sign(values[i * cols + 1])).toBe(Math.sign(data[i * cols + 1]));
    }
  });
});

describe('shapes that fit no tile, pack or block width', () => {
  const shapes: Array<[string, number, number, QuantizeOptions]> = [
    ['1 x 1', 1, 1, { bits: 2 }],
    ['3 x 10 at 3 bits', 3, 10, { bits: 3 }],
    ['17 rows', 17, 12, { targetBits: 2.5, outliers: true }],
    ['129 columns in blocks of 128', 5, 129, { bits: 3, blockSize: 128 }],
    ['3-bit codes across words', 11, 7, { bits: 3, actOrder: false }],
  ];

  // Y = X W_qᵀ in float64 from the dequantized weights; float32 kernels sum
  // `cols` products, so the bound is relative to the sum of magnitudes.
  function expectMatmulMatches(layer: QuantizedLayer, tokens: number): void {
    const { rows, cols } = layer;
    const x = randomMatrix(16, tokens * cols);
    const q = layer.dequantize();
    const packed = layer.pack({ threads: 2 });
    const y = packed.matmul(x, tokens);
    packed.release();
    for (let t = 0; t < tokens; t++) {
      for (let i = 0; i < rows; i++) {
        let expected = 0;
        let scale = 0;
        for (let j = 0; j < cols; j++) {
          expected += x[t * cols + j] * q[i * cols + j];
          scale += Math.abs(x[t * cols + j] * q[i * cols + j]);
        }
        expect(Math.abs(y[t * rows + i] - expected)).toBeLessThanOrEqual(1e-5 * scale + 1e-30);
      }
    }
  }

  test.each(shapes)('%s quantizes, packs, multiplies and round-trips', async (_name, rows, cols, options) => {
    const weight = { data: randomMatrix(rows * 1000 + cols, rows * cols), rows, cols };
    const layer = quantizeLayerSync(weight, randomHessian(cols, cols, cols + 3), options);
    expectUsableLayer(layer);
    for (const tokens of [1, 9]) expectMatmulMatches(layer, tokens);

    const folder = mkdtempSync(join(tmpdir(), 'claq-shapes-'));
    try {
      const path = join(folder, 'layer.safetensors');
      await saveQuantizedParts(path, layer);
      const back = await loadQuantizedParts(path);
      expect(Buffer.from(back.codes).equals(Buffer.from(layer.codes))).toBe(true);
      expect(Array.from(back.codebooks)).toEqual(Array.from(layer.codebooks));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('options are checked before any work', () => {
  const weight = { data: randomMatrix(17, 4 * 8), rows: 4, cols: 8 };
  const hessian = randomHessian(18, 8, 20);
  const cases: Array<[string, QuantizeOptions, RegExp]> = [
    ['unsupported bits', { bits: 5 }, /options\.bits must be 2, 3 or 4, received 5/],
    ['bits 1', { bits: 1 as never }, /options\.bits must be 2, 3 or 4, received 1/],
    ['target below the low width', { bits: 3, targetBits: 2.5 }, /options\.targetBits \(2\.5\) must be at least options\.bits \(3\)/],
    ['target above 4 bits', { targetBits: 4.5 }, /options\.targetBits must be a finite number in \[2, 4\], received 4\.5/],
    ['NaN target', { targetBits: NaN }, /options\.targetBits must be a finite number in \[2, 4\], received NaN/],
    ['high fraction of 0.5', { outliers: { highFraction: 0.5 } }, /options\.outliers\.highFraction must be a finite number in \[0, 0\.5\), received 0\.5/],
    ['negative low fraction', { outliers: { lowFraction: -0.01 } }, /options\.outliers\.lowFraction must be a finite number in \[0, 0\.5\), received -0\.01/],
    ['column fraction above 1', { outliers: { columnFraction: 1.5 } }, /options\.outliers\.columnFraction must be a finite number in \[0, 1\], received 1\.5/],
    ['negative damping', { damping: -0.01 }, /options\.damping must be a finite number in \[0, 1\], received -0\.01/],
    ['zero damping', { damping: 0 }, /options\.damping must be in \(0, 1\], received 0/],
    ['block size 0', { blockSize: 0 }, /options\.blockSize must be an integer in \[1, 65536\], received 0/],
    ['thread count 0', { threads: 0 }, /options\.threads must be an integer in \[1, 1024\], received 0/],
    ['NaN threshold', { outlierThreshold: NaN }, /options\.outlierThreshold must be a finite number .*received NaN/],
    ['zero threshold', { outlierThreshold: 0 }, /options\.outlierThreshold must be greater than 0, received 0/],
  ];

  test.each(cases)('%s is a RangeError naming the option', (_name, options, message) => {
    expect(() => quantizeLayer(weight, hessian, options)).toThrow(RangeError);
    expect(() => quantizeLayer(weight, hessian, options)).toThrow(message);
    expect(() => quantizeLayerSync(weight, hessian, options)).toThrow(message);
  });

  test('a bad option throws before the Hessian is waited for', () => {
    // addAsync leaves the Hessian busy; the synchronous throw proves that the
    // check ran before quantizeLayer awaited it.
    const busy = new Hessian(8);
    const pending = busy.addAsync(randomMatrix(19, 8 * 1000), 1000);
    expect(() => quantizeLayer(weight, busy, { threads: 0 })).toThrow(RangeError);
    return pending;
  });
});
