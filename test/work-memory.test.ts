// The engine's work-buffer cache: a quantization that reuses buffers left
// dirty by another layer gives the same bytes as one on fresh memory, and
// releaseWorkMemory empties the cache.
import {
  Hessian, cachedWorkMemory, quantizeLayer, quantizeLayerSync, releaseWorkMemory,
} from '../lib/index.js';
import type { QuantizedLayer } from '../lib/index.js';
import { syntheticLayer } from '../lib/cli/synthetic-layer.js';

// 1024 columns make U 4 MiB and the transposed weights 2 MiB: both cached.
function layer(seed: number): { weight: { data: Float32Array; rows: number; cols: number }; hessian: Hessian } {
  const generated = syntheticLayer({ rows: 512, cols: 1024, tokens: 1100, seed });
  return {
    weight: { data: generated.weight, rows: generated.rows, cols: generated.cols },
    hessian: new Hessian(generated.cols).add(generated.activations, generated.tokens),
  };
}

function bytesOf(result: QuantizedLayer): Buffer {
  return Buffer.concat([
    Buffer.from(result.codes),
    Buffer.from(result.codebooks.buffer, result.codebooks.byteOffset, result.codebooks.byteLength),
    Buffer.from(result.outlierValues.buffer, result.outlierValues.byteOffset, result.outlierValues.byteLength),
    Buffer.from(result.rowScales === undefined ? new Uint8Array(0) : new Uint8Array(result.rowScales.buffer,
      result.rowScales.byteOffset, result.rowScales.byteLength)),
  ]);
}

test.each([
  ['claq AP 2.05 + OR', { targetBits: 2.05, outliers: true, threads: 2 }],
  ['gptq 3 bits, row grid', { method: 'gptq', bits: 3, threads: 2 }],
  ['rtn 4 bits, row grid', { method: 'rtn', bits: 4, threads: 2 }],
] as const)('%s on reused, dirty work buffers matches a run on fresh memory', async (_name, config) => {
  const first = layer(11);
  const other = layer(12);

  releaseWorkMemory();
  expect(cachedWorkMemory()).toBe(0);
  const fresh = bytesOf(quantizeLayerSync(first.weight, first.hessian, config));
  expect(cachedWorkMemory()).toBeGreaterThanOrEqual(2 * 2 ** 20);

  quantizeLayerSync(other.weight, other.hessian, config);
  const reusedSync = bytesOf(quantizeLayerSync(first.weight, first.hessian, config));
  const reusedAsync = bytesOf(await quantizeLayer(first.weight, first.hessian, config));
  expect(reusedSync.equals(fresh)).toBe(true);
  expect(reusedAsync.equals(fresh)).toBe(true);
});

test('releaseWorkMemory frees the cached buffers and reports their size', () => {
  const { weight, hessian } = layer(13);
  quantizeLayerSync(weight, hessian, { targetBits: 2.05, outliers: true });
  const held = cachedWorkMemory();
  expect(held).toBeGreaterThan(0);
  expect(releaseWorkMemory()).toBe(held);
  expect(cachedWorkMemory()).toBe(0);
  expect(releaseWorkMemory()).toBe(0);
});
