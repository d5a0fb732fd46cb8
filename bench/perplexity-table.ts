// Perplexity of stories260K after quantizing every linear layer with each
// method and width: calibrated on all 128 calibration sequences, evaluated on
// the full evaluation stream at ctx 512. Prints a markdown table with the
// weighted mean code bits and storage bits over the 35 layers.
//
//   npm run bench:perplexity [-- DATA_DIR]   (default: $CLAQ_STORIES_DIR or ../shared/data/stories260k)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { evaluatePerplexity, loadModel, quantizeModel, readTokenFile } from '../lib/index.js';
import type { QuantizeModelOptions } from '../lib/index.js';

type Config = Pick<QuantizeModelOptions, 'method' | 'bits' | 'targetBits' | 'outliers'>;

const CONFIGS: Array<[string, Config]> = [
  ['rtn 2-bit', { method: 'rtn', bits: 2 }],
  ['gptq 2-bit', { method: 'gptq', bits: 2 }],
  ['claq 2-bit', { bits: 2 }],
  ['rtn 3-bit', { method: 'rtn', bits: 3 }],
  ['gptq 3-bit', { method: 'gptq', bits: 3 }],
  ['claq 3-bit', { bits: 3 }],
  ['rtn 4-bit', { method: 'rtn', bits: 4 }],
  ['gptq 4-bit', { method: 'gptq', bits: 4 }],
  ['claq 4-bit', { bits: 4 }],
  ['claq AP 2.1', { targetBits: 2.1 }],
  ['claq OR (2-bit)', { bits: 2, outliers: true }],
  ['claq AP 2.05 + OR', { targetBits: 2.05, outliers: true }],
];

async function main(): Promise<void> {
  const dataDir = process.argv[2] ?? process.env.CLAQ_STORIES_DIR ?? '../shared/data/stories260k';
  const modelDir = join(dataDir, 'hf');
  const calibration = await readTokenFile(join(dataDir, 'calib_tokens.u16'), 16);
  const evalTokens = await readTokenFile(join(dataDir, 'eval_tokens.u16'), 16);
  const scratch = await mkdtemp(join(tmpdir(), 'claq-perplexity-table-'));

  const reference = await evaluatePerplexity(await loadModel(modelDir), evalTokens, { ctx: 512 });
  const rows = [
    '| config | code bits | storage bits | perplexity |',
    '| --- | ---: | ---: | ---: |',
    `| float32 | 32 | 32 | ${reference.perplexity.toFixed(3)} |`,
  ];
  console.log(rows.join('\n'));

  try {
    for (const [label, config] of CONFIGS) {
      const out = join(scratch, label.replace(/[^a-z0-9]+/gi, '-'));
      const result = await quantizeModel(modelDir, out, { ...config, calibration, calibSamples: 128, seqLen: 256 });
      const weights = result.layers.reduce((sum, layer) => sum + layer.rows * layer.cols, 0);
      const mean = (pick: (layer: (typeof result.layers)[number]) => number): number =>
        result.layers.reduce((sum, layer) => sum + pick(layer) * layer.rows * layer.cols, 0) / weights;
      const perplexity = await evaluatePerplexity(await loadModel(out), evalTokens, { ctx: 512 });
      const row = `| ${label} | ${mean((l) => l.codeBits).toFixed(3)} | ${mean((l) => l.storageBits).toFixed(3)} | ` +
        `${perplexity.perplexity.toFixed(3)} |`;
      console.log(row);
      await rm(out, { recursive: true, force: true });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
