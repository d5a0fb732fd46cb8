// The Llama forward pass, perplexity and generation on the real stories260K
// model. The expected figures come from an independent float64 numpy
// implementation: logits of calibration sequence 0, perplexity of the eval
// stream, the greedy sample text, and the token files made by its tokenizer.
//
// Tolerances: logits within 1e-4 (the float32 pass measured 2.4e-5 against
// the float64-derived float32 reference); perplexity within 0.005 of 4.586,
// which float32 rounding moves by about 1e-6 here.
import { mkdtemp, readFile, rm, copyFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AbortError, ClaqError } from '../lib/errors.js';
import {
  evaluatePerplexity, generate, loadModel, readTokenFile, SafetensorsFile, setSimdLevel,
  simdLevel, supportedSimdLevels, writeSafetensors, type LlamaModel,
} from '../lib/index.js';
import { storiesDir, testWithStories } from './data-dir.js';

const LOGIT_TOLERANCE = 1e-4;

// The first lines of the greedy sample from "Once upon a time" in the data
// README (llama2.c's doc/stories260K.md prints the same text from BOS).
const GREEDY_SAMPLE = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ' +
  'One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n' +
  'Lily\'s mom said, "Lily, let\'s go to the park." Lily was sad and didn\'t know what to do. ' +
  'She said, "I want to play with your ball, but I can\'t find it."\n' +
  'Lily was sad and didn\'t know what to do. She said, "I\'m sorry, Lily. I didn\'t know what to do."\n' +
  'Lily didn\'t want to help her mom, so she said, "I\'m sorry, mom. I didn\'t know what to do." ' +
  'Her mom said, "Don\'t worry, Lily. We can help you.';

const dir = storiesDir();
let model: LlamaModel;

beforeAll(async () => {
  if (dir !== null) model = await loadModel(join(dir, 'hf'));
});

async function referenceLogits(): Promise<{ logits: Float32Array; tokens: Int32Array }> {
  const file = await SafetensorsFile.open(join(dir as string, 'ref_logits.safetensors'));
  try {
    const tokenBytes = await file.readBytes('tokens');  // I32
    const tokens = new Int32Array(tokenBytes.buffer.slice(tokenBytes.byteOffset, tokenBytes.byteOffset + tokenBytes.byteLength));
    return { logits: await file.readFloat32('logits'), tokens };
  } finally {
    await file.close();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('llama model on stories260K', () => {
  testWithStories('logits match the reference at every SIMD level', async () => {
    const reference = await referenceLogits();
    const calibration = await readTokenFile(join(dir as string, 'calib_tokens.u16'), 16);
    const tokens = calibration.subarray(0, 256);
    expect(Array.from(reference.tokens)).toEqual(Array.from(tokens));

    const original = simdLevel();
    try {
      for (const level of supportedSimdLevels()) {
        setSimdLevel(level);
        const logits = model.logitsSync(tokens);
        expect(logits.length).toBe(256 * 512);
        expect(maxAbsDiff(logits, reference.logits)).toBeLessThan(LOGIT_TOLERANCE);
      }
    } finally {
      setSimdLevel(original);
    }
  });

  testWithStories('perplexity of the eval stream at ctx 512 is 4.586', async () => {
    const tokens = await readTokenFile(join(dir as string, 'eval_tokens.u16'), 16);
    expect(tokens.length).toBe(354_036);
    const events: { done: number; total: number }[] = [];
    const result = await evaluatePerplexity(model, tokens, {
      ctx: 512,
      onProgress: (event) => events.push({ done: event.done, total: event.total }),
    });
    console.log(`stories260K eval perplexity ${result.perplexity.toFixed(6)} in ${result.seconds.toFixed(1)} s`);
    expect(result.targets).toBe(354_035);
    expect(result.windows).toBe(692);
    expect(Math.abs(result.perplexity - 4.586)).toBeLessThan(0.005);
    expect(events.length).toBeGreaterThan(0);
    expect(events[events.length - 1]).toEqual({ done: 692, total: 692 });
    for (let i = 1; i < events.length; i++) expect(events[i].done).toBeGreaterThan(events[i - 1].done);
  });

  testWithStories('perplexity of the first 256 windows at ctx 256 is 4.002', async () => {
    const tokens = await readTokenFile(join(dir as string, 'eval_tokens.u16'), 16);
    const result = await evaluatePerplexity(model, tokens.subarray(0, 256 * 256 + 1), { ctx: 256 });
    expect(result.targets).toBe(65_536);
    expect(Math.abs(result.meanNll - 1.38690)).toBeLessThan(5e-5);
  });

  testWithStories('greedy generation reproduces the reference sample', async () => {
    const streamed: string[] = [];
    const result = await generate(model, {
      prompt: 'Once upon a time',
      maxTokens: 256,
      onToken: (_token, text) => streamed.push(text),
    });
    expect(result.text.startsWith(GREEDY_SAMPLE)).toBe(true);
    expect(result.tokens.length).toBe(256);
    expect(result.finishReason).toBe('length');
    expect(`Once upon a time${streamed.join('')}`).toBe(result.text);
    expect(result.tokensPerSecond).toBeGreaterThan(0);
  });

  testWithStories('sampling is reproducible from its seed', async () => {
    const options = { prompt: 'Once upon a time', maxTokens: 40, temperature: 0.9 };
    const first = await generate(model, { ...options, seed: 7 });
    const again = await generate(model, { ...options, seed: 7 });
    const other = await generate(model, { ...options, seed: 8 });
    expect(Array.from(again.tokens)).toEqual(Array.from(first.tokens));
    expect(Array.from(other.tokens)).not.toEqual(Array.from(first.tokens));
  });

  testWithStories('eval story text encodes to the eval token file', async () => {
    const text = await readFile(join(dir as string, 'eval_stories.txt'), 'utf8');
    const expected = await readTokenFile(join(dir as string, 'eval_tokens.u16'), 16);
    const encoded = model.tokenizer?.encodeStories(text);
    expect(encoded?.length).toBe(expected.length);
    expect(Buffer.from((encoded as Int32Array).buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  testWithStories('an aborted perplexity run rejects with AbortError', async () => {
    const tokens = await readTokenFile(join(dir as string, 'eval_tokens.u16'), 16);
    const controller = new AbortController();
    const run = evaluatePerplexity(model, tokens, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(run).rejects.toBeInstanceOf(AbortError);

    const aborted = AbortSignal.abort();
    await expect(evaluatePerplexity(model, tokens, { signal: aborted })).rejects.toBeInstanceOf(AbortError);
  });

  testWithStories('generate with maxTokens 0 returns the prompt alone', async () => {
    const result = await generate(model, { prompt: 'Once upon a time', maxTokens: 0 });
    expect(result.tokens.length).toBe(0);
    expect(result.completion).toBe('');
    expect(result.text).toBe('Once upon a time');
  });

  testWithStories('a throwing onToken callback rejects generate with its error', async () => {
    const failure = new Error('stop here');
    const run = generate(model, { prompt: 'Once', maxTokens: 20, onToken: () => { throw failure; } });
    await expect(run).rejects.toBe(failure);
  });

  testWithStories('invalid arguments throw RangeError or TypeError', async () => {
    await expect(evaluatePerplexity(model, [1, 2, 3], { ctx: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(evaluatePerplexity(model, [1, 2, 3], { ctx: 513 })).rejects.toBeInstanceOf(RangeError);
    await expect(evaluatePerplexity(model, [1], {})).rejects.toBeInstanceOf(RangeError);
    await expect(evaluatePerplexity(model, [1, 512], {})).rejects.toBeInstanceOf(RangeError);
    await expect(evaluatePerplexity(model, [1, 2.5], {})).rejects.toBeInstanceOf(RangeError);
    await expect(generate(model, { prompt: 'a', temperature: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(generate(model, { prompt: 'a', maxTokens: 1.5 })).rejects.toBeInstanceOf(RangeError);
    await expect(generate(model, {})).rejects.toBeInstanceOf(TypeError);
    expect(() => model.logitsSync([])).toThrow(RangeError);
    expect(() => model.logitsSync(new Array(513).fill(1))).toThrow(RangeError);
    await expect(loadModel(join(dir as string, 'hf'), { threads: -1 })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('llama model loading', () => {
  let scratch: string;

  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'claq-model-'));
  });

  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  // Copies the stories260K folder with its tensors stored as `dtype`, in
  // two shards listed by an index file.
  async function writeCopy(dtype: 'F32' | 'BF16' | 'F16'): Promise<void> {
    const hf = join(dir as string, 'hf');
    await copyFile(join(hf, 'config.json'), join(scratch, 'config.json'));
    const source = await SafetensorsFile.open(join(hf, 'model.safetensors'));
    const tensors = source.tensors();
    const half = Math.ceil(tensors.length / 2);
    const weightMap: Record<string, string> = {};
    try {
      for (const [index, part] of [tensors.slice(0, half), tensors.slice(half)].entries()) {
        const file = `model-0000${index + 1}-of-00002.safetensors`;
        const toWrite = [];
        for (const info of part) {
          weightMap[info.name] = file;
          toWrite.push({ name: info.name, dtype, shape: info.shape, data: await source.readFloat32(info.name) });
        }
        await writeSafetensors(join(scratch, file), toWrite);
      }
    } finally {
      await source.close();
    }
    await writeFile(join(scratch, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  }

  testWithStories('a sharded float32 copy gives the same logits', async () => {
    await writeCopy('F32');
    const copy = await loadModel(scratch, { threads: 1 });
    expect(copy.tokenizer).toBeNull();
    const tokens = [1, 403, 407, 261, 378];
    expect(Array.from(copy.logitsSync(tokens))).toEqual(Array.from(model.logitsSync(tokens)));
  });

  testWithStories('bfloat16 and float16 copies give close logits', async () => {
    const tokens = [1, 403, 407, 261, 378, 29, 88];
    const expected = model.logitsSync(tokens);
    // Rounding every weight to 8 (BF16) or 11 (F16) significant bits moved
    // these logits by 0.078 and 0.017 when measured; a wrong conversion moves them by far more.
    for (const [dtype, limit] of [['BF16', 0.5], ['F16', 0.1]] as const) {
      await writeCopy(dtype);
      const copy = await loadModel(scratch);
      const diff = maxAbsDiff(copy.logitsSync(tokens), expected);
      expect(diff).toBeGreaterThan(0);
      expect(diff).toBeLessThan(limit);
      await rm(scratch, { recursive: true, force: true });
      scratch = await mkdtemp(join(tmpdir(), 'claq-model-'));
    }
  });

  testWithStories('a missing tensor is reported by name', async () => {
    const hf = join(dir as string, 'hf');
    await copyFile(join(hf, 'config.json'), join(scratch, 'config.json'));
    const source = await SafetensorsFile.open(join(hf, 'model.safetensors'));
    const toWrite = [];
    try {
      for (const info of source.tensors()) {
        if (info.name === 'model.layers.3.mlp.up_proj.weight') continue;
        toWrite.push({ name: info.name, dtype: 'F32' as const, shape: info.shape, data: await source.readFloat32(info.name) });
      }
    } finally {
      await source.close();
    }
    await writeSafetensors(join(scratch, 'model.safetensors'), toWrite);
    const load = loadModel(scratch);
    await expect(load).rejects.toBeInstanceOf(ClaqError);
    await expect(loadModel(scratch)).rejects.toThrow('model.layers.3.mlp.up_proj.weight');
  });
});
