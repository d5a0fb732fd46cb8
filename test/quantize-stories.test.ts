// Quality on real data: the 35 linear layers of stories260K, each with the
// Hessian of its captured calibration inputs (4096 tokens). The mean relative
// output error ||XW^T - XQ^T||^2 / ||XW^T||^2 over layers must order the
// methods as the CLAQ paper reports them: claq < gptq < rtn at each width,
// AP and OR each improve on plain 2-bit CLAQ, and AP + OR is no worse than OR.
import { quantizeLayer, relativeOutputError } from '../lib/index.js';
import { CalibratedCheckpoint } from '../lib/cli/calibrated-checkpoint.js';
import { DEMO_CONFIGS } from '../lib/cli/demo-configs.js';
import { storiesDir, testWithStories } from './data-dir.js';

const LAYER_COUNT = 35;

async function meanErrors(dir: string): Promise<Map<string, number>> {
  const checkpoint = await CalibratedCheckpoint.open(dir);
  expect(checkpoint.calibration).toBe('activations');
  expect(checkpoint.layerNames).toHaveLength(LAYER_COUNT);
  const sums = new Map<string, number>();
  try {
    for (const name of checkpoint.layerNames) {
      const { weight, hessian } = await checkpoint.layer(name);
      expect(hessian.samples).toBe(4096);
      for (const config of DEMO_CONFIGS) {
        const layer = await quantizeLayer(weight, hessian, config.options);
        const error = relativeOutputError(weight, layer, hessian);
        expect(Number.isFinite(error)).toBe(true);
        sums.set(config.label, (sums.get(config.label) ?? 0) + error);
      }
    }
  } finally {
    await checkpoint.close();
  }
  return new Map([...sums].map(([label, sum]) => [label, sum / LAYER_COUNT]));
}

describe('stories260K linear layers', () => {
  let errors: Map<string, number> | undefined;
  const error = (label: string): number => {
    const value = errors?.get(label);
    if (value === undefined) throw new Error(`no result for ${label}`);
    return value;
  };

  beforeAll(async () => {
    const dir = storiesDir();
    if (dir !== null) errors = await meanErrors(dir);
  });

  testWithStories.each([2, 3, 4])('claq < gptq < rtn at %i bits', (bits) => {
    expect(error(`claq ${bits}-bit`)).toBeLessThan(error(`gptq ${bits}-bit`));
    expect(error(`gptq ${bits}-bit`)).toBeLessThan(error(`rtn ${bits}-bit`));
  });

  testWithStories('more bits give less error', () => {
    for (const method of ['rtn', 'gptq', 'claq']) {
      expect(error(`${method} 3-bit`)).toBeLessThan(error(`${method} 2-bit`));
      expect(error(`${method} 4-bit`)).toBeLessThan(error(`${method} 3-bit`));
    }
  });

  testWithStories('AP 2.1 beats claq 2-bit', () => {
    expect(error('claq AP 2.1')).toBeLessThan(error('claq 2-bit'));
  });

  testWithStories('OR beats claq 2-bit', () => {
    expect(error('claq OR (2-bit)')).toBeLessThan(error('claq 2-bit'));
  });

  testWithStories('AP 2.05 + OR is no worse than OR', () => {
    expect(error('claq AP 2.05 + OR')).toBeLessThanOrEqual(error('claq OR (2-bit)'));
  });
});
