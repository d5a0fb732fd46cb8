// `claq generate MODEL_DIR --prompt TEXT`: continues a prompt with a model,
// printing the text as it is generated.
import { parseArgs } from 'node:util';

import { generate } from '../model/generate.js';
import { loadModel } from '../model/llama-model.js';
import type { Command } from './main.js';
import { parsedCommand } from './parsed-command.js';
import { withInterrupt } from './progress.js';

const USAGE = `usage: claq generate MODEL_DIR --prompt TEXT [options]

Continues TEXT with a Llama-family model (Hugging Face folder with
tokenizer.json). The text goes to stdout as it is generated; speed to stderr.

  --prompt TEXT        the text to continue (encoded as BOS + TEXT)
  --max-tokens N       tokens to generate at most (default 256)
  --temperature T      0 is greedy (default); above 0 samples from softmax(logits / T)
  --seed S             sampler seed, an integer (default 0)
  --threads N          threads, 0 for every core (default 0)`;

interface GenerateArgs {
  modelDir: string;
  prompt: string;
  maxTokens: number;
  temperature: number;
  seed: number;
  threads: number;
}

function parseNumber(value: string, name: string, integer: boolean): number {
  const number = Number(value);
  const valid = value.trim() !== '' && Number.isFinite(number) && number >= 0 &&
    (!integer || Number.isSafeInteger(number));
  if (!valid) throw new RangeError(`${name} must be a non-negative ${integer ? 'integer' : 'number'}, got '${value}'`);
  return number;
}

function parseGenerateArgs(args: string[]): GenerateArgs | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      prompt: { type: 'string' },
      'max-tokens': { type: 'string', default: '256' },
      temperature: { type: 'string', default: '0' },
      seed: { type: 'string', default: '0' },
      threads: { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new RangeError('expected one MODEL_DIR');
  if (values.prompt === undefined) throw new RangeError('--prompt TEXT is required');
  return {
    modelDir: positionals[0],
    prompt: values.prompt,
    maxTokens: parseNumber(values['max-tokens'], '--max-tokens', true),
    temperature: parseNumber(values.temperature, '--temperature', false),
    seed: parseNumber(values.seed, '--seed', true),
    threads: parseNumber(values.threads, '--threads', true),
  };
}

async function run(options: GenerateArgs): Promise<number> {
  const model = await loadModel(options.modelDir, { threads: options.threads });
  if (model.tokenizer === null) {
    console.error(`claq generate: ${options.modelDir} has no tokenizer.json`);
    return 1;
  }
  process.stdout.write(options.prompt);
  const result = await withInterrupt((signal) => generate(model, {
    prompt: options.prompt,
    maxTokens: options.maxTokens,
    temperature: options.temperature,
    seed: options.seed,
    signal,
    onToken: (_token, text) => { process.stdout.write(text); },
  }));
  process.stdout.write('\n');
  console.error(`${result.tokens.length} tokens (${result.finishReason}), ` +
    `${result.tokensPerSecond.toFixed(1)} tokens/s decoding, prompt of ${result.promptTokens.length} tokens ` +
    `and first token in ${(result.prefillSeconds * 1000).toFixed(1)} ms`);
  return 0;
}

export const command: Command = parsedCommand<GenerateArgs>({
  name: 'generate',
  summary: 'continue a prompt with a model (greedy or sampled)',
  usage: USAGE,
  parse: parseGenerateArgs,
  run,
  flags: { maxTokens: '--max-tokens', temperature: '--temperature', seed: '--seed', threads: '--threads' },
  interruptedMessage: '\nclaq generate: interrupted',
});

export default command;
