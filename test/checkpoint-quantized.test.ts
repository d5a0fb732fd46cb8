// Real quantizer output through the checkpoint format. Stories260K layers
// quantized with every demo configuration (RTN, GPTQ, CLAQ, AP, OR) are saved
// in one claq checkpoint. They must load back field for field, pass the
// loader's validation, and report the same code bits.
import { join } from 'node:path';

import { ClaqCheckpoint, codeBits, quantizeLayer, saveClaqCheckpoint } from '../lib/index.js';
import type { QuantizedParts } from '../lib/index.js';
import { CalibratedCheckpoint } from '../lib/cli/calibrated-checkpoint.js';
import { DEMO_CONFIGS } from '../lib/cli/demo-configs.js';
import { inspectCheckpoint } from '../lib/cli/inspect.js';
import { storiesDir, testWithStories } from './data-dir.js';
import { temporaryFolder } from './safetensors-helpers.js';

const LAYERS = ['model.layers.0.self_attn.k_proj', 'model.layers.2.mlp.down_proj'];

const FIELDS = ['bitsPerColumn', 'permutation', 'codes', 'codebookOffsets', 'codebooks',
  'outlierRows', 'outlierCols', 'outlierValues'] as const;

describe('claq checkpoint of quantized stories260K layers', () => {
  const folder = temporaryFolder('quantized');
  afterAll(() => folder.remove());

  testWithStories('every demo configuration round-trips', async () => {
    const calibrated = await CalibratedCheckpoint.open(storiesDir() as string);
    const layers = new Map<string, QuantizedParts>();
    try {
      for (const name of LAYERS) {
        const { weight, hessian } = await calibrated.layer(name);
        for (const config of DEMO_CONFIGS) {
          layers.set(`${name}.${config.label.replace(/\W+/g, '_')}`, await quantizeLayer(weight, hessian, config.options));
        }
      }
    } finally {
      await calibrated.close();
    }
    expect([...layers.values()].some((parts) => parts.outlierValues.length > 0)).toBe(true);

    const path = join(folder.path, 'model.safetensors');
    await saveClaqCheckpoint(path, { layers });
    const checkpoint = await ClaqCheckpoint.open(path);
    try {
      expect(checkpoint.layers.size).toBe(layers.size);
      for (const [name, expected] of layers) {
        const loaded = await checkpoint.loadLayer(name);
        expect(loaded.rows).toBe(expected.rows);
        expect(loaded.cols).toBe(expected.cols);
        for (const field of FIELDS) {
          const same = Buffer.from(loaded[field].buffer, loaded[field].byteOffset, loaded[field].byteLength)
            .equals(Buffer.from(expected[field].buffer, expected[field].byteOffset, expected[field].byteLength));
          if (!same) throw new Error(`${name}: ${field} differs after the round trip`);
        }
        expect(codeBits(loaded)).toBe(codeBits(expected));
      }
    } finally {
      await checkpoint.close();
    }

    const report = await inspectCheckpoint(path, { verify: true });
    expect(report.verified).toBe(true);
    for (const layer of report.layers) expect(layer.codeBits).toBe(codeBits(layers.get(layer.name) as QuantizedParts));
  });
});
