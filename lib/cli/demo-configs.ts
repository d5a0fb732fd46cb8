// The configurations that the demo, the benchmark and the real-data test
// compare: the RTN and GPTQ baselines and CLAQ at 2, 3 and 4 bits, then
// CLAQ's adaptive precision (AP) and outlier reservation (OR) near 2 bits.
// The baselines use the row grid (one min-max grid per output row, the
// standard GPTQ grid), not the design notes' grid per column.
import type { QuantizeOptions } from '../quantize-options.js';

export interface DemoConfig {
  label: string;
  options: QuantizeOptions;
}

export const DEMO_CONFIGS: readonly DemoConfig[] = [
  ...[2, 3, 4].flatMap((bits) => [
    { label: `rtn ${bits}-bit`, options: { method: 'rtn', bits, grid: 'row' } },
    { label: `gptq ${bits}-bit`, options: { method: 'gptq', bits, grid: 'row' } },
    { label: `claq ${bits}-bit`, options: { method: 'claq', bits } },
  ] satisfies DemoConfig[]),
  { label: 'claq AP 2.1', options: { targetBits: 2.1 } },
  { label: 'claq OR (2-bit)', options: { bits: 2, outliers: true } },
  { label: 'claq AP 2.05 + OR', options: { targetBits: 2.05, outliers: true } },
];
