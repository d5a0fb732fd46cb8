// quantizeLayer end to end on generated layers: async against sync, abort,
// progress order, dequantize against an independent rebuild, edge cases, and
// the native checks that guard direct calls to the addon.
import {
  AbortError, Hessian, QuantizedLayer, quantizeLayer, quantizeLayerSync, relativeOutputError,
} from '../lib/index.js';
import type { QuantizeOptions, QuantizeProgressEvent } from '../lib/index.js';
import { fromNativeError } from '../lib/errors.js';
import { native } from '../lib/native.js';
import { syntheticLayer } from '../lib/cli/synthetic-layer.js';

const small = syntheticLayer({ rows: 96, cols: 160, tokens: 400, seed: 7 });
const smallWeight = { data: small.weight, rows: small.rows, cols: small.cols };
const smallHessian = new Hessian(small.cols).add(small.activations, small.tokens);

const configs: Array<[string, QuantizeOptions]> = [
  ['rtn 3 bits', { method: 'rtn', bits: 3 }],
  ['gptq 2 bits', { method: 'gptq', bits: 2 }],
  ['gptq 3 bits, column grid', { method: 'gptq', bits: 3, grid: 'column' }],
  ['gptq column grid AP 2.5 + OR', { method: 'gptq', grid: 'column', targetBits: 2.5, outliers: true }],
  ['claq 4 bits', { bits: 4 }],
  ['claq AP 2.1', { targetBits: 2.1 }],
  ['claq AP 3.3 hessian ranking', { targetBits: 3.3, ranking: 'hessian' }],
  ['claq AP 2.05 + OR, no act order', { targetBits: 2.05, outliers: true, actOrder: false, blockSize: 32 }],
];

function expectSameLayer(a: QuantizedLayer, b: QuantizedLayer): void {
  expect(Buffer.from(a.codes).equals(Buffer.from(b.codes))).toBe(true);
  expect(Buffer.from(a.codebooks.buffer, a.codebooks.byteOffset, a.codebooks.byteLength)
    .equals(Buffer.from(b.codebooks.buffer, b.codebooks.byteOffset, b.codebooks.byteLength))).toBe(true);
  expect(Array.from(a.bitsPerColumn)).toEqual(Array.from(b.bitsPerColumn));
  expect(Array.from(a.permutation)).toEqual(Array.from(b.permutation));
  expect(Array.from(a.codebookOffsets)).toEqual(Array.from(b.codebookOffsets));
  expect(Array.from(a.outlierRows)).toEqual(Array.from(b.outlierRows));
  expect(Array.from(a.outlierCols)).toEqual(Array.from(b.outlierCols));
  expect(Array.from(a.outlierValues)).toEqual(Array.from(b.outlierValues));
  expect(a.rowScales === undefined ? undefined : Array.from(a.rowScales))
    .toEqual(b.rowScales === undefined ? undefined : Array.from(b.rowScales));
  expect(a.rowZeros === undefined ? undefined : Array.from(a.rowZeros))
    .toEqual(b.rowZeros === undefined ? undefined : Array.from(b.rowZeros));
  expect(a.stats.loss).toBe(b.stats.loss);
  expect(a.stats.damping).toBe(b.stats.damping);
}

function hashFill(length: number, salt: number): Float32Array {
  const out = new Float32Array(length);
  for (let k = 0; k < length; k++) out[k] = (Math.imul(k + salt * 0x9e3779b9, 0x85ebca6b) >>> 0) / 2 ** 32 - 0.5;
  return out;
}

// Rebuilds W_q from the parts with no shared code: centroid per code (on a
// row grid scaled and shifted by the row's scale and zero), then outliers by
// (row, column).
function rebuild(layer: QuantizedLayer): Float64Array {
  const out = new Float64Array(layer.rows * layer.cols);
  for (let j = 0; j < layer.cols; j++) {
    const first = layer.codebookOffsets[j];
    for (let i = 0; i < layer.rows; i++) {
      const centroid = layer.codebooks[first + layer.codes[i * layer.cols + j]];
      out[i * layer.cols + j] = layer.rowScales === undefined || layer.rowZeros === undefined
        ? centroid : layer.rowScales[i] * (centroid - layer.rowZeros[i]);
    }
  }
  for (let k = 0; k < layer.outlierValues.length; k++) {
    out[layer.outlierRows[k] * layer.cols + layer.outlierCols[k]] = layer.outlierValues[k];
  }
  return out;
}

describe('quantizeLayer', () => {
  test.each(configs)('%s: async matches sync byte for byte', async (_name, options) => {
    const sync = quantizeLayerSync(smallWeight, smallHessian, options);
    const async = await quantizeLayer(smallWeight, smallHessian, options);
    expect(async).toBeInstanceOf(QuantizedLayer);
    expect(async.codes).toBeInstanceOf(Uint8Array);
    expectSameLayer(async, sync);
  });

  test.each(configs)('%s: dequantize matches the parts', (_name, options) => {
    const layer = quantizeLayerSync(smallWeight, smallHessian, options);
    expect(Array.from(layer.dequantize())).toEqual(Array.from(rebuild(layer)));
    expect(() => QuantizedLayer.fromParts(layer.toParts())).not.toThrow();
  });

  test('weights are copied at the call', async () => {
    const data = small.weight.slice();
    const pending = quantizeLayer({ data, rows: small.rows, cols: small.cols }, smallHessian, { bits: 3 });
    data.fill(0);
    expectSameLayer(await pending, quantizeLayerSync(smallWeight, smallHessian, { bits: 3 }));
  });

  test('reruns give identical bytes', () => {
    const options: QuantizeOptions = { targetBits: 2.1, outliers: true, threads: 2 };
    expectSameLayer(quantizeLayerSync(smallWeight, smallHessian, options),
      quantizeLayerSync(smallWeight, smallHessian, { ...options, threads: 1 }));
  });

  test('stats describe the result', () => {
    const layer = quantizeLayerSync(smallWeight, smallHessian, { targetBits: 2.1, outliers: true });
    const high = Array.from(layer.bitsPerColumn).filter((b) => b === 4).length;
    expect(high).toBe(Math.round(small.cols * 0.1 / 2));
    expect(layer.stats.codeBits).toBeCloseTo(2 + 2 * high / small.cols, 12);
    expect(layer.stats.outlierCount).toBe(layer.outlierValues.length);
    expect(layer.stats.outlierCount).toBeGreaterThan(0);
    expect(layer.stats.storageBits).toBeGreaterThan(layer.stats.codeBits);
    expect(layer.stats.damping).toBeGreaterThanOrEqual(0.01);
    expect(layer.stats.seconds).toBeGreaterThan(0);
  });

  test('the time split covers no more than the whole call', () => {
    const layer = quantizeLayerSync(smallWeight, smallHessian, { targetBits: 2.1, outliers: true });
    const { seconds, factorizationSeconds, kmeansSeconds, reservationSeconds, assignmentSeconds, updateSeconds } =
      layer.stats;
    for (const part of [factorizationSeconds, kmeansSeconds, reservationSeconds, assignmentSeconds, updateSeconds]) {
      expect(part).toBeGreaterThan(0);
    }
    const parts = factorizationSeconds + kmeansSeconds + reservationSeconds + assignmentSeconds + updateSeconds;
    expect(parts).toBeLessThanOrEqual(seconds);
  });

  test('progress events arrive in order', async () => {
    const events: QuantizeProgressEvent[] = [];
    await quantizeLayer(smallWeight, smallHessian, { bits: 3, blockSize: 16, onProgress: (e) => events.push(e) });
    expect(events[0]).toEqual({ type: 'start', rows: small.rows, cols: small.cols, method: 'claq' });
    expect(events[events.length - 1].type).toBe('done');
    const columns = events.filter((e) => e.type === 'columns') as Array<{ done: number; total: number }>;
    expect(columns.length).toBe(events.length - 2);
    expect(columns[columns.length - 1]).toEqual({ type: 'columns', done: small.cols, total: small.cols });
    for (let k = 1; k < columns.length; k++) expect(columns[k].done).toBeGreaterThan(columns[k - 1].done);
  });

  test('a throwing onProgress rejects with its error', async () => {
    const failure = new Error('progress sink failed');
    await expect(quantizeLayer(smallWeight, smallHessian, {
      bits: 2, onProgress: () => { throw failure; },
    })).rejects.toBe(failure);
  });

  test('abort stops a long run with AbortError', async () => {
    // A hash fill: syntheticLayer is slow inside jest's VM context.
    const large = { rows: 2048, cols: 2048, tokens: 256, weight: hashFill(2048 * 2048, 1), activations: hashFill(256 * 2048, 2) };
    const hessian = new Hessian(large.cols).add(large.activations, large.tokens);
    const controller = new AbortController();
    const events: QuantizeProgressEvent[] = [];
    const run = quantizeLayer({ data: large.weight, rows: large.rows, cols: large.cols }, hessian, {
      blockSize: 16,
      signal: controller.signal,
      onProgress: (event) => {
        events.push(event);
        if (event.type === 'start') controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    await expect(run).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    const last = events[events.length - 1];
    expect(last.type).not.toBe('done');
    if (last.type === 'columns') expect(last.done).toBeLessThan(large.cols);
  });

  test('an all-zero layer comes back zero', () => {
    const zero = { data: new Float32Array(small.rows * small.cols), rows: small.rows, cols: small.cols };
    for (const [, options] of configs) {
      const layer = quantizeLayerSync(zero, smallHessian, options);
      const values = layer.dequantize();
      expect(values.every((v) => v === 0)).toBe(true);
      expect(Number.isFinite(layer.stats.loss)).toBe(true);
    }
  });

  test('dead inputs are counted', () => {
    const activations = small.activations.slice();
    for (let t = 0; t < small.tokens; t++) activations[t * small.cols + 5] = 0;
    const hessian = new Hessian(small.cols).add(activations, small.tokens);
    const layer = quantizeLayerSync(smallWeight, hessian, { bits: 3 });
    expect(layer.stats.deadColumns).toBe(1);
    for (let i = 0; i < small.rows; i++) expect(layer.dequantize()[i * small.cols + 5]).toBe(0);
  });

  test('pack computes x W_q^T', () => {
    const layer = quantizeLayerSync(smallWeight, smallHessian, { targetBits: 2.1, outliers: true });
    const tokens = 3;
    const x = small.activations.subarray(0, tokens * small.cols);
    const y = layer.pack({ threads: 1 }).matmul(x, tokens);
    const q = layer.dequantize();
    // Float32 sums over 160 products: compare relative to the row's scale.
    for (let t = 0; t < tokens; t++) {
      for (let i = 0; i < small.rows; i++) {
        let expected = 0;
        let scale = 0;
        for (let j = 0; j < small.cols; j++) {
          expected += x[t * small.cols + j] * q[i * small.cols + j];
          scale += Math.abs(x[t * small.cols + j] * q[i * small.cols + j]);
        }
        expect(Math.abs(y[t * small.rows + i] - expected)).toBeLessThanOrEqual(1e-5 * scale);
      }
    }
  });

  test('rtn works without a Hessian', async () => {
    const layer = await quantizeLayer(smallWeight, null, { method: 'rtn', bits: 4 });
    expect(layer.stats.codeBits).toBe(4);
    expect(relativeOutputError(smallWeight, layer, smallHessian)).toBeLessThan(0.05);
  });

  test('an empty Hessian is rejected', () => {
    expect(() => quantizeLayerSync(smallWeight, new Hessian(small.cols), { bits: 2 })).toThrow(RangeError);
    expect(() => quantizeLayerSync(smallWeight, new Hessian(small.cols), { bits: 2 })).toThrow(/hessian has no samples/);
  });

  test('a Hessian of the wrong width is rejected', () => {
    expect(() => quantizeLayer(smallWeight, new Hessian(3), { bits: 2 })).toThrow(/hessian\.cols must equal weight\.cols \(160\), received 3/);
  });
});

describe('relativeOutputError', () => {
  test('matches ||XW^T - XQ^T||^2 / ||XW^T||^2 computed from X', () => {
    const layer = quantizeLayerSync(smallWeight, smallHessian, { bits: 2 });
    const q = layer.dequantize();
    const { rows, cols, tokens, activations, weight } = small;
    let error = 0;
    let reference = 0;
    for (let t = 0; t < tokens; t++) {
      for (let i = 0; i < rows; i++) {
        let y = 0;
        let yq = 0;
        for (let j = 0; j < cols; j++) {
          y += activations[t * cols + j] * weight[i * cols + j];
          yq += activations[t * cols + j] * q[i * cols + j];
        }
        error += (y - yq) ** 2;
        reference += y ** 2;
      }
    }
    expect(relativeOutputError(smallWeight, layer, smallHessian)).toBeCloseTo(error / reference, 5);
    expect(relativeOutputError(smallWeight, small.weight, smallHessian)).toBe(0);
  });
});

describe('native checks', () => {
  const options = {
    method: 'claq', grid: 'column', lowBits: 2, highBits: 2, targetBits: 2, ranking: 'outlier-order',
    outlierColumnFraction: 0.1,
    outlierHighFraction: 0, outlierLowFraction: 0, outlierThreshold: 13, actOrder: true, blockSize: 128,
    damping: 0.01, threads: 1,
  } as const;
  const handle = smallHessian.nativeHandle();

  // Errors made by the addon come from the main realm, so the tests check
  // name and message rather than instanceof.
  function nativeError(call: () => unknown): { name: string; message: string } {
    try {
      call();
    } catch (error) {
      return error as { name: string; message: string };
    }
    throw new Error('expected the call to throw');
  }

  test('a short weight array', () => {
    const error = nativeError(() => native.quantizeLayerSync(new Float32Array(5), 96, 160, handle, options));
    expect(error.name).toBe('RangeError');
    expect(error.message).toMatch(/weight\.data must have 15360 elements, received 5/);
  });

  test('a forged Hessian', () => {
    const error = nativeError(() => native.quantizeLayerSync(small.weight, 96, 160, {} as never, options));
    expect(error.name).toBe('TypeError');
    expect(error.message).toMatch(/quantizeLayerSync: hessian must be a Hessian/);
  });

  test('a bad option', () => {
    const error = nativeError(() => native.quantizeLayerSync(small.weight, 96, 160, handle,
      { ...options, lowBits: 3, highBits: 2 }));
    expect(error.name).toBe('RangeError');
    expect(error.message).toMatch(/lowBits \(3\) must not exceed highBits \(2\)/);
  });

  test('grid checks in the addon', () => {
    const unknown = nativeError(() => native.quantizeLayerSync(small.weight, 96, 160, handle,
      { ...options, grid: 'group' as never }));
    expect(unknown.name).toBe('RangeError');
    expect(unknown.message).toMatch(/options\.grid must be 'row' or 'column', received 'group'/);

    const claq = nativeError(() => native.quantizeLayerSync(small.weight, 96, 160, handle, { ...options, grid: 'row' }));
    expect(claq.message).toMatch(/grid 'row' applies to the gptq and rtn methods/);

    const mixed = nativeError(() => native.quantizeLayerSync(small.weight, 96, 160, handle,
      { ...options, method: 'gptq', grid: 'row', highBits: 4, targetBits: 2.5 }));
    expect(mixed.message).toMatch(/grid 'row' needs one bit width for every column/);

    const reserved = nativeError(() => native.quantizeLayerSync(small.weight, 96, 160, handle,
      { ...options, method: 'rtn', grid: 'row', outlierLowFraction: 0.01 }));
    expect(reserved.message).toMatch(/grid 'row' does not combine with outlier reservation/);
  });

  test('a missing option', () => {
    const error = nativeError(() => native.quantizeLayerSync(small.weight, 96, 160, handle,
      { ...options, damping: undefined } as never));
    expect(error.name).toBe('TypeError');
    expect(error.message).toMatch(/options\.damping must be a number, received undefined/);
  });

  test('fromNativeError gives this realm\'s classes', () => {
    const raw = nativeError(() => native.quantizeLayerSync(small.weight, 96, 160, handle,
      { ...options, lowBits: 3, highBits: 2 }));
    expect(raw).not.toBeInstanceOf(RangeError);
    const error = fromNativeError(raw);
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(raw.message);
    expect((raw as { code?: string }).code).toBe('ERR_CLAQ_INVALID_ARGUMENT');
  });
});
