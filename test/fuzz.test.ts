// A short, seeded run of each fuzz target inside the test suite, so that a
// change that breaks a seed or an easy mutation fails npm test. The long runs
// (60 s per target) are `npm run fuzz`, which .ci/run calls.
import fc from 'fast-check';

import { TARGETS, loadCorpus, targetProperty } from './fuzz/targets.js';

const RUNS = 3000;

describe('fuzz targets', () => {
  test.each(Object.keys(TARGETS) as (keyof typeof TARGETS)[])('%s seeds are accepted', async (target) => {
    const { corpus, run } = TARGETS[target];
    const seeds = loadCorpus(corpus);
    expect(seeds.length).toBeGreaterThanOrEqual(3);
    for (const bytes of seeds) expect(await run(bytes)).toMatch(/^(accepted|loaded)$/);
  });

  test.each(Object.keys(TARGETS) as (keyof typeof TARGETS)[])('%s survives mutated inputs', async (target) => {
    await fc.assert(targetProperty(target), { seed: 20261204, numRuns: RUNS });
  });
});
