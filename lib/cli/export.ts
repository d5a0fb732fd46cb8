// `claq export CHECKPOINT_DIR --dequantize --out DIR`: a claq checkpoint back
// to a plain float32 Hugging Face folder.
import { parseArgs } from 'node:util';

import { exportDequantized } from '../model/dequantize.js';
import type { Command } from './main.js';
import { nameFlags } from './parsed-command.js';

const USAGE = `usage: claq export CHECKPOINT_DIR --dequantize --out DIR [--overwrite]

Writes DIR as a plain Hugging Face folder: each quantized layer of the claq
checkpoint folder (from "claq quantize") dequantized to float32, the other
tensors, config and tokenizer files as they are. Other tools can then load it.

  --dequantize   required: the only export format so far
  --out DIR      output folder (built under a temporary name, renamed at the end)
  --overwrite    replace an existing DIR`;

export const command: Command = {
  summary: 'write a claq checkpoint back as a dequantized float32 folder',
  async run(args: string[]): Promise<number> {
    let values: { dequantize: boolean; out?: string; overwrite: boolean; help: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          dequantize: { type: 'boolean', default: false },
          out: { type: 'string' },
          overwrite: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
      }));
      if (!values.help && (positionals.length !== 1 || values.out === undefined || !values.dequantize)) {
        throw new RangeError('expected CHECKPOINT_DIR, --dequantize and --out DIR');
      }
    } catch (error) {
      console.error(`claq export: ${(error as Error).message}`);
      console.error(USAGE);
      return 2;
    }
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    try {
      const result = await exportDequantized(positionals[0], values.out as string, { overwrite: values.overwrite });
      console.log(`wrote ${values.out}: ${result.layers} dequantized layers, ${result.tensors} tensors`);
      return 0;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`claq export: ${nameFlags(message, { overwrite: '--overwrite' })}`);
      return 1;
    }
  },
};

export default command;
