// quantizeLayer reads the Hessian in place and copies only the weights: the
// calls on one Hessian are ordered (add throws, addAsync waits, quantizations
// share it), and the caller's weight buffer is free once the call returns.
import { ClaqError, Hessian, QuantizedLayer, quantizeLayer, quantizeLayerSync } from '../lib/index.js';
import type { QuantizeOptions } from '../lib/index.js';

const rows = 48;
const cols = 80;
const options: QuantizeOptions = { targetBits: 2.5, outliers: true, threads: 2 };

/** Deterministic values in [-0.5, 0.5) from an integer hash. */
function hashFill(length: number, salt: number): Float32Array {
  const out = new Float32Array(length);
  for (let k = 0; k < length; k++) out[k] = (Math.imul(k + salt * 0x9e3779b9, 0x85ebca6b) >>> 0) / 2 ** 32 - 0.5;
  return out;
}

function layerBytes(layer: QuantizedLayer): Buffer {
  const view = (array: ArrayBufferView): Buffer => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  return Buffer.concat([view(layer.codes), view(layer.bitsPerColumn), view(layer.permutation),
    view(layer.codebooks), view(layer.outlierRows), view(layer.outlierCols), view(layer.outlierValues)]);
}

const weight = { data: hashFill(rows * cols, 1), rows, cols };
const first = hashFill(200 * cols, 2);
const second = hashFill(150 * cols, 3).map((x) => 4 * x);

/** A Hessian over the first batch only, and one over both: the references. */
const before = new Hessian(cols).add(first, 200);
const after = new Hessian(cols).add(first, 200).add(second, 150);

describe('a Hessian read by a running quantization', () => {
  test('add throws ERR_CLAQ_BUSY and addAsync waits for the quantization', async () => {
    const hessian = new Hessian(cols).add(first, 200);
    const order: string[] = [];
    const run = quantizeLayer(weight, hessian, options).then((layer) => { order.push('quantize'); return layer; });

    expect(hessian.busy).toBe(true);
    let error: unknown;
    try {
      hessian.add(second, 150);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ClaqError);
    expect((error as ClaqError).code).toBe('ERR_CLAQ_BUSY');
    expect((error as ClaqError).message).toMatch(/Hessian\.add: a quantizeLayer call is reading this Hessian/);
    const adding = hessian.addAsync(second, 150).then(() => { order.push('addAsync'); });

    const layer = await run;
    await adding;
    expect(order).toEqual(['quantize', 'addAsync']);
    // The quantization saw the first batch only; the batch is in afterwards.
    expect(layerBytes(layer).equals(layerBytes(quantizeLayerSync(weight, before, options)))).toBe(true);
    expect(hessian.samples).toBe(350);
    expect(Buffer.from(hessian.gram().buffer).equals(Buffer.from(after.gram().buffer))).toBe(true);
    expect(hessian.busy).toBe(false);
    expect(() => hessian.add(second, 150)).not.toThrow();
  });

  test('add works as soon as the awaited quantization returns', async () => {
    const hessian = new Hessian(cols).add(first, 200);
    await quantizeLayer(weight, hessian, options);
    expect(hessian.busy).toBe(false);
    expect(() => hessian.add(second, 150)).not.toThrow();
  });

  test('a failed quantization ends its read', async () => {
    const hessian = new Hessian(cols).add(first, 200);
    const onProgress = (): void => { throw new Error('stop here'); };
    await expect(quantizeLayer(weight, hessian, { ...options, onProgress })).rejects.toThrow('stop here');
    expect(hessian.busy).toBe(false);
    expect(() => hessian.add(second, 150)).not.toThrow();
  });

  test('an aborted quantization ends its read', async () => {
    const hessian = new Hessian(cols).add(first, 200);
    const controller = new AbortController();
    const run = quantizeLayer(weight, hessian, { ...options, signal: controller.signal });
    controller.abort();
    // A layer this small may finish before the engine polls the signal.
    await run.catch(() => undefined);
    expect(hessian.busy).toBe(false);
    expect(() => hessian.add(second, 150)).not.toThrow();
  });

  test('quantizations of one Hessian run together and match sequential runs', async () => {
    const hessian = new Hessian(cols).add(first, 200);
    const configs: QuantizeOptions[] = [options, { bits: 3 }, { method: 'gptq', bits: 4 }, { targetBits: 2.1, ranking: 'hessian' }];
    const runs = configs.map((config) => quantizeLayer(weight, hessian, config));
    // The synchronous twin reads alongside them.
    const sync = configs.map((config) => quantizeLayerSync(weight, hessian, config));
    const layers = await Promise.all(runs);
    for (let k = 0; k < configs.length; k++) {
      expect([k, layerBytes(layers[k]).equals(layerBytes(sync[k]))]).toEqual([k, true]);
      expect([k, layerBytes(layers[k]).equals(layerBytes(quantizeLayerSync(weight, before, configs[k])))]).toEqual([k, true]);
    }
  });

  test('settled waits for the running quantizations', async () => {
    const hessian = new Hessian(cols).add(first, 200);
    let done = false;
    const run = quantizeLayer(weight, hessian, options).then(() => { done = true; });
    await hessian.settled();
    expect(done).toBe(true);
    expect(hessian.busy).toBe(false);
    await run;
  });

  test('a Gram matrix that overflows once scaled is rejected', async () => {
    // One sample gives the scale 2, so the finite entry 1e308 becomes Infinity.
    const gram = new Float64Array(cols * cols);
    for (let j = 0; j < cols; j++) gram[j * cols + j] = 1;
    gram[3 * cols + 3] = 1e308;
    const hessian = Hessian.fromGram(gram, cols, 1);
    const error: unknown = await quantizeLayer(weight, hessian, options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/hessian must be finite, found inf at row 3, column 3/);
  });

  test('a quantization called after addAsync sees its batch', async () => {
    const hessian = new Hessian(cols).add(first, 200);
    const adding = hessian.addAsync(second, 150);
    const layer = await quantizeLayer(weight, hessian, options);
    await adding;
    expect(layerBytes(layer).equals(layerBytes(quantizeLayerSync(weight, after, options)))).toBe(true);
  });
});

describe('the weight buffer', () => {
  test('may be overwritten with NaN as soon as the call returns', async () => {
    const data = weight.data.slice();
    const run = quantizeLayer({ data, rows, cols }, before, options);
    data.fill(NaN);
    expect(layerBytes(await run).equals(layerBytes(quantizeLayerSync(weight, before, options)))).toBe(true);
  });

  test('a NaN is reported synchronously whatever the Hessian is doing', () => {
    const data = weight.data.slice();
    data[2 * cols + 5] = NaN;
    const message = 'weight.data must be finite, but element [row 2, column 5] (index 165) is NaN';
    // Idle: found while the addon copies the weights.
    expect(() => quantizeLayer({ data, rows, cols }, before, options)).toThrow(RangeError);
    expect(() => quantizeLayer({ data, rows, cols }, before, options)).toThrow(message);
    // Without samples, and with an aborted signal: the rejection comes after the check.
    expect(() => quantizeLayer({ data, rows, cols }, new Hessian(cols), options)).toThrow(message);
    expect(() => quantizeLayer({ data, rows, cols }, before, { signal: AbortSignal.abort() })).toThrow(message);
    // An addAsync pending: checked now, copied after it.
    const busy = new Hessian(cols);
    const adding = busy.addAsync(first, 200);
    expect(() => quantizeLayer({ data, rows, cols }, busy, options)).toThrow(message);
    return adding;
  });

  test('results own their buffers', async () => {
    const layer = await quantizeLayer(weight, before, options);
    expect(layer.codes.byteOffset).toBe(0);
    expect(layer.codes.buffer.byteLength).toBe(rows * cols);
    expect(layer.codebooks.buffer).not.toBe(layer.codes.buffer);
    // Writable like any array: the copy the caller gets is its own.
    layer.codes[0] ^= 1;
    const again = await quantizeLayer(weight, before, options);
    expect(layer.codes[0] ^ 1).toBe(again.codes[0]);
  });
});
