// `claq inspect FILE_OR_DIR`: lists the tensors of a safetensors checkpoint
// and, for claq checkpoints, each quantized layer's bits, outliers and
// storage size.
import { CLAQ_FORMAT, ClaqCheckpoint, layerParts, partTensorName } from '../checkpoint/claq-checkpoint.js';
import { openCheckpoint } from '../safetensors/checkpoint.js';
import type { TensorReader } from '../safetensors/file.js';
import type { TensorInfo } from '../safetensors/header.js';
import type { Command } from './main.js';

export interface LayerReport {
  name: string;
  rows: number;
  cols: number;
  /** Mean code width over the columns (the code bits of the layer). */
  codeBits: number;
  /** Columns per code width, e.g. { 2: 58, 4: 6 }. */
  columnsPerWidth: Record<number, number>;
  outliers: number;
  /** True for a row-grid layer (gptq, rtn): per-row scales and zeros instead of codebooks. */
  rowGrid: boolean;
  /** Bytes of the layer's tensors (eight, or five for a row grid) × 8 / (rows × cols). */
  storageBits: number;
}

export interface InspectReport {
  path: string;
  metadata: Record<string, string>;
  tensors: TensorInfo[];
  /** Quantized layers; empty for a plain safetensors checkpoint. */
  layers: LayerReport[];
  /** True when every layer was loaded and validated (`--verify`). */
  verified: boolean;
}

/**
 * Opens a checkpoint and collects what `claq inspect` prints. For a claq
 * checkpoint it reads each layer's bits and outlier count (small tensors);
 * with `verify`, it loads and validates every layer in full.
 * @throws SafetensorsError for an invalid file.
 */
export async function inspectCheckpoint(path: string, options: { verify?: boolean } = {}): Promise<InspectReport> {
  const reader = await openCheckpoint(path);
  if (reader.metadata.format !== CLAQ_FORMAT) {
    await reader.close();
    return { path, metadata: reader.metadata, tensors: reader.tensors(), layers: [], verified: false };
  }

  const checkpoint = await ClaqCheckpoint.fromReader(reader);
  try {
    const layers: LayerReport[] = [];
    for (const [name, { rows, cols, rowGrid }] of checkpoint.layers) {
      if (options.verify) await checkpoint.loadLayer(name);
      layers.push(await layerReport(checkpoint.reader, name, rows, cols, rowGrid ?? false));
    }
    return { path, metadata: reader.metadata, tensors: reader.tensors(), layers, verified: options.verify ?? false };
  } finally {
    await checkpoint.close();
  }
}

async function layerReport(reader: TensorReader, name: string, rows: number, cols: number,
  rowGrid: boolean): Promise<LayerReport> {
  const bits = await reader.readBytes(partTensorName(name, 'bits'));
  const columnsPerWidth: Record<number, number> = {};
  let bitSum = 0;
  for (const width of bits) {
    columnsPerWidth[width] = (columnsPerWidth[width] ?? 0) + 1;
    bitSum += width;
  }
  let bytes = 0;
  for (const part of Object.keys(layerParts(rowGrid))) bytes += reader.info(partTensorName(name, part)).byteLength;
  return {
    name,
    rows,
    cols,
    codeBits: bitSum / cols,
    columnsPerWidth,
    outliers: rowGrid ? 0 : reader.info(partTensorName(name, 'outlier_values')).shape[0],
    rowGrid,
    storageBits: (bytes * 8) / (rows * cols),
  };
}

/** Formats a report as the text that `claq inspect` prints. */
export function formatInspectReport(report: InspectReport): string {
  const lines: string[] = [report.path];
  const metadataKeys = Object.keys(report.metadata);
  if (metadataKeys.length > 0) {
    lines.push('', 'metadata:');
    for (const key of metadataKeys) lines.push(`  ${key}: ${shorten(report.metadata[key], 100)}`);
  }

  const dataBytes = report.tensors.reduce((sum, tensor) => sum + tensor.byteLength, 0);
  lines.push('', `tensors: ${report.tensors.length}, ${dataBytes.toLocaleString('en-US')} bytes of data`);
  const rows = report.tensors.map((t) => [t.name, t.dtype, `[${t.shape.join(', ')}]`, t.byteLength.toLocaleString('en-US')]);
  lines.push(...table(['name', 'dtype', 'shape', 'bytes'], rows, [false, false, false, true]));

  if (report.layers.length > 0) {
    const verified = report.verified ? ', all verified' : ' (run with --verify to validate every code and index)';
    lines.push('', `quantized layers: ${report.layers.length}${verified}`);
    const layerRows = report.layers.map((layer) => [
      layer.name,
      `${layer.rows}x${layer.cols}`,
      layer.codeBits.toFixed(3),
      Object.entries(layer.columnsPerWidth).map(([width, count]) => `${width}:${count}`).join(' '),
      layer.rowGrid ? 'row grid' : 'codebooks',
      String(layer.outliers),
      layer.storageBits.toFixed(3),
    ]);
    lines.push(...table(['layer', 'shape', 'code bits', 'columns per width', 'levels', 'outliers', 'storage bits'], layerRows,
      [false, false, true, false, false, true, true]));
    const weights = report.layers.reduce((sum, layer) => sum + layer.rows * layer.cols, 0);
    const codeBits = report.layers.reduce((sum, layer) => sum + layer.codeBits * layer.rows * layer.cols, 0) / weights;
    const storageBits = report.layers.reduce((sum, layer) => sum + layer.storageBits * layer.rows * layer.cols, 0) / weights;
    lines.push(`all layers: ${weights.toLocaleString('en-US')} weights, ${codeBits.toFixed(3)} code bits, ` +
      `${storageBits.toFixed(3)} storage bits per weight`);
  }
  return lines.join('\n');
}

function table(header: string[], rows: string[][], alignRight: boolean[]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const format = (row: string[]) => '  ' + row
    .map((cell, column) => (alignRight[column] ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
    .join('  ')
    .trimEnd();
  return [format(header), ...rows.map(format)];
}

function shorten(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}… (${text.length} characters)` : text;
}

const USAGE = `usage: claq inspect [--json] [--verify] FILE_OR_DIR

Lists the tensors (name, dtype, shape, bytes) of a safetensors file, a sharded
checkpoint folder or its index file. For claq checkpoints it also lists each
quantized layer's code bits, columns per code width, levels (per-column
codebooks, or the per-row grid of gptq and rtn), reserved outliers and
storage bits per weight.

  --json     print the report as JSON
  --verify   load every quantized layer and validate all codes and indices`;

export const command: Command = {
  summary: 'list the tensors of a checkpoint and the bits of its quantized layers',
  async run(args: string[]): Promise<number> {
    const flags = new Set(args.filter((arg) => arg.startsWith('-')));
    const paths = args.filter((arg) => !arg.startsWith('-'));
    if (flags.has('--help') || flags.has('-h')) {
      console.log(USAGE);
      return 0;
    }
    const unknown = [...flags].filter((flag) => flag !== '--json' && flag !== '--verify');
    if (unknown.length > 0 || paths.length !== 1) {
      console.error(unknown.length > 0 ? `claq inspect: unknown option ${unknown[0]}` : 'claq inspect: expected one FILE_OR_DIR');
      console.error(USAGE);
      return 2;
    }
    try {
      const report = await inspectCheckpoint(paths[0], { verify: flags.has('--verify') });
      console.log(flags.has('--json') ? JSON.stringify(report, null, 2) : formatInspectReport(report));
      return 0;
    } catch (error) {
      console.error(`claq inspect: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
  },
};

export default command;
