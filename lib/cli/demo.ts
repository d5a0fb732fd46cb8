// `claq demo`: quantizes one generated LLaMA-like layer, or every linear
// layer of a calibrated checkpoint, with RTN, GPTQ and CLAQ, and prints a
// table of bits, relative output error and time. Progress goes to stderr.
import { parseArgs } from 'node:util';

import { Hessian } from '../hessian.js';
import { relativeOutputError } from '../output-error.js';
import { quantizeLayer } from '../quantize-layer.js';
import type { WeightMatrix } from '../quantize-layer.js';
import type { Command } from './main.js';
import { CalibratedCheckpoint } from './calibrated-checkpoint.js';
import { DEMO_CONFIGS } from './demo-configs.js';
import { syntheticLayer } from './synthetic-layer.js';

const HELP = `usage: claq demo [--model DIR] [--threads N]

Quantizes with rtn, gptq and claq at 2, 3 and 4 bits, claq AP 2.1, claq OR
(2-bit) and claq AP 2.05 + OR, and prints per configuration: code bits (mean
bits per column), storage bits (all stored bytes x 8 per weight), the
relative output error ||XW^T - XQ^T||^2 / ||XW^T||^2 on the calibration
tokens, and seconds. rtn and gptq use one min-max grid per output row (the
standard GPTQ grid, option grid 'row').

Without --model: one generated 4096 x 4096 layer with LLaMA-like statistics
(heavy-tailed weights with rare outliers hundreds of times mean|W|,
activations with a few hot channels), seed 1, 2048 calibration tokens.

options:
  --model DIR    a checkpoint folder: hf/model.safetensors plus either
                 activations.safetensors with activations.json (linear_inputs)
                 or hessians.safetensors (float64 <input>.xtx, metadata
                 num_tokens); prints the mean over its linear layers
  --threads N    worker threads (default: all available cores)
  -h, --help     print this help`;

interface Row {
  label: string;
  codeBits: number;
  storageBits: number;
  error: number;
  seconds: number;
}

interface DemoLayer {
  name: string;
  weight: WeightMatrix;
  hessian: Hessian;
}

async function runConfigs(layer: DemoLayer, threads: number | undefined, showProgress: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [index, config] of DEMO_CONFIGS.entries()) {
    const prefix = `${layer.name}: [${index + 1}/${DEMO_CONFIGS.length}] ${config.label}`;
    const quantized = await quantizeLayer(layer.weight, layer.hessian, {
      ...config.options,
      threads,
      onProgress: showProgress && process.stderr.isTTY ? (event) => {
        if (event.type === 'columns' && event.done < event.total) {
          process.stderr.write(`\r${prefix}: ${event.done}/${event.total} columns`);
        }
      } : undefined,
    });
    const error = relativeOutputError(layer.weight, quantized, layer.hessian, { threads });
    if (showProgress) {
      process.stderr.write(`\r${prefix}: ${quantized.stats.seconds.toFixed(2)} s, error ${error.toExponential(3)}\n`);
    }
    rows.push({
      label: config.label,
      codeBits: quantized.stats.codeBits,
      storageBits: quantized.stats.storageBits,
      error,
      seconds: quantized.stats.seconds,
    });
  }
  return rows;
}

/** Formats the table; `seconds` is a total over layers when there are several. */
export function formatTable(rows: Row[], secondsHeader = 'seconds'): string {
  const header = ['config', 'code bits', 'storage bits', 'rel. output error', secondsHeader];
  const body = rows.map((row) => [
    row.label, row.codeBits.toFixed(3), row.storageBits.toFixed(3), row.error.toExponential(3), row.seconds.toFixed(2),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column].length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? ` ${'-'.repeat(width)} ` : ` ${'-'.repeat(width - 1)}: `)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

async function demoSynthetic(threads: number | undefined): Promise<void> {
  process.stderr.write('generating a 4096 x 4096 layer and 2048 calibration tokens (seed 1)\n');
  const layer = syntheticLayer();
  const hessian = new Hessian(layer.cols);
  await hessian.addAsync(layer.activations, layer.tokens, { threads });
  const rows = await runConfigs({
    name: 'synthetic 4096x4096',
    weight: { data: layer.weight, rows: layer.rows, cols: layer.cols },
    hessian,
  }, threads, true);
  console.log(`Generated 4096 x 4096 layer, ${layer.plantedOutliers} planted outliers, 2048 calibration tokens\n`);
  console.log(formatTable(rows));
}

async function demoModel(dir: string, threads: number | undefined): Promise<void> {
  const checkpoint = await CalibratedCheckpoint.open(dir);
  const sums = new Map<string, Row>();
  try {
    process.stderr.write(`${dir}: ${checkpoint.layerNames.length} linear layers, Hessians from ${checkpoint.calibration}\n`);
    for (const name of checkpoint.layerNames) {
      const layer = await checkpoint.layer(name);
      for (const row of await runConfigs(layer, threads, false)) {
        const sum = sums.get(row.label) ?? { label: row.label, codeBits: 0, storageBits: 0, error: 0, seconds: 0 };
        sum.codeBits += row.codeBits;
        sum.storageBits += row.storageBits;
        sum.error += row.error;
        sum.seconds += row.seconds;
        sums.set(row.label, sum);
      }
      process.stderr.write(`${name} done\n`);
    }
  } finally {
    await checkpoint.close();
  }
  const count = checkpoint.layerNames.length;
  const means = [...sums.values()].map((sum) => ({
    ...sum, codeBits: sum.codeBits / count, storageBits: sum.storageBits / count, error: sum.error / count,
  }));
  console.log(`${dir}: mean over ${count} linear layers (Hessians from ${checkpoint.calibration}); ` +
    'seconds are totals\n');
  console.log(formatTable(means, 'total seconds'));
}

export const command: Command = {
  summary: 'quantize a generated layer or a checkpoint with rtn, gptq and claq and compare',
  async run(args: string[]): Promise<number> {
    let values: { model?: string; threads?: string; help?: boolean };
    try {
      ({ values } = parseArgs({
        args,
        options: { model: { type: 'string' }, threads: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      console.error(`claq demo: ${(error as Error).message}\n\n${HELP}`);
      return 2;
    }
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    let threads: number | undefined;
    if (values.threads !== undefined) {
      threads = Number(values.threads);
      if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
        console.error(`claq demo: --threads must be an integer in [1, 1024], received '${values.threads}'`);
        return 2;
      }
    }
    try {
      if (values.model === undefined) {
        await demoSynthetic(threads);
      } else {
        await demoModel(values.model, threads);
      }
    } catch (error) {
      console.error(`claq demo: ${(error as Error).message}`);
      return 1;
    }
    return 0;
  },
};

export default command;
