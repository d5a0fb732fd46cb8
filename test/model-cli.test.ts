// The claq eval, generate, quantize and export commands as a user runs them,
// on the stories260K model with short inputs.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { readTokenFile } from '../lib/index.js';
import { storiesDir, testWithStories } from './data-dir.js';

const CLI = fileURLToPath(new URL('../lib/cli/main.js', import.meta.url));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

// Runs the CLI without blocking the event loop, so jest's timers keep working.
function claq(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const dir = storiesDir();
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'claq-model-cli-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('model commands', () => {
  testWithStories('eval prints the perplexity of a token file', async () => {
    const tokens = await readTokenFile(join(dir as string, 'eval_tokens.u16'), 16);
    const file = join(scratch, 'first.u32');
    const head = new Uint32Array(tokens.subarray(0, 2 * 256 + 1));
    await writeFile(file, Buffer.from(head.buffer));
    const run = await claq(['eval', join(dir as string, 'hf'), '--tokens', file, '--token-width', '32', '--ctx', '256']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^perplexity \d+\.\d{6} {2}\(mean NLL \d+\.\d{6} nats over 512 tokens, 2 windows of 256\)/);
    // Not a terminal: plain progress lines, ending with the last window.
    expect(run.stderr).toContain('eval 2/2 (100%)');
  });

  testWithStories('generate prints the greedy continuation', async () => {
    const run = await claq(['generate', join(dir as string, 'hf'), '--prompt', 'Once upon a time', '--max-tokens', '24']);
    expect(run.status).toBe(0);
    expect(run.stdout.startsWith('Once upon a time, there was a little girl named Lily.')).toBe(true);
    expect(run.stderr).toMatch(/24 tokens \(length\), [\d.]+ tokens\/s decoding/);
  });

  testWithStories('quantize writes a folder that eval and export read', async () => {
    const out = join(scratch, 'q4');
    const run = await claq(['quantize', join(dir as string, 'hf'), '--out', out, '--calib',
      join(dir as string, 'calib_tokens.u16'), '--calib-samples', '4', '--seq-len', '256', '--bits', '4']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('model.layers.4.mlp.down_proj');
    expect(run.stdout).toMatch(/all \(weighted by size\) +226560 +4\.000/);
    expect((await readdir(out)).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json',
      'tokenizer_config.json']);

    const again = await claq(['quantize', join(dir as string, 'hf'), '--out', out, '--calib',
      join(dir as string, 'calib_tokens.u16')]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('exists');

    const evaluated = await claq(['eval', out, '--tokens', join(dir as string, 'calib_tokens.u16')]);
    expect(evaluated.status).toBe(0);
    expect(evaluated.stdout).toContain('over 32,767 tokens, 64 windows of 512');

    const exported = await claq(['export', out, '--dequantize', '--out', join(scratch, 'q4-dense')]);
    expect(exported.status).toBe(0);
    expect(exported.stdout).toContain('35 dequantized layers');
  });

  testWithStories('quantize --method rtn writes row grids that eval reads', async () => {
    const out = join(scratch, 'rtn4');
    const run = await claq(['quantize', join(dir as string, 'hf'), '--out', out, '--calib',
      join(dir as string, 'calib_tokens.u16'), '--calib-samples', '2', '--seq-len', '256', '--method', 'rtn', '--bits', '4']);
    expect(run.status).toBe(0);
    // 4-bit codes plus 40 bits per column and 20 bits per row: 4.756 bits per weight over the 35 layers.
    expect(run.stdout).toMatch(/all \(weighted by size\) +226560 +4\.000 +4\.756/);

    const inspected = await claq(['inspect', out]);
    expect(inspected.status).toBe(0);
    expect(inspected.stdout.match(/ row grid /g)?.length).toBe(35);

    const evaluated = await claq(['eval', out, '--tokens', join(dir as string, 'calib_tokens.u16')]);
    expect(evaluated.status).toBe(0);
    expect(evaluated.stdout).toMatch(/^perplexity \d/m);
  });

  test('usage errors exit with status 2', async () => {
    for (const args of [['eval'], ['eval', 'model'], ['generate', 'model'], ['quantize', 'model', '--out', 'x'],
      ['export', 'model', '--out', 'x'], ['eval', 'model', '--tokens', 'f', '--token-width', '8'],
      ['quantize', 'model', '--out', 'x', '--calib', 'f', '--grid', 'diagonal']]) {
      const run = await claq(args);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('usage: claq');
    }
  });

  test('quantize checks flags before reading files', async () => {
    // Neither the model folder nor the token file exists.
    const cases: [string[], string][] = [
      [['--bits', '5'], '--bits must be 2, 3 or 4, received 5'],
      [['--target-bits', '5'], '--target-bits must be a finite number in [2, 4], received 5'],
      [['--method', 'rtn', '--outliers'], '--outliers (outlier reservation) does not combine with the row grid'],
    ];
    for (const [flags, message] of cases) {
      const run = await claq(['quantize', 'no-model', '--out', 'x', '--calib', 'no-file', ...flags]);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`claq quantize: ${message}`);
      expect(run.stderr).not.toContain('ENOENT');
    }
  });

  testWithStories('a missing token file names its path', async () => {
    const missing = join(scratch, 'no-such-tokens.u16');
    const run = await claq(['eval', join(dir as string, 'hf'), '--tokens', missing]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`claq eval: ${missing}: cannot read the token file: ENOENT`);
  });

  test('a negative flag value reaches the flag check', async () => {
    const run = await claq(['generate', 'model', '--prompt', 'hi', '--max-tokens', '-3']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--max-tokens must be a non-negative integer, got '-3'");
    expect(run.stderr).not.toContain('ambiguous');
  });

  testWithStories('library errors name the flag, not the option', async () => {
    const evaluated = await claq(['eval', join(dir as string, 'hf'), '--tokens',
      join(dir as string, 'eval_tokens.u16'), '--ctx', '9999']);
    expect(evaluated.status).toBe(1);
    expect(evaluated.stderr).toContain('--ctx must be an integer in [1, 512]');
    expect(evaluated.stderr).not.toContain('options.ctx');

    const existing = await mkdtemp(join(scratch, 'existing-'));
    const quantized = await claq(['quantize', join(dir as string, 'hf'), '--out', existing,
      '--calib', join(dir as string, 'calib_tokens.u16')]);
    expect(quantized.status).toBe(1);
    expect(quantized.stderr).toContain(`${existing} exists; remove it or pass --overwrite`);
  });

  testWithStories('quantize fails at once when the output folder has no parent', async () => {
    const out = join(scratch, 'missing', 'deeper', 'out');
    const run = await claq(['quantize', join(dir as string, 'hf'), '--out', out,
      '--calib', join(dir as string, 'calib_tokens.u16'), '--method', 'rtn', '--bits', '4']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`the folder ${join(scratch, 'missing', 'deeper')} that would contain ${out} ` +
      'does not exist; create it first');
    expect(run.stderr).not.toMatch(/quantize \d+\/\d+/);
  });
});
