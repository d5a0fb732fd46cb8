// `claq quantize MODEL_DIR --out OUT_DIR --calib FILE`: block-by-block
// quantization of a whole model into a claq checkpoint folder.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { loadModel } from '../model/llama-model.js';
import { quantizeModel, type LayerReport } from '../model/quantize-model.js';
import { readTokenFile } from '../model/token-file.js';
import {
  UNIFORM_GRIDS, normalizeQuantizeOptions, type QuantizeMethod, type UniformGrid,
} from '../quantize-options.js';
import type { Command } from './main.js';
import { nameFlags, parsedCommand } from './parsed-command.js';
import { createProgress, withInterrupt } from './progress.js';

const USAGE = `usage: claq quantize MODEL_DIR --out OUT_DIR --calib FILE [options]

Quantizes every linear layer of a Llama-family model (Hugging Face folder)
block by block, each block calibrated on the outputs of the already quantized
blocks before it, and writes a claq checkpoint folder that "claq eval" and
"claq generate" run on the packed kernels.

  --out DIR            output folder (built under a temporary name, renamed at the end)
  --calib FILE         calibration tokens (uint16/uint32, see --token-width), or a
                       .txt file encoded with the model's tokenizer.json
  --token-width 16|32  bits per id in a token file (default 16)
  --calib-samples N    calibration sequences (default 128, fewer if FILE is short)
  --seq-len N          tokens per sequence (default min(2048, max_position_embeddings))
  --method M           claq (default), gptq or rtn
  --grid G             gptq and rtn: row (default, one scale and zero point per
                       output row) or column (a min-max grid per column)
  --bits B             code width 2, 3 or 4 (default 4 without --target-bits)
  --target-bits T      adaptive precision: mean code width in [2, 4], e.g. 2.1
  --outliers           outlier reservation with the dynamic rule (1.4 % / 0.4 %)
  --threads N          threads, 0 for every core (default 0)
  --overwrite          replace an existing --out folder`;

interface QuantizeArgs {
  modelDir: string;
  out: string;
  calib: string;
  tokenWidth: 16 | 32;
  calibSamples?: number;
  seqLen?: number;
  method: QuantizeMethod;
  grid?: UniformGrid;
  bits?: number;
  targetBits?: number;
  outliers: boolean;
  threads: number;
  overwrite: boolean;
}

function parseNumber(value: string | undefined, name: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0 || (integer && !Number.isSafeInteger(number))) {
    throw new RangeError(`${name} must be a non-negative ${integer ? 'integer' : 'number'}, got '${value}'`);
  }
  return number;
}

// Library option names and the flags that set them.
const FLAGS = {
  calibration: '--calib', calibSamples: '--calib-samples', seqLen: '--seq-len', method: '--method', grid: '--grid',
  bits: '--bits', targetBits: '--target-bits', outliers: '--outliers', threads: '--threads', overwrite: '--overwrite',
};

// Checks the quantization flags as every quantizeLayer call will, so that a
// bad value or combination stops the command before it reads any file.
function checkQuantizeFlags(args: QuantizeArgs): void {
  const operation = 'claq quantize';
  try {
    normalizeQuantizeOptions(operation, {
      method: args.method, grid: args.grid, bits: args.bits, targetBits: args.targetBits, outliers: args.outliers,
    }, true);
  } catch (error) {
    throw new RangeError(nameFlags((error as Error).message.replace(`${operation}: `, ''), FLAGS));
  }
}

function parseQuantizeArgs(args: string[]): QuantizeArgs | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      calib: { type: 'string' },
      'token-width': { type: 'string', default: '16' },
      'calib-samples': { type: 'string' },
      'seq-len': { type: 'string' },
      method: { type: 'string', default: 'claq' },
      grid: { type: 'string' },
      bits: { type: 'string' },
      'target-bits': { type: 'string' },
      outliers: { type: 'boolean', default: false },
      threads: { type: 'string', default: '0' },
      overwrite: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new RangeError('expected one MODEL_DIR');
  if (values.out === undefined) throw new RangeError('--out OUT_DIR is required');
  if (values.calib === undefined) throw new RangeError('--calib FILE is required');
  const tokenWidth = parseNumber(values['token-width'], '--token-width', true);
  if (tokenWidth !== 16 && tokenWidth !== 32) throw new RangeError(`--token-width must be 16 or 32, got ${tokenWidth}`);
  if (!['claq', 'gptq', 'rtn'].includes(values.method)) {
    throw new RangeError(`--method must be claq, gptq or rtn, got '${values.method}'`);
  }
  if (values.grid !== undefined && !(UNIFORM_GRIDS as readonly string[]).includes(values.grid)) {
    throw new RangeError(`--grid must be row or column, got '${values.grid}'`);
  }
  const parsed: QuantizeArgs = {
    modelDir: positionals[0],
    out: values.out,
    calib: values.calib,
    tokenWidth,
    calibSamples: parseNumber(values['calib-samples'], '--calib-samples', true),
    seqLen: parseNumber(values['seq-len'], '--seq-len', true),
    method: values.method as QuantizeMethod,
    grid: values.grid as UniformGrid | undefined,
    bits: parseNumber(values.bits, '--bits', true),
    targetBits: parseNumber(values['target-bits'], '--target-bits', false),
    outliers: values.outliers,
    threads: parseNumber(values.threads, '--threads', true) ?? 0,
    overwrite: values.overwrite,
  };
  checkQuantizeFlags(parsed);
  return parsed;
}

/** Formats the per-layer results as an aligned text table with a total line. */
export function formatLayerTable(layers: readonly LayerReport[]): string {
  const header = ['layer', 'shape', 'code bits', 'storage bits', 'loss', 'damping', 'seconds'];
  const rows = layers.map((l) => [
    l.name, `${l.rows}x${l.cols}`, l.codeBits.toFixed(3), l.storageBits.toFixed(3), l.loss.toPrecision(4),
    String(l.damping), l.seconds.toFixed(3),
  ]);
  const weights = layers.reduce((sum, l) => sum + l.rows * l.cols, 0);
  const mean = (pick: (l: LayerReport) => number): number =>
    layers.reduce((sum, l) => sum + pick(l) * l.rows * l.cols, 0) / weights;
  rows.push(['all (weighted by size)', `${weights}`, mean((l) => l.codeBits).toFixed(3),
    mean((l) => l.storageBits).toFixed(3), '', '', layers.reduce((sum, l) => sum + l.seconds, 0).toFixed(3)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

async function run(options: QuantizeArgs): Promise<number> {
  let calibration: Int32Array;
  if (options.calib.endsWith('.txt')) {
    const model = await loadModel(options.modelDir, { threads: 1 });
    if (model.tokenizer === null) {
      console.error(`claq quantize: ${options.modelDir} has no tokenizer.json to encode ${options.calib}`);
      return 1;
    }
    calibration = model.tokenizer.encodeStories(await readFile(options.calib, 'utf8'));
  } else {
    calibration = await readTokenFile(options.calib, options.tokenWidth);
  }

  const progress = createProgress('quantize');
  const result = await withInterrupt((signal) => quantizeModel(options.modelDir, options.out, {
    calibration,
    calibSamples: options.calibSamples,
    seqLen: options.seqLen,
    method: options.method,
    grid: options.grid,
    bits: options.bits,
    targetBits: options.targetBits,
    outliers: options.outliers,
    threads: options.threads,
    overwrite: options.overwrite,
    signal,
    onProgress: (event) => progress.update(event.done, event.total, event.layer.name),
  })).finally(() => progress.finish());

  console.log(formatLayerTable(result.layers));
  console.log(`wrote ${result.outDir} in ${result.seconds.toFixed(1)} s ` +
    `(${result.calibrationTokens.toLocaleString('en-US')} calibration tokens)`);
  return 0;
}

export const command: Command = parsedCommand<QuantizeArgs>({
  name: 'quantize',
  summary: 'quantize every linear layer of a model block by block',
  usage: USAGE,
  parse: parseQuantizeArgs,
  run,
  flags: FLAGS,
  interruptedMessage: 'claq quantize: interrupted; nothing was written',
});

export default command;
