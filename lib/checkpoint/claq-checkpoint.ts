// The claq checkpoint format: quantized linear layers stored as safetensors
// tensors beside the untouched tensors of a model. docs/FORMAT.md
// ("Checkpoint format") describes the layout for readers in other languages.
import type { QuantizedParts } from '../quantized-parts.js';
import { float16BytesToFloat32, float32ToFloat16Bytes } from '../safetensors/convert.js';
import type { Dtype } from '../safetensors/dtype.js';
import { SafetensorsError } from '../safetensors/errors.js';
import type { TensorReader } from '../safetensors/file.js';
import { openCheckpoint } from '../safetensors/checkpoint.js';
import type { TensorInfo } from '../safetensors/header.js';
import { JsonSyntaxError, parseStrictJson, safeNonNegativeInteger } from '../safetensors/strict-json.js';
import { type TensorToWrite, writeSafetensors } from '../safetensors/writer.js';
import { packCodes, packedCodeBytes, unpackCodes } from './code-packing.js';
import { MAX_ROW_GRID_BITS, type PartsContext, validateQuantizedParts } from './validate.js';

/** `__metadata__.format` of a claq checkpoint. */
export const CLAQ_FORMAT = 'claq';
/** `__metadata__.claq_version`: the layout version this code writes and reads. */
export const CLAQ_FORMAT_VERSION = '1';
/** `__metadata__` key of the JSON object `{ "<layer>": { "rows": R, "cols": C } }`. */
export const CLAQ_LAYERS_KEY = 'claq_layers';

/** The tensors of one quantized layer with codebooks, `<layer>.claq.<part>`, with their dtypes. */
export const LAYER_PARTS: Readonly<Record<string, Dtype>> = {
  bits: 'U8',
  permutation: 'I32',
  codes: 'U8',
  codebook_offsets: 'U32',
  codebooks: 'F16',
  outlier_rows: 'I32',
  outlier_cols: 'I32',
  outlier_values: 'F16',
};

/**
 * The tensors of a row-grid layer (the gptq and rtn grid): no codebooks, no
 * offsets and no outliers, but a float16 scale and a zero point per row. The
 * zero points are bit-packed at the layer's width like one column of codes.
 * The codebooks are the identity levels 0 .. 2^bits - 1, rebuilt on load.
 */
export const ROW_GRID_PARTS: Readonly<Record<string, Dtype>> = {
  bits: 'U8',
  permutation: 'I32',
  codes: 'U8',
  row_scales: 'F16',
  row_zeros: 'U8',
};

/** Returns the part tensors of a row-grid layer or of a layer with codebooks. */
export function layerParts(rowGrid: boolean): Readonly<Record<string, Dtype>> {
  return rowGrid ? ROW_GRID_PARTS : LAYER_PARTS;
}

/** Name of one part tensor of a layer, e.g. ('model.layers.0.mlp.up_proj', 'codes'). */
export function partTensorName(layer: string, part: string): string {
  return `${layer}.claq.${part}`;
}

export interface LayerShape {
  rows: number;
  cols: number;
  /** True for a row-grid layer (ROW_GRID_PARTS); set by ClaqCheckpoint.open. */
  rowGrid?: boolean;
}

/**
 * Builds the safetensors tensors that store one quantized layer. Validates the
 * parts first, and requires codebooks and outlier values to be exact float16
 * values (they are stored as F16, and a lossy save would not round-trip).
 * @throws SafetensorsError 'bad-checkpoint' naming the invalid part.
 */
export function quantizedLayerTensors(layer: string, parts: QuantizedParts): TensorToWrite[] {
  const context: PartsContext = { file: '<memory>', tensorOf: (part) => partTensorName(layer, part) };
  validateQuantizedParts(parts, context);
  const codeBytes = packedCodeBytes(parts.rows, parts.bitsPerColumn);
  if (parts.rowScales !== undefined && parts.rowZeros !== undefined) {
    const data: TensorToWrite['data'][] = [
      parts.bitsPerColumn,
      parts.permutation,
      () => packCodes(parts.codes, parts.rows, parts.bitsPerColumn),
      exactFloat16(parts.rowScales, 'row_scales', context),
      packCodes(Uint8Array.from(parts.rowZeros), parts.rows, parts.bitsPerColumn.subarray(0, 1)),
    ];
    const shapes = rowGridLayerShapes(layer, parts.rows, codeBytes, parts.cols, parts.bitsPerColumn[0]);
    return shapes.map((tensor, index) => ({ ...tensor, data: data[index] }));
  }
  const codebooks = exactFloat16(parts.codebooks, 'codebooks', context);
  const outlierValues = exactFloat16(parts.outlierValues, 'outlier_values', context);
  const data: TensorToWrite['data'][] = [
    parts.bitsPerColumn,
    parts.permutation,
    () => packCodes(parts.codes, parts.rows, parts.bitsPerColumn),
    parts.codebookOffsets,
    codebooks,
    parts.outlierRows,
    parts.outlierCols,
    outlierValues,
  ];
  const shapes = quantizedLayerShapes(layer, parts.rows, codeBytes, parts.cols, parts.codebooks.length, parts.outlierValues.length);
  return shapes.map((tensor, index) => ({ ...tensor, data: data[index] }));
}

/**
 * A quantized layer given by its sizes, whose parts are produced only when
 * the writer reaches it, so a checkpoint can be saved with one layer in
 * memory at a time. The sizes fix the header, which is written first.
 */
export interface LazyQuantizedLayer {
  rows: number;
  cols: number;
  /** Code width of each column (fixes the packed size of the codes). */
  bitsPerColumn: Uint8Array;
  /** Total number of centroids, `codebookOffsets[cols]`. */
  codebookCount: number;
  /** Number of reserved outliers. */
  outlierCount: number;
  /** True when the parts have a row grid (rowScales, rowZeros); default false. */
  rowGrid?: boolean;
  /** Produces the parts; called once, when the writer reaches the layer. */
  load(): QuantizedParts | Promise<QuantizedParts>;
}

function isLazyLayer(layer: QuantizedParts | LazyQuantizedLayer): layer is LazyQuantizedLayer {
  return typeof (layer as LazyQuantizedLayer).load === 'function';
}

/**
 * Builds the tensors of a lazy layer. The writer calls the data functions in
 * order, so the first one loads, validates and encodes the parts. The others
 * reuse them, and the last one drops them.
 * @throws SafetensorsError 'bad-checkpoint' (during the write) when the
 *   loaded parts are invalid or do not match the declared sizes.
 */
export function lazyQuantizedLayerTensors(layer: string, lazy: LazyQuantizedLayer): TensorToWrite[] {
  const context: PartsContext = { file: '<memory>', tensorOf: (part) => partTensorName(layer, part) };
  const { rows, cols, bitsPerColumn, codebookCount, outlierCount } = lazy;
  if (!Number.isSafeInteger(rows) || rows < 1 || !Number.isSafeInteger(cols) || cols < 1 || bitsPerColumn?.length !== cols ||
      !Number.isSafeInteger(codebookCount) || codebookCount < 0 || !Number.isSafeInteger(outlierCount) || outlierCount < 0) {
    throw new RangeError(`lazy layer '${layer}': rows and cols must be positive integers, bitsPerColumn of length cols, ` +
      'and codebookCount and outlierCount non-negative integers');
  }

  let pending: Promise<TensorToWrite[]> | undefined;
  const encoded = (): Promise<TensorToWrite[]> => (pending ??= (async () => {
    const parts = await lazy.load();
    validateQuantizedParts(parts, context);
    const matches = parts.rows === rows && parts.cols === cols && parts.codebooks.length === codebookCount &&
      parts.outlierValues.length === outlierCount && parts.bitsPerColumn.every((bits, j) => bits === bitsPerColumn[j]) &&
      (parts.rowScales !== undefined) === (lazy.rowGrid ?? false);
    if (!matches) {
      throw new SafetensorsError('bad-checkpoint', context.file, layer,
        'the loaded parts do not match the rows, cols, bits per column, codebook count, outlier count or row grid ' +
        'declared for the layer');
    }
    return quantizedLayerTensors(layer, parts);
  })());

  const codeBytes = packedCodeBytes(rows, bitsPerColumn);
  const eager = lazy.rowGrid
    ? rowGridLayerShapes(layer, rows, codeBytes, cols, bitsPerColumn[0])
    : quantizedLayerShapes(layer, rows, codeBytes, cols, codebookCount, outlierCount);
  return eager.map((tensor, index) => ({
    ...tensor,
    data: async () => {
      const tensors = await encoded();
      const { data } = tensors[index];
      if (index === tensors.length - 1) pending = undefined;
      return typeof data === 'function' ? data() : data;
    },
  }));
}

// The eight tensors of a layer without data, in file order.
function quantizedLayerShapes(
  layer: string,
  rows: number,
  codeBytes: number,
  cols: number,
  codebookCount: number,
  outlierCount: number,
): Omit<TensorToWrite, 'data'>[] {
  const shapes: [string, number][] = [
    ['bits', cols], ['permutation', cols], ['codes', codeBytes], ['codebook_offsets', cols + 1],
    ['codebooks', codebookCount], ['outlier_rows', outlierCount], ['outlier_cols', outlierCount],
    ['outlier_values', outlierCount],
  ];
  return shapes.map(([part, length]) => ({ name: partTensorName(layer, part), dtype: LAYER_PARTS[part], shape: [length] }));
}

// The five tensors of a row-grid layer without data, in file order.
function rowGridLayerShapes(layer: string, rows: number, codeBytes: number, cols: number,
  bits: number): Omit<TensorToWrite, 'data'>[] {
  const shapes: [string, number][] = [
    ['bits', cols], ['permutation', cols], ['codes', codeBytes], ['row_scales', rows],
    ['row_zeros', Math.ceil((rows * bits) / 8)],
  ];
  return shapes.map(([part, length]) => ({ name: partTensorName(layer, part), dtype: ROW_GRID_PARTS[part], shape: [length] }));
}

function exactFloat16(values: Float32Array, part: string, context: PartsContext): Uint8Array {
  const bytes = float32ToFloat16Bytes(values);
  const back = float16BytesToFloat32(bytes);
  for (let i = 0; i < values.length; ++i) {
    if (!Object.is(back[i], values[i])) {
      throw new SafetensorsError('bad-checkpoint', context.file, context.tensorOf(part),
        `value ${values[i]} at index ${i} is not exactly representable in float16 (nearest: ${back[i]})`);
    }
  }
  return bytes;
}

export interface SaveClaqCheckpointOptions {
  /**
   * Quantized layers by name (e.g. 'model.layers.0.self_attn.q_proj'), as
   * parts in memory or as lazy layers loaded one at a time during the write.
   */
  layers:
    | ReadonlyMap<string, QuantizedParts | LazyQuantizedLayer>
    | Iterable<readonly [string, QuantizedParts | LazyQuantizedLayer]>;
  /** Untouched tensors of the model, written as they are (norms, embeddings, biases). */
  tensors?: readonly TensorToWrite[];
  /** Extra `__metadata__` entries; `format`, `claq_version` and `claq_layers` are set by claq. */
  metadata?: Record<string, string>;
  /** Replace an existing file (default false). */
  overwrite?: boolean;
}

/**
 * Writes a claq checkpoint: every quantized layer's part tensors, then the
 * untouched tensors, with `__metadata__` naming the format and version.
 *
 * @example
 * await saveClaqCheckpoint('model.claq.safetensors', {
 *   layers: new Map([['model.layers.0.self_attn.q_proj', parts]]),
 *   tensors: [{ name: 'model.norm.weight', dtype: 'F32', shape: [64], data: norm }],
 * });
 * @throws SafetensorsError ('bad-checkpoint' for invalid parts, 'file-exists', 'io').
 */
export async function saveClaqCheckpoint(path: string, options: SaveClaqCheckpointOptions): Promise<void> {
  const shapes: Record<string, LayerShape> = {};
  const tensors: TensorToWrite[] = [];
  for (const [layer, parts] of options.layers) {
    if (typeof layer !== 'string' || layer === '') throw new TypeError('saveClaqCheckpoint: layer names must be non-empty strings');
    if (Object.prototype.hasOwnProperty.call(shapes, layer)) throw new RangeError(`saveClaqCheckpoint: layer '${layer}' appears twice`);
    Object.defineProperty(shapes, layer, { value: { rows: parts.rows, cols: parts.cols }, enumerable: true });
    const layerTensors = isLazyLayer(parts) ? lazyQuantizedLayerTensors(layer, parts) : quantizedLayerTensors(layer, parts);
    tensors.push(...layerTensors);
  }
  for (const tensor of options.tensors ?? []) {
    if (tensor.name.includes('.claq.')) {
      throw new RangeError(`saveClaqCheckpoint: tensor name '${tensor.name}' contains '.claq.', reserved for quantized layers`);
    }
    tensors.push(tensor);
  }
  const metadata: Record<string, string> = { ...options.metadata };
  metadata.format = CLAQ_FORMAT;
  metadata.claq_version = CLAQ_FORMAT_VERSION;
  metadata[CLAQ_LAYERS_KEY] = JSON.stringify(shapes);
  await writeSafetensors(path, tensors, { metadata, overwrite: options.overwrite });
}

/** A claq checkpoint opened for lazy reads of its layers and untouched tensors. */
export class ClaqCheckpoint {
  private constructor(
    /** The underlying safetensors file or sharded checkpoint, for the untouched tensors. */
    readonly reader: TensorReader,
    /** Every quantized layer with its shape. */
    readonly layers: ReadonlyMap<string, LayerShape>,
  ) {}

  /**
   * Opens a claq checkpoint (a file or folder, as openCheckpoint) and checks
   * its metadata and the presence, dtype and shape of every layer's tensors.
   * Layer contents are validated when loaded.
   * @throws SafetensorsError 'bad-checkpoint' for a file that is not a valid claq checkpoint.
   */
  static async open(fileOrDir: string): Promise<ClaqCheckpoint> {
    return ClaqCheckpoint.fromReader(await openCheckpoint(fileOrDir));
  }

  /** Checks an already open checkpoint as `open` does; takes ownership of `reader` (closes it on failure). */
  static async fromReader(reader: TensorReader): Promise<ClaqCheckpoint> {
    try {
      return new ClaqCheckpoint(reader, readLayerShapes(reader));
    } catch (error) {
      await reader.close();
      throw error;
    }
  }

  /** Lists the tensors that are not part of a quantized layer. */
  untouchedTensors(): TensorInfo[] {
    return this.reader.tensors().filter((tensor) => !tensor.name.includes('.claq.'));
  }

  /**
   * Reads one quantized layer and validates every index and size in it
   * (see validateQuantizedParts), so its parts are safe to hand to a kernel.
   * @throws SafetensorsError 'bad-checkpoint' naming the tensor and the rule.
   */
  async loadLayer(layer: string): Promise<QuantizedParts> {
    const shape = this.layers.get(layer);
    if (shape === undefined) {
      throw new SafetensorsError('tensor-not-found', this.reader.path, layer, 'no quantized layer of this name');
    }
    return readLayer(this.reader, layer, shape);
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

function readLayerShapes(reader: TensorReader): Map<string, LayerShape> {
  const file = reader.path;
  const { metadata } = reader;
  if (metadata.format !== CLAQ_FORMAT) {
    throw new SafetensorsError('bad-checkpoint', file, undefined,
      `__metadata__.format is ${JSON.stringify(metadata.format)}; a claq checkpoint has "${CLAQ_FORMAT}"`);
  }
  if (metadata.claq_version !== CLAQ_FORMAT_VERSION) {
    throw new SafetensorsError('bad-checkpoint', file, undefined,
      `__metadata__.claq_version is ${JSON.stringify(metadata.claq_version)}; this claq reads version ${CLAQ_FORMAT_VERSION}`);
  }
  const layers = parseLayerShapes(metadata[CLAQ_LAYERS_KEY], file);
  for (const [layer, shape] of layers) checkLayerTensors(reader, layer, shape);
  for (const tensor of reader.tensors()) {
    const at = tensor.name.lastIndexOf('.claq.');
    if (at >= 0 && !layers.has(tensor.name.slice(0, at))) {
      throw new SafetensorsError('bad-checkpoint', file, tensor.name, `belongs to no layer listed in __metadata__.${CLAQ_LAYERS_KEY}`);
    }
  }
  return layers;
}

function parseLayerShapes(text: string | undefined, file: string): Map<string, LayerShape> {
  const fail = (rule: string): never => {
    throw new SafetensorsError('bad-checkpoint', file, undefined, `__metadata__.${CLAQ_LAYERS_KEY} ${rule}`);
  };
  if (text === undefined) fail('is missing');
  let root;
  try {
    root = parseStrictJson(text as string);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    return fail(`is not valid JSON: ${error.message}`);
  }
  if (!(root instanceof Map)) return fail('must be a JSON object of layer shapes');
  const layers = new Map<string, LayerShape>();
  for (const [layer, value] of root) {
    const rows = value instanceof Map ? value.get('rows') : undefined;
    const cols = value instanceof Map ? value.get('cols') : undefined;
    const r = safeNonNegativeInteger(rows);
    const c = safeNonNegativeInteger(cols);
    if (r === undefined || c === undefined || r < 1 || c < 1 || r * c > 2 ** 32 || c >= 2 ** 31 || r >= 2 ** 31) {
      fail(`gives layer '${layer}' an invalid shape; expected {"rows": R, "cols": C} with positive integers, R * C <= 2^32`);
    }
    layers.set(layer, { rows: r as number, cols: c as number });
  }
  return layers;
}

// Checks, before any data is read, that each part tensor exists with its
// dtype and the length that rows and cols imply. This bounds every read and
// allocation of loadLayer by the sizes in the file.
// A layer with a row_scales tensor is a row-grid layer; the tensors of the
// other kind must then be absent, and the other way round.
function checkLayerTensors(reader: TensorReader, layer: string, shape: LayerShape): void {
  const { rows, cols } = shape;
  const rowGrid = reader.has(partTensorName(layer, 'row_scales'));
  if (rowGrid) shape.rowGrid = true;
  const parts = layerParts(rowGrid);
  for (const part of Object.keys(layerParts(!rowGrid))) {
    const name = partTensorName(layer, part);
    if (!(part in parts) && reader.has(name)) {
      throw new SafetensorsError('bad-checkpoint', reader.path, name,
        `does not belong in a ${rowGrid ? 'row-grid layer (it has row_scales)' : 'layer with codebooks (it has no row_scales)'}`);
    }
  }
  const expectVector = (part: string, length?: number): number => {
    const name = partTensorName(layer, part);
    if (!reader.has(name)) throw new SafetensorsError('bad-checkpoint', reader.path, name, 'the layer tensor is missing');
    const info = reader.info(name);
    if (info.dtype !== parts[part] || info.shape.length !== 1 || (length !== undefined && info.shape[0] !== length)) {
      throw new SafetensorsError('bad-checkpoint', reader.path, name,
        `is ${info.dtype} [${info.shape.join(', ')}]; expected ${parts[part]} [${length ?? 'n'}]`);
    }
    return info.shape[0];
  };
  expectVector('bits', cols);
  expectVector('permutation', cols);
  expectVector('codes');
  if (rowGrid) {
    expectVector('row_scales', rows);
    expectVector('row_zeros');
    return;
  }
  expectVector('codebook_offsets', cols + 1);
  expectVector('codebooks');
  const outliers = expectVector('outlier_values');
  expectVector('outlier_rows', outliers);
  expectVector('outlier_cols', outliers);
  if (outliers > rows * cols) {
    throw new SafetensorsError('bad-checkpoint', reader.path, partTensorName(layer, 'outlier_values'),
      `has ${outliers} outliers, more than the ${rows * cols} weights of the layer`);
  }
}

async function readLayer(reader: TensorReader, layer: string, { rows, cols, rowGrid }: LayerShape): Promise<QuantizedParts> {
  const context: PartsContext = { file: reader.path, tensorOf: (part) => partTensorName(layer, part) };
  const read = (part: string) => reader.readBytes(partTensorName(layer, part));

  const bitsPerColumn = await read('bits');
  for (let j = 0; j < cols; ++j) {
    if (bitsPerColumn[j] < 1 || bitsPerColumn[j] > 8) {
      throw new SafetensorsError('bad-checkpoint', reader.path, context.tensorOf('bits'),
        `column ${j} has ${bitsPerColumn[j]} bits; expected 1 to 8`);
    }
  }

  const packed = await read('codes');
  const expectedBytes = packedCodeBytes(rows, bitsPerColumn);
  if (packed.length !== expectedBytes) {
    throw new SafetensorsError('bad-checkpoint', reader.path, context.tensorOf('codes'),
      `has ${packed.length} bytes; ${rows} rows at the layer's bits per column need ${expectedBytes}`);
  }
  const { codes, badPaddingColumn } = unpackCodes(packed, rows, bitsPerColumn);
  if (badPaddingColumn >= 0) {
    throw new SafetensorsError('bad-checkpoint', reader.path, context.tensorOf('codes'),
      `column ${badPaddingColumn} has non-zero padding bits after its last code`);
  }

  // NOTE: the integer parts are viewed in host byte order, which matches the
  // file's little-endian data only on little-endian hosts (x86-64, AArch64).
  const permutation = new Int32Array((await read('permutation')).buffer);
  if (rowGrid) {
    const parts = rowGridParts(rows, cols, bitsPerColumn, permutation, codes, context);
    parts.rowScales = float16BytesToFloat32(await read('row_scales'));
    parts.rowZeros = await readRowZeros(await read('row_zeros'), rows, bitsPerColumn.subarray(0, 1), reader.path, context);
    validateQuantizedParts(parts, context);
    return parts;
  }
  const parts: QuantizedParts = {
    rows,
    cols,
    bitsPerColumn,
    permutation,
    codes,
    codebookOffsets: new Uint32Array((await read('codebook_offsets')).buffer),
    codebooks: float16BytesToFloat32(await read('codebooks')),
    outlierRows: new Int32Array((await read('outlier_rows')).buffer),
    outlierCols: new Int32Array((await read('outlier_cols')).buffer),
    outlierValues: float16BytesToFloat32(await read('outlier_values')),
  };
  validateQuantizedParts(parts, context);
  return parts;
}

// Unpacks the zero points, packed like one column of codes at the layer's width.
function readRowZeros(packed: Uint8Array, rows: number, width: Uint8Array, file: string,
  context: PartsContext): Float32Array {
  const expectedBytes = packedCodeBytes(rows, width);
  if (packed.length !== expectedBytes) {
    throw new SafetensorsError('bad-checkpoint', file, context.tensorOf('row_zeros'),
      `has ${packed.length} bytes; ${rows} zero points of ${width[0]} bits need ${expectedBytes}`);
  }
  const { codes, badPaddingColumn } = unpackCodes(packed, rows, width);
  if (badPaddingColumn >= 0) {
    throw new SafetensorsError('bad-checkpoint', file, context.tensorOf('row_zeros'),
      'has non-zero padding bits after the last zero point');
  }
  return Float32Array.from(codes);
}

// The parts of a row-grid layer with its identity codebooks rebuilt. The bits
// are checked here, before they size the codebooks: one width of at most 4.
// So the codebooks take at most 64 bytes per column, about 10 times the
// column's 6 or more bytes in the file.
function rowGridParts(rows: number, cols: number, bitsPerColumn: Uint8Array, permutation: Int32Array,
  codes: Uint8Array, context: PartsContext): QuantizedParts {
  const bits = bitsPerColumn[0];
  const mixed = bitsPerColumn.findIndex((b) => b !== bits);
  if (mixed >= 0) {
    throw new SafetensorsError('bad-checkpoint', context.file, context.tensorOf('bits'),
      `column ${mixed} has ${bitsPerColumn[mixed]} bits and column 0 has ${bits}; a row-grid layer has one width`);
  }
  if (bits > MAX_ROW_GRID_BITS) {
    throw new SafetensorsError('bad-checkpoint', context.file, context.tensorOf('bits'),
      `a row-grid layer has ${bits} bits; expected 1 to ${MAX_ROW_GRID_BITS}`);
  }
  const levels = 2 ** bits;
  return {
    rows, cols, bitsPerColumn, permutation, codes,
    codebookOffsets: Uint32Array.from({ length: cols + 1 }, (_, j) => j * levels),
    codebooks: Float32Array.from({ length: cols * levels }, (_, k) => k % levels),
    outlierRows: new Int32Array(0),
    outlierCols: new Int32Array(0),
    outlierValues: new Float32Array(0),
  };
}

/**
 * Saves one quantized layer as a claq checkpoint of its own, under the layer
 * name `name` (default 'layer').
 * @throws SafetensorsError as saveClaqCheckpoint.
 */
export async function saveQuantizedParts(
  path: string,
  parts: QuantizedParts,
  options: { name?: string; overwrite?: boolean; metadata?: Record<string, string> } = {},
): Promise<void> {
  await saveClaqCheckpoint(path, {
    layers: [[options.name ?? 'layer', parts]],
    overwrite: options.overwrite,
    metadata: options.metadata,
  });
}

/**
 * Loads and validates one quantized layer from a claq checkpoint: the layer
 * `name`, or the only layer when `name` is omitted.
 * @throws SafetensorsError ('bad-checkpoint', 'tensor-not-found', header rules).
 */
export async function loadQuantizedParts(path: string, name?: string): Promise<QuantizedParts> {
  const checkpoint = await ClaqCheckpoint.open(path);
  try {
    if (name === undefined) {
      if (checkpoint.layers.size !== 1) {
        throw new SafetensorsError('bad-checkpoint', path, undefined,
          `holds ${checkpoint.layers.size} quantized layers; pass the name of the one to load`);
      }
      name = checkpoint.layers.keys().next().value as string;
    }
    return await checkpoint.loadLayer(name);
  } finally {
    await checkpoint.close();
  }
}
