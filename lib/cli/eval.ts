// `claq eval MODEL_DIR --tokens FILE | --text FILE`: perplexity of a model on
// a token file or a text, in non-overlapping windows of --ctx tokens.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { loadModel } from '../model/llama-model.js';
import { evaluatePerplexity } from '../model/perplexity.js';
import { readTokenFile, type TokenWidth } from '../model/token-file.js';
import type { Command } from './main.js';
import { parsedCommand } from './parsed-command.js';
import { createProgress, withInterrupt } from './progress.js';

const USAGE = `usage: claq eval MODEL_DIR (--tokens FILE | --text FILE) [options]

Perplexity of a Llama-family model (Hugging Face folder) over a token stream,
cut into non-overlapping windows; each window predicts all its tokens and the
context restarts at every window.

  --tokens FILE        token ids, little-endian, no header
  --token-width 16|32  bits per id in --tokens (default 16)
  --text FILE          text encoded with the model's tokenizer.json; stories
                       separated by lines "<|endoftext|>" each start with BOS
  --ctx N              window length in tokens (default 512)
  --threads N          threads, 0 for every core (default 0)
  --json               print the result as JSON`;

interface EvalArgs {
  modelDir: string;
  tokens?: string;
  text?: string;
  tokenWidth: TokenWidth;
  ctx: number;
  threads: number;
  json: boolean;
}

function parseInteger(value: string, name: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number)) {
    throw new RangeError(`${name} must be a non-negative integer, got '${value}'`);
  }
  return number;
}

function parseEvalArgs(args: string[]): EvalArgs | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      tokens: { type: 'string' },
      text: { type: 'string' },
      'token-width': { type: 'string', default: '16' },
      ctx: { type: 'string', default: '512' },
      threads: { type: 'string', default: '0' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new RangeError('expected one MODEL_DIR');
  if ((values.tokens === undefined) === (values.text === undefined)) {
    throw new RangeError('pass exactly one of --tokens FILE and --text FILE');
  }
  const tokenWidth = parseInteger(values['token-width'], '--token-width');
  if (tokenWidth !== 16 && tokenWidth !== 32) throw new RangeError(`--token-width must be 16 or 32, got ${tokenWidth}`);
  return {
    modelDir: positionals[0],
    tokens: values.tokens,
    text: values.text,
    tokenWidth,
    ctx: parseInteger(values.ctx, '--ctx'),
    threads: parseInteger(values.threads, '--threads'),
    json: values.json,
  };
}

async function run(options: EvalArgs): Promise<number> {
  const model = await loadModel(options.modelDir, { threads: options.threads });
  let tokens: Int32Array;
  if (options.tokens !== undefined) {
    tokens = await readTokenFile(options.tokens, options.tokenWidth);
  } else {
    if (model.tokenizer === null) {
      console.error(`claq eval: ${options.modelDir} has no tokenizer.json; pass --tokens FILE instead of --text`);
      return 1;
    }
    tokens = model.tokenizer.encodeStories(await readFile(options.text as string, 'utf8'));
  }

  const progress = createProgress('eval');
  const result = await withInterrupt((signal) => evaluatePerplexity(model, tokens, {
    ctx: options.ctx,
    signal,
    onProgress: (event) => progress.update(event.done, event.total, `ppl ${event.perplexity.toFixed(4)}`),
  })).finally(() => progress.finish());

  if (options.json) {
    console.log(JSON.stringify({ ...result, ctx: options.ctx }, null, 2));
  } else {
    const rate = Math.round(result.targets / result.seconds).toLocaleString('en-US');
    console.log(`perplexity ${result.perplexity.toFixed(6)}  (mean NLL ${result.meanNll.toFixed(6)} nats over ` +
      `${result.targets.toLocaleString('en-US')} tokens, ${result.windows} windows of ${options.ctx})`);
    console.log(`${result.seconds.toFixed(1)} s, ${rate} tokens/s`);
  }
  return 0;
}

export const command: Command = parsedCommand<EvalArgs>({
  name: 'eval',
  summary: 'perplexity of a model on a token file or a text',
  usage: USAGE,
  parse: parseEvalArgs,
  run,
  flags: { ctx: '--ctx', threads: '--threads' },
});

export default command;
