// The coverage-guided fuzzer's parts: the innermost-range rule that turns
// V8's merged block ranges into per-block counts, seeded mutations, and the
// harness catching a crash, a hang and a heap exhaustion (through the
// selftest targets, in child processes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { innermostCounts } from './fuzz/block-coverage.js';
import { MAX_INPUT_BYTES, Random, mutate } from './fuzz/mutate.js';
import { loadCorpus } from './fuzz/targets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('innermostCounts', () => {
  // Function [0, 100) ran 3 times. Its block [10, 20) was seen once with
  // count 0; in this take V8 reports [10, 20) no more (count equal to the
  // parent, 3) and a nested [12, 15) with count 1. Blocks [200, 300) and
  // [250, 260) belong to a function not called in this take, so both get 0.
  const blocks = [{ start: 0, end: 100 }, { start: 10, end: 20 }, { start: 12, end: 15 }, { start: 30, end: 40 },
    { start: 200, end: 300 }, { start: 250, end: 260 }];

  test('a block takes the count of its innermost reported range', () => {
    const reported = [{ start: 0, end: 100, count: 3 }, { start: 12, end: 15, count: 1 }, { start: 30, end: 40, count: 0 },
      { start: 200, end: 300, count: 0 }];
    expect(innermostCounts(blocks, reported)).toEqual([3, 3, 1, 0, 0, 0]);
  });

  test('blocks outside every reported range count 0', () => {
    expect(innermostCounts(blocks, [{ start: 200, end: 300, count: 2 }])).toEqual([0, 0, 0, 0, 2, 2]);
  });
});

describe('mutate', () => {
  const corpus = loadCorpus('safetensors');

  test('the same seed gives the same inputs', () => {
    const run = (seed: number): string[] => {
      const random = new Random(seed);
      return Array.from({ length: 200 }, (_, k) => Buffer.from(mutate(corpus[k % corpus.length], random, corpus)).toString('base64'));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  test('inputs stay within the size bound', () => {
    const random = new Random(3);
    let input = corpus[0];
    for (let k = 0; k < 2000; k++) {
      input = mutate(input, random, corpus);
      expect(input.length).toBeLessThanOrEqual(MAX_INPUT_BYTES);
    }
  });
});

describe('guided fuzzer harness', () => {
  const crashDir = mkdtempSync(join(tmpdir(), 'claq-fuzz-'));
  afterAll(() => rmSync(crashDir, { recursive: true, force: true }));

  function fuzz(target: string, hangSeconds: number): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, ['dist/test/fuzz/guided.js', '--seconds', '2', '--seed', '5',
      '--hang-seconds', String(hangSeconds), '--crash-dir', crashDir, target], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  test.each([
    ['selftest-crash', 5, /CRASH: TypeError: selftest-crash/],
    ['selftest-hang', 1, /HANG: one input ran for more than 1 s/],
    ['selftest-memory', 60, /MEMORY: ERR_WORKER_OUT_OF_MEMORY/],
  ])('%s is caught and its input saved', (target, hangSeconds, message) => {
    const result = fuzz(target, hangSeconds);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/replay: node dist\/test\/fuzz\/guided\.js --replay /);
    expect(readdirSync(crashDir).some((name) => name.startsWith(`${target}-`))).toBe(true);
  }, 130_000);

  test('the header target runs and reports coverage', () => {
    const result = fuzz('header', 5);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/fuzz header: \d+ inputs in 2 s .* \d+ of \d+ known blocks run, \d+ features: no failure/);
  }, 130_000);
});
