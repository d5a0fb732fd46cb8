// Perplexity of a loaded model over a token stream.
import { native } from '../native.js';
import type { LlamaModel } from './llama-model.js';
import { toTokenArray } from './llama-model.js';
import { runNativeJob } from './native-job.js';

export interface PerplexityProgress {
  type: 'windows';
  /** Windows evaluated so far, of `total`. */
  done: number;
  total: number;
  /** Targets scored so far and the perplexity over them. */
  targets: number;
  perplexity: number;
}

export interface PerplexityOptions {
  /** Tokens per window (the context length), in [1, maxPositions]; default 512. */
  ctx?: number;
  /** Called at most every 100 ms, and after the last window. */
  onProgress?: (event: PerplexityProgress) => void;
  signal?: AbortSignal;
}

export interface PerplexityResult {
  /** exp(meanNll). */
  perplexity: number;
  /** Mean negative log-likelihood per target, in nats. */
  meanNll: number;
  /** Tokens predicted: every token but the first. */
  targets: number;
  windows: number;
  seconds: number;
}

/**
 * Computes the perplexity of `model` on a token stream, cut into
 * non-overlapping windows of `ctx` tokens: each window predicts the token
 * after each of its tokens, and the context restarts at every window. So
 * every token but the first is predicted exactly once, with between 1 and
 * `ctx` tokens of context. Runs off the JavaScript thread.
 *
 * @example
 * const tokens = await readTokenFile('eval_tokens.u16', 16);
 * const { perplexity } = await evaluatePerplexity(model, tokens, { ctx: 512 });
 * @throws {RangeError} when there are fewer than 2 tokens, an id is outside
 *   the vocabulary, or ctx is not an integer in [1, maxPositions].
 * @throws {AbortError} when `signal` aborts the run.
 */
export async function evaluatePerplexity(model: LlamaModel, tokens: ArrayLike<number>,
  options: PerplexityOptions = {}): Promise<PerplexityResult> {
  const context = new Error();
  const { ctx = 512, onProgress, signal } = options;
  const maxPositions = model.config.maxPositions;
  if (!Number.isInteger(ctx) || ctx < 1 || ctx > maxPositions) {
    throw new RangeError(`evaluatePerplexity: options.ctx must be an integer in [1, ${maxPositions}] ` +
      `(max_position_embeddings), got ${String(ctx)}`);
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError('evaluatePerplexity: options.onProgress must be a function');
  }
  const ids = toTokenArray(tokens, 'evaluatePerplexity: tokens', model.config.vocabSize);
  if (ids.length < 2) {
    throw new RangeError(`evaluatePerplexity: tokens must have at least 2 entries, got ${ids.length}`);
  }

  const started = performance.now();
  const progress = onProgress === undefined ? null : (event: { windowsDone: number; windowsTotal: number;
    nllSum: number; targets: number }): void => {
    onProgress({
      type: 'windows',
      done: event.windowsDone,
      total: event.windowsTotal,
      targets: event.targets,
      perplexity: Math.exp(event.nllSum / event.targets),
    });
  };
  const result = await runNativeJob(() => native.llamaPerplexity(model.handle, ids, { context: ctx }, progress),
    signal, context);
  const meanNll = result.nllSum / result.targets;
  return {
    perplexity: Math.exp(meanNll),
    meanNll,
    targets: result.targets,
    windows: result.windows,
    seconds: (performance.now() - started) / 1000,
  };
}
