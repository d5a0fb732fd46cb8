// quantizeModel and exportDequantized on the real stories260K model, with a
// small calibration set (16 sequences of 256 tokens) to keep the test short.
// Quality is checked as properties: CLAQ at 4 bits stays close to float32 and
// beats RTN at the same width; the packed checkpoint and its dequantized
// float32 export compute the same logits.
import { readdir } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AbortError, ClaqError } from '../lib/errors.js';
import {
  evaluatePerplexity, exportDequantized, loadModel, quantizeModel, readTokenFile,
} from '../lib/index.js';
import { inspectCheckpoint } from '../lib/cli/inspect.js';
import { storiesDir, testWithStories } from './data-dir.js';

// Packed and dequantized layers differ only in float32 summation order.
const LOGIT_TOLERANCE = 1e-4;
// A row-grid layer computes s_i * (acc - z_i * sum x) against the dense
// sum of s_i * (level - z_i) * x: the same product rearranged, whose float32
// error follows (2^b - 1) * sum |x| rather than |y| (the two terms cancel).
// An estimate, not a bound: the claq tolerance times 2^3 - 1, rounded up to
// 1e-3 (5.2e-5 measured on 2026-12-05).
const ROW_GRID_LOGIT_TOLERANCE = 1e-3;

const dir = storiesDir();
let scratch: string;
let calibration: Int32Array;
let evalTokens: Int32Array;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'claq-quantize-model-'));
  if (dir !== null) {
    calibration = await readTokenFile(join(dir, 'calib_tokens.u16'), 16);
    // The first 32 windows of 512 tokens of the eval stream.
    evalTokens = (await readTokenFile(join(dir, 'eval_tokens.u16'), 16)).subarray(0, 32 * 512 + 1);
  }
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const hf = (): string => join(dir as string, 'hf');

describe('quantizeModel on stories260K', () => {
  testWithStories('4-bit CLAQ stays near float32 and beats RTN', async () => {
    const events: number[] = [];
    const claq = await quantizeModel(hf(), join(scratch, 'claq4'), {
      calibration, calibSamples: 16, seqLen: 256, bits: 4, onProgress: (event) => events.push(event.done),
    });
    expect(claq.layers.length).toBe(35);
    expect(claq.calibrationTokens).toBe(16 * 256);
    expect(events).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
    expect(claq.layers[0].name).toBe('model.layers.0.self_attn.q_proj');
    for (const layer of claq.layers) expect(layer.codeBits).toBe(4);

    const rtn = await quantizeModel(hf(), join(scratch, 'rtn4'), {
      calibration, calibSamples: 16, seqLen: 256, bits: 4, method: 'rtn',
    });
    const reference = await evaluatePerplexity(await loadModel(hf()), evalTokens);
    const claqPerplexity = await evaluatePerplexity(await loadModel(join(scratch, 'claq4')), evalTokens);
    const rtnPerplexity = await evaluatePerplexity(await loadModel(join(scratch, 'rtn4')), evalTokens);
    console.log(`first 32 windows: float32 ${reference.perplexity.toFixed(4)}, ` +
      `CLAQ 4-bit ${claqPerplexity.perplexity.toFixed(4)}, RTN 4-bit ${rtnPerplexity.perplexity.toFixed(4)}`);
    expect(claqPerplexity.perplexity).toBeGreaterThan(reference.perplexity);
    expect(claqPerplexity.perplexity).toBeLessThan(reference.perplexity * 1.1);
    expect(claqPerplexity.perplexity).toBeLessThan(rtnPerplexity.perplexity);
  });

  testWithStories('dequantized export computes the packed logits', async () => {
    const packedDir = join(scratch, 'claq2');
    await quantizeModel(hf(), packedDir, {
      calibration, calibSamples: 8, seqLen: 256, targetBits: 2.1, outliers: true,
    });
    const denseDir = join(scratch, 'claq2-dense');
    const exported = await exportDequantized(packedDir, denseDir);
    expect(exported.layers).toBe(35);

    const tokens = evalTokens.subarray(0, 200);
    const packed = (await loadModel(packedDir)).logitsSync(tokens);
    const dense = (await loadModel(denseDir)).logitsSync(tokens);
    const original = (await loadModel(hf())).logitsSync(tokens);
    let worst = 0;
    let moved = 0;
    for (let i = 0; i < packed.length; i++) {
      worst = Math.max(worst, Math.abs(packed[i] - dense[i]));
      moved = Math.max(moved, Math.abs(packed[i] - original[i]));
    }
    expect(worst).toBeLessThan(LOGIT_TOLERANCE);
    expect(moved).toBeGreaterThan(0.01);
  });

  testWithStories('row-grid gptq checkpoint runs packed and dequantized alike', async () => {
    const packedDir = join(scratch, 'gptq3');
    const result = await quantizeModel(hf(), packedDir, { calibration, calibSamples: 8, seqLen: 256, bits: 3, method: 'gptq' });
    expect(result.layers.length).toBe(35);
    const report = await inspectCheckpoint(join(packedDir, 'model.safetensors'), { verify: true });
    expect(report.layers.map((layer) => layer.rowGrid)).toEqual(new Array(35).fill(true));
    const denseDir = join(scratch, 'gptq3-dense');
    expect((await exportDequantized(packedDir, denseDir)).layers).toBe(35);

    const tokens = evalTokens.subarray(0, 200);
    const packed = (await loadModel(packedDir)).logitsSync(tokens);
    const dense = (await loadModel(denseDir)).logitsSync(tokens);
    const original = (await loadModel(hf())).logitsSync(tokens);
    let worst = 0;
    let moved = 0;
    for (let i = 0; i < packed.length; i++) {
      worst = Math.max(worst, Math.abs(packed[i] - dense[i]));
      moved = Math.max(moved, Math.abs(packed[i] - original[i]));
    }
    console.log(`gptq 3-bit row grid: packed vs dequantized logits differ by at most ${worst}`);
    expect(worst).toBeLessThan(ROW_GRID_LOGIT_TOLERANCE);
    expect(moved).toBeGreaterThan(0.01);
  });

  testWithStories('an aborted run leaves no output folder', async () => {
    const controller = new AbortController();
    const out = join(scratch, 'aborted');
    const run = quantizeModel(hf(), out, {
      calibration, calibSamples: 4, seqLen: 256, bits: 4, signal: controller.signal,
      onProgress: (event) => { if (event.done === 3) controller.abort(); },
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    const left = (await readdir(scratch)).filter((name) => name.includes('aborted'));
    expect(left).toEqual([]);
  });

  test('bad layer options fail before loading', async () => {
    // The model folder does not exist: the option check must come first.
    const missing = join(tmpdir(), 'claq-no-such-model');
    await expect(quantizeModel(missing, join(tmpdir(), 'claq-no-output'), { calibration: new Int32Array(4), bits: 5 }))
      .rejects.toThrow('quantizeModel: options.bits must be 2, 3 or 4, received 5');
    await expect(quantizeModel(missing, join(tmpdir(), 'claq-no-output'), {
      calibration: new Int32Array(4), method: 'rtn', outliers: true,
    })).rejects.toThrow('does not combine with the row grid');
  });

  testWithStories('an existing output folder is not replaced', async () => {
    const out = join(scratch, 'claq4');
    await expect(quantizeModel(hf(), out, { calibration, calibSamples: 2, seqLen: 256 }))
      .rejects.toBeInstanceOf(ClaqError);
    await expect(quantizeModel(hf(), join(scratch, 'x'), { calibration, calibSamples: 1000, seqLen: 256 }))
      .rejects.toBeInstanceOf(RangeError);
    await expect(quantizeModel(hf(), join(scratch, 'x'), { calibration, seqLen: 513 }))
      .rejects.toBeInstanceOf(RangeError);
  });
});
