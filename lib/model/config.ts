// The Llama hyperparameters that claq reads from a Hugging Face config.json.
import { ClaqError } from '../errors.js';
import type { NativeLlamaConfig, NativeRopeScaling } from '../../types/native.js';

/** A Llama-family config in claq's terms; see {@link parseLlamaConfig}. */
export interface LlamaConfig extends NativeLlamaConfig {
  /** Whether lm_head is the token embedding (`tie_word_embeddings`). */
  tieWordEmbeddings: boolean;
  /** `bos_token_id`, or null when the config has none. */
  bosTokenId: number | null;
  /** `eos_token_id` as a list (configs give a number or a list). */
  eosTokenIds: number[];
}

type Json = Record<string, unknown>;

function fail(source: string, message: string): never {
  throw new ClaqError('ERR_CLAQ_BAD_CONFIG', `${source}: ${message}`);
}

function integer(json: Json, key: string, source: string, fallback?: number): number {
  const value = json[key] ?? fallback;
  if (value === undefined) fail(source, `${key} is missing`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    fail(source, `${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positiveNumber(json: Json, key: string, source: string, fallback: number): number {
  const value = json[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(source, `${key} must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function optionalTokenIds(json: Json, key: string, source: string): number[] {
  const value = json[key];
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const id of list) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      fail(source, `${key} must be a token id or a list of them, got ${JSON.stringify(value)}`);
    }
  }
  return list as number[];
}

// rope_scaling as HF transformers writes it; its key is `rope_type` in
// configs from transformers 4.43 on and `type` before.
function parseRopeScaling(value: unknown, source: string): NativeRopeScaling | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    fail(source, `rope_scaling must be an object or null, got ${JSON.stringify(value)}`);
  }
  const json = value as Json;
  const type = json.rope_type ?? json.type;
  if (type === 'default') return null;
  if (type === 'linear') {
    return { type, factor: positiveNumber(json, 'factor', `${source} rope_scaling`, Number.NaN) };
  }
  if (type === 'llama3') {
    const where = `${source} rope_scaling`;
    return {
      type,
      factor: positiveNumber(json, 'factor', where, Number.NaN),
      lowFreqFactor: positiveNumber(json, 'low_freq_factor', where, Number.NaN),
      highFreqFactor: positiveNumber(json, 'high_freq_factor', where, Number.NaN),
      originalMaxPositions: integer(json, 'original_max_position_embeddings', where),
    };
  }
  return fail(source, `rope_scaling type ${JSON.stringify(type)} is not supported (supported: default, linear, llama3)`);
}

/**
 * Reads the hyperparameters of a Llama-family model from a parsed
 * config.json, with the defaults of HF transformers' LlamaConfig where a key
 * is absent (num_key_value_heads = num_attention_heads, head_dim =
 * hidden_size / num_attention_heads, rms_norm_eps 1e-6, rope_theta 10000,
 * max_position_embeddings 2048, untied head).
 *
 * @param source Names the file in error messages.
 * @throws {ClaqError} `ERR_CLAQ_BAD_CONFIG` when a value is missing or
 *   invalid, or the model is not a Llama-family decoder claq can run
 *   (biases, another activation than SiLU, an unsupported rope_scaling).
 */
export function parseLlamaConfig(json: unknown, source = 'config.json'): LlamaConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    fail(source, 'must contain a JSON object');
  }
  const c = json as Json;
  const modelType = c.model_type;
  if (modelType !== undefined && modelType !== 'llama') {
    fail(source, `model_type ${JSON.stringify(modelType)} is not supported; claq runs Llama-family models (model_type "llama")`);
  }
  if (c.attention_bias === true || c.mlp_bias === true) {
    fail(source, 'attention_bias and mlp_bias must be false; claq has no bias terms in Llama linears');
  }
  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') fail(source, `hidden_act must be "silu", got ${JSON.stringify(act)}`);

  const hiddenSize = integer(c, 'hidden_size', source);
  const numHeads = integer(c, 'num_attention_heads', source);
  const numKvHeads = integer(c, 'num_key_value_heads', source, numHeads);
  if (numHeads % numKvHeads !== 0) {
    fail(source, `num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  }
  const defaultHeadDim = hiddenSize % numHeads === 0 ? hiddenSize / numHeads : undefined;
  const headDim = integer(c, 'head_dim', source, defaultHeadDim);
  if (headDim % 2 !== 0) fail(source, `head_dim must be even for rotary embeddings, got ${headDim}`);

  const bos = optionalTokenIds(c, 'bos_token_id', source);
  return {
    hiddenSize,
    intermediateSize: integer(c, 'intermediate_size', source),
    numLayers: integer(c, 'num_hidden_layers', source),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: integer(c, 'vocab_size', source),
    maxPositions: integer(c, 'max_position_embeddings', source, 2048),
    normEps: positiveNumber(c, 'rms_norm_eps', source, 1e-6),
    ropeTheta: positiveNumber(c, 'rope_theta', source, 10000),
    ropeScaling: parseRopeScaling(c.rope_scaling, source),
    tieWordEmbeddings: c.tie_word_embeddings === true,
    bosTokenId: bos.length > 0 ? bos[0] : null,
    eosTokenIds: optionalTokenIds(c, 'eos_token_id', source),
  };
}
