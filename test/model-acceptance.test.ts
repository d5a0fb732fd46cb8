// The whole-model acceptance figures on stories260K: CLAQ calibrated on all
// 128 calibration sequences, perplexity over the full evaluation stream at
// ctx 512 (float32: 4.586), and an interrupted `claq quantize` that leaves no
// output behind. The bounds are the project's quality targets: 4 bits at most
// 4.80 (GPTQ 4-bit reaches about 4.97 on this model) and 3 bits at most 6.8
// (GPTQ 3-bit about 7.9).
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { evaluatePerplexity, loadModel, quantizeModel, readTokenFile } from '../lib/index.js';
import { storiesDir, testWithStories } from './data-dir.js';

const CLAQ_4_BIT_MAX_PERPLEXITY = 4.80;
const CLAQ_3_BIT_MAX_PERPLEXITY = 6.8;

const CLI = fileURLToPath(new URL('../lib/cli/main.js', import.meta.url));

const dir = storiesDir();
let scratch: string;
let calibration: Int32Array;
let evalTokens: Int32Array;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'claq-model-acceptance-'));
  if (dir !== null) {
    calibration = await readTokenFile(join(dir, 'calib_tokens.u16'), 16);
    evalTokens = await readTokenFile(join(dir, 'eval_tokens.u16'), 16);
  }
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function claqPerplexity(bits: number): Promise<number> {
  const out = join(scratch, `claq${bits}`);
  await quantizeModel(join(dir as string, 'hf'), out, { calibration, calibSamples: 128, seqLen: 256, bits });
  const result = await evaluatePerplexity(await loadModel(out), evalTokens, { ctx: 512 });
  console.log(`CLAQ ${bits}-bit, 128 calibration sequences, full eval stream, ctx 512: ` +
    `perplexity ${result.perplexity.toFixed(4)}`);
  return result.perplexity;
}

describe('stories260K quality targets', () => {
  testWithStories('CLAQ 4-bit perplexity is at most 4.80', async () => {
    expect(await claqPerplexity(4)).toBeLessThanOrEqual(CLAQ_4_BIT_MAX_PERPLEXITY);
  });

  testWithStories('CLAQ 3-bit perplexity is at most 6.8', async () => {
    expect(await claqPerplexity(3)).toBeLessThanOrEqual(CLAQ_3_BIT_MAX_PERPLEXITY);
  });
});

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

// Starts `claq quantize`; with `interrupt`, sends SIGINT once the first
// progress output arrives, while the quantization is under way.
function quantizeCli(out: string, interrupt: boolean): Promise<Run> {
  const args = [CLI, 'quantize', join(dir as string, 'hf'), '--out', out,
    '--calib', join(dir as string, 'calib_tokens.u16'), '--bits', '2'];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stdout.resume();
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (interrupt && !sent) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('close', (status, signal) => resolve({ status, signal, stderr }));
  });
}

describe('claq quantize interrupted', () => {
  testWithStories('SIGINT leaves nothing under the output name and a rerun works', async () => {
    const parent = await mkdtemp(join(scratch, 'sigint-'));
    const out = join(parent, 'model-2bit');

    const interrupted = await quantizeCli(out, true);
    expect(interrupted.status).not.toBe(0);
    expect(await readdir(parent)).toEqual([]);

    const rerun = await quantizeCli(out, false);
    expect(rerun.stderr).not.toContain('Error');
    expect(rerun.status).toBe(0);
    expect(await readdir(parent)).toEqual(['model-2bit']);
  });
});
