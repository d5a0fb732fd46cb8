// parseLlamaConfig (defaults of HF LlamaConfig, rope_scaling forms, rejected
// architectures) and readTokenFile, on hand-written inputs.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ClaqError } from '../lib/errors.js';
import { parseLlamaConfig, readTokenFile } from '../lib/index.js';

const minimal = {
  hidden_size: 64,
  intermediate_size: 172,
  num_hidden_layers: 5,
  num_attention_heads: 8,
  vocab_size: 512,
};

describe('parseLlamaConfig', () => {
  test('missing keys take the HF LlamaConfig defaults', () => {
    const config = parseLlamaConfig(minimal);
    expect(config).toEqual({
      hiddenSize: 64,
      intermediateSize: 172,
      numLayers: 5,
      numHeads: 8,
      numKvHeads: 8,
      headDim: 8,
      vocabSize: 512,
      maxPositions: 2048,
      normEps: 1e-6,
      ropeTheta: 10000,
      ropeScaling: null,
      tieWordEmbeddings: false,
      bosTokenId: null,
      eosTokenIds: [],
    });
  });

  test('llama3 rope_scaling and token id lists are read', () => {
    const config = parseLlamaConfig({
      ...minimal,
      num_key_value_heads: 2,
      head_dim: 16,
      rope_theta: 500000,
      rope_scaling: {
        rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4,
        original_max_position_embeddings: 8192,
      },
      bos_token_id: 128000,
      eos_token_id: [128001, 128008, 128009],
      tie_word_embeddings: true,
    });
    expect(config.ropeScaling).toEqual({
      type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192,
    });
    expect(config.numKvHeads).toBe(2);
    expect(config.headDim).toBe(16);
    expect(config.bosTokenId).toBe(128000);
    expect(config.eosTokenIds).toEqual([128001, 128008, 128009]);
    expect(config.tieWordEmbeddings).toBe(true);
  });

  test('older rope_scaling spellings are read', () => {
    expect(parseLlamaConfig({ ...minimal, rope_scaling: { type: 'linear', factor: 2 } }).ropeScaling)
      .toEqual({ type: 'linear', factor: 2 });
    expect(parseLlamaConfig({ ...minimal, rope_scaling: { rope_type: 'default' } }).ropeScaling).toBeNull();
  });

  test.each([
    ['another architecture', { model_type: 'mistral' }, 'model_type'],
    ['biases', { attention_bias: true }, 'attention_bias'],
    ['another activation', { hidden_act: 'gelu' }, 'hidden_act'],
    ['an unsupported rope_scaling', { rope_scaling: { rope_type: 'yarn', factor: 4 } }, 'yarn'],
    ['kv heads that do not divide the heads', { num_key_value_heads: 3 }, 'num_key_value_heads'],
    ['an odd head_dim', { head_dim: 7 }, 'head_dim'],
    ['a zero size', { hidden_size: 0 }, 'hidden_size'],
    ['a fractional size', { vocab_size: 51.5 }, 'vocab_size'],
  ])('rejects %s', (_case, change, named) => {
    const parse = (): unknown => parseLlamaConfig({ ...minimal, ...change });
    expect(parse).toThrow(ClaqError);
    expect(parse).toThrow(named);
  });

  test('rejects a config without hidden_size by name', () => {
    const { hidden_size: _unused, ...rest } = minimal;
    expect(() => parseLlamaConfig(rest, 'model/config.json')).toThrow('model/config.json: hidden_size is missing');
  });
});

describe('readTokenFile', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'claq-tokens-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads 16-bit and 32-bit little-endian ids', async () => {
    const path16 = join(dir, 'a.u16');
    await writeFile(path16, Buffer.from([1, 0, 0xff, 0xff, 0x34, 0x12]));
    expect(Array.from(await readTokenFile(path16, 16))).toEqual([1, 65535, 0x1234]);

    const path32 = join(dir, 'a.u32');
    await writeFile(path32, Buffer.from([1, 0, 0, 0, 0x00, 0xf4, 0x01, 0x00]));
    expect(Array.from(await readTokenFile(path32, 32))).toEqual([1, 128000]);
  });

  test('rejects a size that is not a whole number of tokens', async () => {
    const path = join(dir, 'odd.u32');
    await writeFile(path, Buffer.from([1, 0, 0, 0, 2, 0]));
    await expect(readTokenFile(path, 32)).rejects.toThrow('not a whole number of 32-bit tokens');
    await expect(readTokenFile(path, 32)).rejects.toThrow('raw little-endian token ids with no header');
  });

  test('names a missing file and its path', async () => {
    const path = join(dir, 'missing.u16');
    const failure = readTokenFile(path, 16);
    await expect(failure).rejects.toThrow(`${path}: cannot read the token file: ENOENT`);
    await expect(failure).rejects.toMatchObject({ code: 'ERR_CLAQ_BAD_TOKEN_FILE', cause: { code: 'ENOENT' } });
  });

  test('rejects a width other than 16 or 32', async () => {
    await expect(readTokenFile(join(dir, 'a.u16'), 8 as never)).rejects.toBeInstanceOf(RangeError);
  });
});
