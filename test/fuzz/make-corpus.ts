// Writes the seed corpus of the fuzz targets into fuzz/corpus/ (committed).
// Rerun after a format change: node dist/test/fuzz/make-corpus.js
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DTYPES, DTYPE_SIZES, saveClaqCheckpoint, writeSafetensors } from '../../lib/index.js';
import { makeParts, makeRowGridParts } from '../checkpoint-helpers.js';

const root = fileURLToPath(new URL('../../../fuzz/corpus/', import.meta.url));

async function main(): Promise<void> {
  const plain = join(root, 'safetensors');
  const claq = join(root, 'claq');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(plain, { recursive: true });
  mkdirSync(claq, { recursive: true });

  await writeSafetensors(join(plain, 'every-dtype.safetensors'), DTYPES.map((dtype, k) => ({
    name: `t.${dtype.toLowerCase()}`, dtype, shape: [2], data: new Uint8Array(2 * DTYPE_SIZES[dtype]).fill(k + 1),
  })), { metadata: { format: 'pt', note: 'seed' } });
  await writeSafetensors(join(plain, 'scalar-and-empty.safetensors'), [
    { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    { name: 'scalar', dtype: 'F64', shape: [], data: new Float64Array([Math.PI]) },
    { name: 'also-empty', dtype: 'I64', shape: [3, 0], data: new BigInt64Array(0) },
  ]);
  await writeSafetensors(join(plain, 'no-tensors.safetensors'), []);
  await writeSafetensors(join(plain, 'metadata-only.safetensors'), [], { metadata: new Map([['__proto__', 'x'], ['ü', '✓']]) });
  await writeSafetensors(join(plain, 'halves.safetensors'), [
    { name: 'h', dtype: 'F16', shape: [2, 3], data: new Float32Array([0, -0, NaN, Infinity, 6e-8, 65504]) },
    { name: 'b', dtype: 'BF16', shape: [3, 2], data: new Float32Array([1e-40, -1, NaN, -Infinity, 3.5, 1e38]) },
    { name: 'f', dtype: 'F32', shape: [2, 2, 1], data: new Float32Array([1, 2, 3, 4]) },
  ]);

  await saveClaqCheckpoint(join(claq, 'one-layer.safetensors'), {
    layers: [['layer', makeParts(1, 8, 6)]],
    tensors: [{ name: 'norm.weight', dtype: 'F32', shape: [6], data: new Float32Array(6).fill(1) }],
  });
  await saveClaqCheckpoint(join(claq, 'widths-1-and-8.safetensors'), {
    layers: [['a.b', makeParts(2, 5, 3, [1, 8])]],
  });
  await saveClaqCheckpoint(join(claq, 'two-layers.safetensors'), {
    layers: [['q', makeParts(3, 4, 4, [2])], ['k', makeParts(4, 3, 5, [3, 4])]],
    metadata: { source: 'seed' },
  });
  await saveClaqCheckpoint(join(claq, 'row-grid-and-codebooks.safetensors'), {
    layers: [['g', makeRowGridParts(5, 7, 5, 3)], ['c', makeParts(6, 4, 3, [2])]],
  });
  await saveClaqCheckpoint(join(claq, 'row-grid-2-bit.safetensors'), {
    layers: [['layer', makeRowGridParts(6, 9, 4, 2)]],
  });

  for (const folder of [plain, claq]) {
    for (const name of readdirSync(folder)) console.log(`${join(folder, name)}: ${statSync(join(folder, name)).size} bytes`);
  }
}

await main();
