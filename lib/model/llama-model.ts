// A Llama-family model loaded into the addon: loadModel reads a Hugging Face
// folder (config.json, safetensors, optional tokenizer.json).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { ClaqError, fromNativeError } from '../errors.js';
import { native } from '../native.js';
import { CLAQ_FORMAT, ClaqCheckpoint } from '../checkpoint/claq-checkpoint.js';
import { openCheckpoint, type TensorReader } from '../safetensors/index.js';
import type {
  LlamaHandle, NativeLlamaBlockWeights, NativeLlamaLinear, NativeLlamaWeights,
} from '../../types/native.js';
import { type LlamaConfig, parseLlamaConfig } from './config.js';
import { TextTokenizer } from './tokenizer.js';

export interface LoadModelOptions {
  /** Threads for the forward pass, the calling thread included; 0 (default) uses every core. */
  threads?: number;
}

/** A loaded model; the weights live in native memory until it is garbage collected. */
export class LlamaModel {
  /** @internal */
  constructor(
    /** The folder it was loaded from. */
    readonly dir: string,
    readonly config: LlamaConfig,
    /** The model's tokenizer, or null when the folder has no tokenizer.json. */
    readonly tokenizer: TextTokenizer | null,
    /** @internal */
    readonly handle: LlamaHandle,
  ) {}

  /**
   * Runs `tokens` at positions 0 .. n-1 on the calling thread and returns
   * the logits, [n, vocabSize] row-major. For short inputs (tests, probes);
   * use evaluatePerplexity or generate for long work.
   *
   * @throws {RangeError} when n is 0 or above maxPositions, or an id is outside the vocabulary.
   */
  logitsSync(tokens: ArrayLike<number>): Float32Array {
    const ids = toTokenArray(tokens, 'logitsSync: tokens', this.config.vocabSize);
    if (ids.length < 1 || ids.length > this.config.maxPositions) {
      throw new RangeError(`logitsSync: tokens must have 1 to ${this.config.maxPositions} entries, got ${ids.length}`);
    }
    try {
      return native.llamaForwardSync(this.handle, ids);
    } catch (error) {
      throw fromNativeError(error);
    }
  }
}

/** Copies token ids into an Int32Array, checking each against the vocabulary. */
export function toTokenArray(tokens: ArrayLike<number>, what: string, vocabSize: number): Int32Array {
  if (tokens === null || typeof tokens !== 'object' || typeof tokens.length !== 'number') {
    throw new TypeError(`${what} must be an array or typed array of token ids`);
  }
  const ids = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const id = tokens[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new RangeError(`${what}[${i}] must be a token id in [0, ${vocabSize}), got ${String(id)}`);
    }
    ids[i] = id;
  }
  return ids;
}

async function readTensor(checkpoint: TensorReader, name: string, shape: number[]): Promise<Float32Array> {
  if (!checkpoint.has(name)) {
    throw new ClaqError('ERR_CLAQ_BAD_CHECKPOINT', `${checkpoint.path}: tensor ${name} is missing`);
  }
  const info = checkpoint.info(name);
  if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
    throw new ClaqError('ERR_CLAQ_BAD_CHECKPOINT',
      `${checkpoint.path}: tensor ${name} has shape [${info.shape.join(', ')}], expected [${shape.join(', ')}] from config.json`);
  }
  return checkpoint.readFloat32(name);
}

/** Lists the linears of block i: HF module name (without `.weight`), short name and [out, in]. */
export function blockLinears(c: LlamaConfig, i: number): { name: string; short: string; shape: [number, number] }[] {
  const p = `model.layers.${i}.`;
  const d = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const ff = c.intermediateSize;
  return [
    { name: `${p}self_attn.q_proj`, short: 'q_proj', shape: [q, d] },
    { name: `${p}self_attn.k_proj`, short: 'k_proj', shape: [kv, d] },
    { name: `${p}self_attn.v_proj`, short: 'v_proj', shape: [kv, d] },
    { name: `${p}self_attn.o_proj`, short: 'o_proj', shape: [d, q] },
    { name: `${p}mlp.gate_proj`, short: 'gate_proj', shape: [ff, d] },
    { name: `${p}mlp.up_proj`, short: 'up_proj', shape: [ff, d] },
    { name: `${p}mlp.down_proj`, short: 'down_proj', shape: [d, ff] },
  ];
}

// A linear as float32, or as quantized parts when the checkpoint is a claq
// checkpoint that lists it.
async function readLinear(checkpoint: TensorReader, quantized: ClaqCheckpoint | null, name: string,
  shape: [number, number]): Promise<NativeLlamaLinear> {
  const layer = quantized?.layers.get(name);
  if (quantized === null || layer === undefined) return readTensor(checkpoint, `${name}.weight`, shape);
  if (layer.rows !== shape[0] || layer.cols !== shape[1]) {
    throw new ClaqError('ERR_CLAQ_BAD_CHECKPOINT',
      `${checkpoint.path}: quantized layer ${name} is [${layer.rows}, ${layer.cols}], expected [${shape.join(', ')}] from config.json`);
  }
  return (await quantized.loadLayer(name)) as NativeLlamaLinear;
}

async function readBlock(checkpoint: TensorReader, quantized: ClaqCheckpoint | null, c: LlamaConfig,
  i: number): Promise<NativeLlamaBlockWeights> {
  const p = `model.layers.${i}.`;
  const linears: NativeLlamaLinear[] = [];
  for (const { name, shape } of blockLinears(c, i)) linears.push(await readLinear(checkpoint, quantized, name, shape));
  const [qProj, kProj, vProj, oProj, gateProj, upProj, downProj] = linears;
  return {
    inputNorm: await readTensor(checkpoint, `${p}input_layernorm.weight`, [c.hiddenSize]),
    qProj, kProj, vProj, oProj,
    postAttentionNorm: await readTensor(checkpoint, `${p}post_attention_layernorm.weight`, [c.hiddenSize]),
    gateProj, upProj, downProj,
  };
}

async function readWeights(checkpoint: TensorReader, c: LlamaConfig): Promise<NativeLlamaWeights> {
  const quantized = checkpoint.metadata.format === CLAQ_FORMAT ? await ClaqCheckpoint.fromReader(checkpoint) : null;
  const blocks: NativeLlamaBlockWeights[] = [];
  for (let i = 0; i < c.numLayers; i++) blocks.push(await readBlock(checkpoint, quantized, c, i));
  // A tied head is the embedding, even where the file also stores a copy.
  const untied = !c.tieWordEmbeddings && checkpoint.has('lm_head.weight');
  return {
    embedTokens: await readTensor(checkpoint, 'model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]),
    blocks,
    norm: await readTensor(checkpoint, 'model.norm.weight', [c.hiddenSize]),
    lmHead: untied ? await readTensor(checkpoint, 'lm_head.weight', [c.vocabSize, c.hiddenSize]) : null,
  };
}

/**
 * Loads a Llama-family model from a Hugging Face folder: `config.json`, the
 * weights in `model.safetensors` or shards listed by
 * `model.safetensors.index.json` (F32, F16 or BF16, converted to float32),
 * and `tokenizer.json` when present. In a claq checkpoint (the output of
 * quantizeModel), the quantized linears run on the packed low-bit kernels. An untied model without `lm_head.weight`
 * uses the embedding as its head, as transformers does.
 *
 * NOTE: the whole float32 model is held twice while it is copied into native
 * memory, so loading needs about 8 bytes per parameter at its peak.
 *
 * @example
 * const model = await loadModel('models/stories260K');
 * const { perplexity } = await evaluatePerplexity(model, tokens);
 * @throws {RangeError} when options.threads is not an integer in [0, 1024].
 * @throws {ClaqError} `ERR_CLAQ_BAD_CONFIG` for an unsupported or invalid
 *   config, `ERR_CLAQ_BAD_CHECKPOINT` for a missing or misshapen tensor.
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<LlamaModel> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new TypeError(`loadModel: dir must be a non-empty string, got ${JSON.stringify(dir)}`);
  }
  const threads = options.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0 || threads > 1024) {
    throw new RangeError(`loadModel: options.threads must be an integer in [0, 1024], got ${String(threads)}`);
  }
  const context = new Error();
  const configPath = join(dir, 'config.json');
  let configText: string;
  try {
    configText = await readFile(configPath, 'utf8');
  } catch (error) {
    throw new ClaqError('ERR_CLAQ_BAD_CONFIG', `${configPath}: cannot read the model config: ${(error as Error).message}`,
      { cause: error });
  }
  const config = parseLlamaConfig(JSON.parse(configText), configPath);
  const tokenizer = await TextTokenizer.load(dir, config.bosTokenId);

  const checkpoint = await openCheckpoint(dir);
  let weights: NativeLlamaWeights;
  try {
    weights = await readWeights(checkpoint, config);
  } finally {
    await checkpoint.close();
  }
  try {
    const handle = native.llamaCreate(config, weights, { threads });
    return new LlamaModel(dir, config, tokenizer, handle);
  } catch (error) {
    throw fromNativeError(error, context);
  }
}
