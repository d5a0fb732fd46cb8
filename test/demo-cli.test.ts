// `claq demo` as a user runs it: help, bad arguments and folders, and a run
// over the stories260K checkpoint.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { STORIES_DIR, testWithStories } from './data-dir.js';

const MAIN = fileURLToPath(new URL('../lib/cli/main.js', import.meta.url));

function claq(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('claq demo', () => {
  test('--help prints the usage', () => {
    const run = claq('demo', '--help');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('usage: claq demo [--model DIR] [--threads N]');
  });

  test('demo is listed by claq help', () => {
    expect(claq('help').stdout).toContain('demo');
  });

  test('unknown option', () => {
    const run = claq('demo', '--bits', '2');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("Unknown option '--bits'");
  });

  test('bad --threads', () => {
    const run = claq('demo', '--threads', 'many');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--threads must be an integer in [1, 1024], received 'many'");
  });

  test('missing model folder', () => {
    const run = claq('demo', '--model', '/nonexistent/claq-model');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('model folder not found: /nonexistent/claq-model');
  });

  test('folder without weights', () => {
    const dir = mkdtempSync(join(tmpdir(), 'claq-demo-'));
    try {
      const run = claq('demo', '--model', dir);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('hf/model.safetensors not found');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  testWithStories('folder without calibration data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'claq-demo-'));
    try {
      mkdirSync(join(dir, 'hf'));
      symlinkSync(join(STORIES_DIR, 'hf', 'model.safetensors'), join(dir, 'hf', 'model.safetensors'));
      const run = claq('demo', '--model', dir);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('no calibration data');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  testWithStories('stories260K table', () => {
    const run = claq('demo', '--model', STORIES_DIR, '--threads', '1');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('mean over 35 linear layers (Hessians from activations)');
    const rows = run.stdout.split('\n').filter((line) => /^\| (rtn|gptq|claq) /.test(line));
    expect(rows).toHaveLength(12);
    expect(rows[0]).toMatch(/^\| rtn 2-bit +\| +2\.000 \|/);
  });
});

describe('claq bin', () => {
  test('runs through a symlink, as npm installs it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'claq-bin-'));
    try {
      symlinkSync(MAIN, join(dir, 'claq'));
      const child = spawnSync(process.execPath, [join(dir, 'claq'), 'help'], { encoding: 'utf8' });
      expect(child.status).toBe(0);
      expect(child.stdout).toContain('usage: claq <command> [options]');
      expect(child.stdout).toMatch(/^ {2}quantize {2}quantize every linear layer of a model block by block$/m);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
