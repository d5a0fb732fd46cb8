import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { formatInspectReport, inspectCheckpoint } from '../lib/cli/inspect.js';
import { saveClaqCheckpoint } from '../lib/index.js';
import { makeParts } from './checkpoint-helpers.js';
import { storiesDir, testWithStories } from './data-dir.js';
import { temporaryFolder } from './safetensors-helpers.js';

const CLI = fileURLToPath(new URL('../lib/cli/main.js', import.meta.url));

function runCli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, 'inspect', ...args], { encoding: 'utf8' });
}

describe('claq inspect', () => {
  const folder = temporaryFolder('inspect');
  const path = join(folder.path, 'model.safetensors');
  const q = makeParts(21, 64, 64, [2, 4]);
  const v = makeParts(22, 32, 16, [3]);
  beforeAll(async () => {
    await saveClaqCheckpoint(path, {
      layers: new Map([['q_proj', q], ['v_proj', v]]),
      tensors: [{ name: 'norm.weight', dtype: 'F32', shape: [64], data: new Float32Array(64) }],
    });
  });
  afterAll(() => folder.remove());

  test('report gives bits, outliers and storage', async () => {
    const report = await inspectCheckpoint(path, { verify: true });
    expect(report.verified).toBe(true);
    expect(report.tensors).toHaveLength(17);
    expect(report.layers.map((layer) => layer.name)).toEqual(['q_proj', 'v_proj']);

    const [qReport, vReport] = report.layers;
    const twos = q.bitsPerColumn.filter((bits) => bits === 2).length;
    expect(qReport.columnsPerWidth).toEqual({ 2: twos, 4: 64 - twos });
    expect(qReport.codeBits).toBeCloseTo((2 * twos + 4 * (64 - twos)) / 64, 12);
    expect(qReport.outliers).toBe(q.outlierValues.length);

    // Storage: packed codes, F16 centroids, U32 offsets, I32 permutation, U8
    // bits, and 2 * I32 + F16 per outlier; rows are multiples of 8 here.
    const bytes = (p: typeof v) => p.cols * p.rows * (p.bitsPerColumn.reduce((a, b) => a + b, 0) / p.cols) / 8 +
      2 * p.codebooks.length + 4 * (p.cols + 1) + 4 * p.cols + p.cols + 10 * p.outlierValues.length;
    expect(vReport.storageBits).toBeCloseTo((bytes(v) * 8) / (32 * 16), 12);
    expect(qReport.storageBits).toBeCloseTo((bytes(q) * 8) / (64 * 64), 12);
    expect(vReport.codeBits).toBe(3);

    const text = formatInspectReport(report);
    expect(text).toContain('quantized layers: 2, all verified');
    expect(text).toMatch(/v_proj\s+32x16\s+3\.000\s+3:16/);
    expect(text).toContain('norm.weight');
  });

  testWithStories('plain checkpoint lists every tensor', async () => {
    const report = await inspectCheckpoint(join(storiesDir() as string, 'hf'));
    expect(report.layers).toEqual([]);
    expect(report.tensors).toHaveLength(48);
    // 260,032 parameters plus the 32,768 of the stored lm_head copy, 4 bytes each.
    expect(report.tensors.reduce((sum, tensor) => sum + tensor.byteLength, 0)).toBe((260_032 + 32_768) * 4);
    expect(formatInspectReport(report)).toMatch(/model\.layers\.4\.mlp\.down_proj\.weight\s+F32\s+\[64, 172\]\s+44,032/);
  });

  test('command prints text and JSON', () => {
    const text = runCli(path);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('q_proj.claq.codes');
    const json = runCli('--json', path);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout).layers).toHaveLength(2);
  });

  test('command reports errors and usage', () => {
    const pointer = join(folder.path, 'pointer.safetensors');
    writeFileSync(pointer, 'version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 12\n');
    const lfs = runCli(pointer);
    expect(lfs.status).toBe(1);
    expect(lfs.stderr).toMatch(/Git LFS pointer/);
    expect(runCli().status).toBe(2);
    expect(runCli('--bogus', path).status).toBe(2);
    expect(runCli('--help').status).toBe(0);
  });
});
