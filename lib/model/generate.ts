// Text generation with a loaded model.
import { ClaqError } from '../errors.js';
import { native } from '../native.js';
import type { LlamaModel } from './llama-model.js';
import { toTokenArray } from './llama-model.js';
import { runNativeJob } from './native-job.js';

export interface GenerateOptions {
  /** Text to continue; needs the model's tokenizer. Encoded as [BOS] + encode(prompt). */
  prompt?: string;
  /** Token ids to continue, in place of `prompt`, used as given. */
  promptTokens?: ArrayLike<number>;
  /** Tokens to generate at most; default 256. */
  maxTokens?: number;
  /** 0 (default) is greedy: the most likely token, the lowest id on ties. */
  temperature?: number;
  /** Seeds the sampler when temperature > 0; an integer in [0, 2^53]; default 0. */
  seed?: number;
  /**
   * Token ids that end generation (kept in the output). Default: the
   * config's eos_token_id and its bos_token_id, because llama2.c-style models
   * mark the start of a new story with BOS.
   */
  stopTokens?: number[];
  /** Called for each generated token with its id and the new text it adds. */
  onToken?: (token: number, text: string) => void;
  signal?: AbortSignal;
}

export interface GenerateResult {
  /** The prompt followed by the generated text (special tokens left out). */
  text: string;
  /** The generated text alone. */
  completion: string;
  promptTokens: Int32Array;
  tokens: Int32Array;
  finishReason: 'length' | 'stop' | 'context';
  /** Seconds for the prompt and the first token. */
  prefillSeconds: number;
  /** Seconds for the other tokens. */
  decodeSeconds: number;
  /** (tokens - 1) / decodeSeconds: decode speed, the prefill left out; 0 with fewer than 2 tokens. */
  tokensPerSecond: number;
}

function checkOptions(model: LlamaModel, options: GenerateOptions): Int32Array {
  const { prompt, promptTokens, maxTokens = 256, temperature = 0, seed = 0 } = options;
  if (!Number.isInteger(maxTokens) || maxTokens < 0 || maxTokens > 0x7fffffff) {
    throw new RangeError(`generate: options.maxTokens must be a non-negative integer, got ${String(maxTokens)}`);
  }
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new RangeError(`generate: options.temperature must be a finite number >= 0, got ${String(temperature)}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 53) {
    throw new RangeError(`generate: options.seed must be an integer in [0, 2^53], got ${String(seed)}`);
  }
  if (options.onToken !== undefined && typeof options.onToken !== 'function') {
    throw new TypeError('generate: options.onToken must be a function');
  }
  if ((prompt === undefined) === (promptTokens === undefined)) {
    throw new TypeError('generate: pass exactly one of options.prompt and options.promptTokens');
  }
  const { vocabSize, maxPositions } = model.config;
  let ids: Int32Array;
  if (prompt !== undefined) {
    if (typeof prompt !== 'string') throw new TypeError('generate: options.prompt must be a string');
    if (model.tokenizer === null) {
      throw new ClaqError('ERR_CLAQ_NO_TOKENIZER',
        `generate: ${model.dir} has no tokenizer.json; pass options.promptTokens instead of a text prompt`);
    }
    ids = Int32Array.from(model.tokenizer.encode(prompt));
  } else {
    ids = toTokenArray(promptTokens as ArrayLike<number>, 'generate: options.promptTokens', vocabSize);
  }
  if (ids.length < 1 || ids.length > maxPositions) {
    throw new RangeError(`generate: the prompt must have 1 to ${maxPositions} tokens, got ${ids.length}`);
  }
  return ids;
}

/**
 * Continues a prompt: the prompt runs as one batched window, then one token
 * per step through the KV cache, until `maxTokens`, a stop token, or the
 * model's maxPositions. Runs off the JavaScript thread.
 *
 * @example
 * const { completion, tokensPerSecond } = await generate(model, { prompt: 'Once upon a time', maxTokens: 64 });
 * @throws {RangeError} for an out-of-range option or prompt length.
 * @throws {ClaqError} `ERR_CLAQ_NO_TOKENIZER` for a text prompt on a model without tokenizer.json.
 * @throws {AbortError} when `signal` aborts the run.
 */
export async function generate(model: LlamaModel, options: GenerateOptions): Promise<GenerateResult> {
  const context = new Error();
  const promptTokens = checkOptions(model, options);
  const { maxTokens = 256, temperature = 0, seed = 0, onToken, signal } = options;
  const { bosTokenId, eosTokenIds, vocabSize } = model.config;
  const stopTokens = options.stopTokens ?? [...eosTokenIds, ...(bosTokenId === null ? [] : [bosTokenId])];
  const stops = toTokenArray(stopTokens, 'generate: options.stopTokens', vocabSize);
  const tokenizer = model.tokenizer;

  // Decoding the whole completion at each step and emitting what it added
  // keeps multi-token characters (byte fallback) whole: text ending in an
  // incomplete UTF-8 sequence (U+FFFD) waits for the next token.
  const generated: number[] = [];
  let emitted = '';
  const handleToken = onToken === undefined ? null : (token: number): void => {
    generated.push(token);
    if (tokenizer === null) {
      onToken(token, '');
      return;
    }
    const text = tokenizer.decode(generated);
    if (text.endsWith('\uFFFD')) {
      onToken(token, '');
      return;
    }
    onToken(token, text.slice(emitted.length));
    emitted = text;
  };

  const result = await runNativeJob(
    () => native.llamaGenerate(model.handle, promptTokens, { maxTokens, temperature, seed, stopTokens: stops },
      handleToken),
    signal, context);
  // The tokenizer library rejects an empty id list, which maxTokens = 0 or an
  // immediate stop token produces.
  const completion = tokenizer === null || result.tokens.length === 0 ? '' : tokenizer.decode(result.tokens);
  const text = tokenizer === null ? '' : tokenizer.decode([...promptTokens, ...result.tokens]);
  return {
    text,
    completion,
    promptTokens,
    tokens: result.tokens,
    finishReason: result.finishReason,
    prefillSeconds: result.prefillSeconds,
    decodeSeconds: result.decodeSeconds,
    tokensPerSecond: result.tokens.length > 1 && result.decodeSeconds > 0
      ? (result.tokens.length - 1) / result.decodeSeconds : 0,
  };
}
