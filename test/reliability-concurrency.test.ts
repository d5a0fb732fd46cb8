// Concurrency and cancellation: a long quantization leaves the event loop
// free and stops on its AbortSignal without leaking threads or memory, and
// parallel calls give the same bytes as sequential ones. No assertion here
// depends on wall-clock time: progress counts and tick counts show the order
// of events, and bench/abort-latency.ts measures the latency itself.
import { readdirSync } from 'node:fs';

import { AbortError, Hessian, QuantizedLayer, packLayer, quantizeLayer, quantizeLayerSync } from '../lib/index.js';
import type { QuantizeOptions, QuantizeProgressEvent } from '../lib/index.js';

const LARGE = 4096;

/** Deterministic values in [-0.5, 0.5) from an integer hash (fast inside jest's VM context). */
function hashFill(length: number, salt: number): Float32Array {
  const out = new Float32Array(length);
  for (let k = 0; k < length; k++) out[k] = (Math.imul(k + salt * 0x9e3779b9, 0x85ebca6b) >>> 0) / 2 ** 32 - 0.5;
  return out;
}

function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

function layerBytes(layer: QuantizedLayer): Buffer {
  return Buffer.concat([
    Buffer.from(layer.codes),
    Buffer.from(layer.bitsPerColumn),
    Buffer.from(layer.permutation.buffer, layer.permutation.byteOffset, layer.permutation.byteLength),
    Buffer.from(layer.codebooks.buffer, layer.codebooks.byteOffset, layer.codebooks.byteLength),
    Buffer.from(layer.outlierRows.buffer, layer.outlierRows.byteOffset, layer.outlierRows.byteLength),
    Buffer.from(layer.outlierValues.buffer, layer.outlierValues.byteOffset, layer.outlierValues.byteLength),
  ]);
}

describe('long quantization of a 4096 x 4096 layer', () => {
  const weight = { data: hashFill(LARGE * LARGE, 1), rows: LARGE, cols: LARGE };
  const tokens = 64;
  const hessian = new Hessian(LARGE).add(hashFill(tokens * LARGE, 2), tokens, { threads: 2 });

  // Starts a run, counts setInterval ticks while it runs and aborts once
  // `abortAfterColumns` columns are done. Resolves with what was observed.
  async function abortedRun(abortAfterColumns: number): Promise<{
    error: unknown; ticks: number; ticksBeforeAbort: number; lastDone: number; events: QuantizeProgressEvent[];
  }> {
    const controller = new AbortController();
    const events: QuantizeProgressEvent[] = [];
    let ticks = 0;
    let ticksBeforeAbort = -1;
    const interval = setInterval(() => { ticks++; }, 1);
    const run = quantizeLayer(weight, hessian, {
      targetBits: 2.1,
      blockSize: 128,
      threads: 2,
      signal: controller.signal,
      onProgress: (event) => {
        events.push(event);
        if (event.type === 'columns' && event.done >= abortAfterColumns && !controller.signal.aborted) {
          ticksBeforeAbort = ticks;
          controller.abort();
        }
      },
    });
    let error: unknown;
    try {
      await run;
    } catch (caught) {
      error = caught;
    } finally {
      clearInterval(interval);
    }
    const columns = events.filter((event) => event.type === 'columns');
    const lastDone = columns.length === 0 ? 0 : (columns[columns.length - 1] as { done: number }).done;
    return { error, ticks, ticksBeforeAbort, lastDone, events };
  }

  test('keeps the event loop ticking and stops on abort', async () => {
    const first = await abortedRun(256);

    expect(first.error).toBeInstanceOf(AbortError);
    expect((first.error as AbortError).code).toBe('ABORT_ERR');
    // The loop ran timers while the engine worked: the factorization of a
    // 4096-wide Hessian alone spans many 1 ms intervals, and a blocked loop
    // would fire each interval at most once.
    expect(first.ticksBeforeAbort).toBeGreaterThanOrEqual(2);
    expect(first.lastDone).toBeGreaterThanOrEqual(256);
    expect(first.lastDone).toBeLessThan(LARGE);
    expect(first.events.some((event) => event.type === 'done')).toBe(false);
  }, 120_000);

  test('repeated aborts leak no threads or memory and a later run works', async () => {
    await abortedRun(128);
    const threadsAfterFirst = threadCount();
    const rssAfterFirst = process.memoryUsage().rss;
    for (let k = 0; k < 2; k++) {
      const run = await abortedRun(128);
      expect(run.error).toBeInstanceOf(AbortError);
    }

    expect(threadCount()).toBe(threadsAfterFirst);
    // One run allocates about 250 MB of native buffers (two copies of the
    // weights, the damped float32 Hessian and its inverse factor), so two
    // leaked runs would exceed the bound.
    expect(process.memoryUsage().rss - rssAfterFirst).toBeLessThan(256 * 2 ** 20);

    const small = { data: weight.data.subarray(0, 64 * 96), rows: 64, cols: 96 };
    const smallHessian = new Hessian(96).add(hashFill(200 * 96, 3), 200);
    const options: QuantizeOptions = { targetBits: 2.5, outliers: true, threads: 2 };
    const asyncLayer = await quantizeLayer(small, smallHessian, options);
    expect(layerBytes(asyncLayer).equals(layerBytes(quantizeLayerSync(small, smallHessian, options)))).toBe(true);
  }, 180_000);
});

describe('parallel calls', () => {
  const rows = 80;
  const cols = 144;
  const configs: QuantizeOptions[] = [
    { bits: 2 }, { bits: 3, threads: 1 }, { targetBits: 2.1 }, { targetBits: 3.3, ranking: 'hessian' },
    { targetBits: 2.05, outliers: true }, { method: 'gptq', bits: 4 }, { bits: 4, actOrder: false, blockSize: 16 },
    { targetBits: 2.5, outliers: true, threads: 2 },
  ];
  const inputs = configs.map((_, k) => ({
    weight: { data: hashFill(rows * cols, 10 + k), rows, cols },
    hessian: new Hessian(cols).add(hashFill(300 * cols, 20 + k), 300),
  }));

  test('eight quantizeLayer calls equal sequential runs', async () => {
    const parallel = await Promise.all(configs.map((options, k) => quantizeLayer(inputs[k].weight, inputs[k].hessian, options)));
    for (let k = 0; k < configs.length; k++) {
      const sequential = quantizeLayerSync(inputs[k].weight, inputs[k].hessian, configs[k]);
      expect([k, layerBytes(parallel[k]).equals(layerBytes(sequential))]).toEqual([k, true]);
    }
  });

  test('eight matmulAsync calls equal sequential matmul', async () => {
    const layers = inputs.map(({ weight, hessian }, k) => quantizeLayerSync(weight, hessian, configs[k]).pack({ threads: 2 }));
    const shared = layers[0];
    const tokens = [1, 3, 8, 9, 16, 17, 33, 64];
    const xs = tokens.map((t, k) => hashFill(t * cols, 40 + k));

    // Eight calls on one layer at once, then one call on each of eight layers.
    const onShared = await Promise.all(xs.map((x, k) => shared.matmulAsync(x, tokens[k])));
    const onEach = await Promise.all(layers.map((layer, k) => layer.matmulAsync(xs[k], tokens[k])));
    for (let k = 0; k < xs.length; k++) {
      const expectedShared = Buffer.from(shared.matmul(xs[k], tokens[k]).buffer);
      const expectedEach = Buffer.from(layers[k].matmul(xs[k], tokens[k]).buffer);
      expect([k, Buffer.from(onShared[k].buffer).equals(expectedShared)]).toEqual([k, true]);
      expect([k, Buffer.from(onEach[k].buffer).equals(expectedEach)]).toEqual([k, true]);
    }
    for (const layer of layers) layer.release();
  });

  test('matmulAsync and release interleave safely', async () => {
    const parts = quantizeLayerSync(inputs[0].weight, inputs[0].hessian, configs[0]);
    const x = hashFill(32 * cols, 50);
    const expected = Buffer.from(parts.pack().matmul(x, 32).buffer);
    const runs: Array<Promise<Float32Array>> = [];
    for (let k = 0; k < 8; k++) {
      const layer = packLayer(parts);
      runs.push(layer.matmulAsync(x, 32));
      layer.release();
    }
    for (const y of await Promise.all(runs)) expect(Buffer.from(y.buffer).equals(expected)).toBe(true);
  });
});
