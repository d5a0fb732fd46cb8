import { join } from 'node:path';

import {
  ClaqCheckpoint,
  SafetensorsFile,
  loadQuantizedParts,
  packCodes,
  quantizedLayerTensors,
  saveClaqCheckpoint,
  saveQuantizedParts,
  unpackCodes,
  validateQuantizedParts,
  memoryContext,
  writeSafetensors,
} from '../lib/index.js';
import type { QuantizedParts, TensorToWrite } from '../lib/index.js';
import { copyParts, makeParts } from './checkpoint-helpers.js';
import { temporaryFolder } from './safetensors-helpers.js';

function expectSameParts(actual: QuantizedParts, expected: QuantizedParts): void {
  expect(actual.rows).toBe(expected.rows);
  expect(actual.cols).toBe(expected.cols);
  for (const key of ['bitsPerColumn', 'permutation', 'codes', 'codebookOffsets', 'codebooks',
    'outlierRows', 'outlierCols', 'outlierValues'] as const) {
    expect(actual[key].constructor.name).toBe(expected[key].constructor.name);
    expect(Array.from(actual[key] as ArrayLike<number>)).toEqual(Array.from(expected[key] as ArrayLike<number>));
  }
}

describe('code packing', () => {
  test('column streams pack LSB first with byte-aligned columns', () => {
    // Two rows, two columns: column 0 has 3 bits (codes 5, 2), column 1 has 1 bit (codes 1, 1).
    const packed = packCodes(new Uint8Array([5, 1, 2, 1]), 2, new Uint8Array([3, 1]));
    expect(Array.from(packed)).toEqual([0b010101, 0b11]);
    const { codes, badPaddingColumn } = unpackCodes(packed, 2, new Uint8Array([3, 1]));
    expect(Array.from(codes)).toEqual([5, 1, 2, 1]);
    expect(badPaddingColumn).toBe(-1);
    expect(unpackCodes(new Uint8Array([0b11010101, 0b11]), 2, new Uint8Array([3, 1])).badPaddingColumn).toBe(0);
  });

  test('every width round-trips for odd row counts', () => {
    for (let bits = 1; bits <= 8; ++bits) {
      for (const rows of [1, 7, 8, 9, 33]) {
        const parts = makeParts(bits * 100 + rows, rows, 5, [bits]);
        const widths = new Uint8Array(5).fill(bits);
        const codes = new Uint8Array(rows * 5).map((_, i) => (i * 37 + bits) % (1 << bits));
        const packed = packCodes(codes, rows, widths);
        expect(packed.length).toBe(5 * Math.ceil((rows * bits) / 8));
        expect(Array.from(unpackCodes(packed, rows, widths).codes)).toEqual(Array.from(codes));
        expect(parts.rows).toBe(rows);
      }
    }
  });

  test('bad widths and lengths are rejected', () => {
    expect(() => packCodes(new Uint8Array(4), 2, new Uint8Array([9, 1]))).toThrow('bitsPerColumn[0] = 9 is not in [1, 8]');
    expect(() => packCodes(new Uint8Array(3), 2, new Uint8Array([3, 1]))).toThrow(RangeError);
    expect(() => unpackCodes(new Uint8Array(1), 2, new Uint8Array([3, 1]))).toThrow('stream has 1 bytes, expected 2');
    expect(() => unpackCodes(new Uint8Array(2), 2, new Uint8Array([0, 1]))).toThrow('bitsPerColumn[0] = 0');
    expect(() => unpackCodes(new Uint8Array(0), -2, new Uint8Array([3]))).toThrow('rows must be a non-negative integer, received -2');
    expect(() => packCodes(new Uint8Array(0), 1.5, new Uint8Array(0))).toThrow('received 1.5');
    expect(unpackCodes(new Uint8Array(0), 2 ** 40, new Uint8Array(0)).codes.length).toBe(0);
  });
});

describe('claq checkpoint', () => {
  const folder = temporaryFolder('checkpoint');
  afterAll(() => folder.remove());

  test('layers and untouched tensors round-trip exactly', async () => {
    const path = join(folder.path, 'model.safetensors');
    const q = makeParts(1, 64, 48);
    const down = makeParts(2, 13, 172, [1, 2, 3, 4, 8]);
    const norm = new Float32Array(64).map((_, i) => i / 7);
    await saveClaqCheckpoint(path, {
      layers: new Map([['model.layers.0.self_attn.q_proj', q], ['model.layers.0.mlp.down_proj', down]]),
      tensors: [{ name: 'model.norm.weight', dtype: 'F32', shape: [64], data: norm }],
      metadata: { source: 'stories260k' },
    });

    const checkpoint = await ClaqCheckpoint.open(path);
    expect([...checkpoint.layers]).toEqual([
      ['model.layers.0.self_attn.q_proj', { rows: 64, cols: 48 }],
      ['model.layers.0.mlp.down_proj', { rows: 13, cols: 172 }],
    ]);
    expect(checkpoint.reader.metadata.format).toBe('claq');
    expect(checkpoint.reader.metadata.claq_version).toBe('1');
    expect(checkpoint.reader.metadata.source).toBe('stories260k');
    expect(checkpoint.untouchedTensors().map((t) => t.name)).toEqual(['model.norm.weight']);
    expectSameParts(await checkpoint.loadLayer('model.layers.0.self_attn.q_proj'), q);
    expectSameParts(await checkpoint.loadLayer('model.layers.0.mlp.down_proj'), down);
    expect(Array.from(await checkpoint.reader.readFloat32('model.norm.weight'))).toEqual(Array.from(norm));
    await expect(checkpoint.loadLayer('model.layers.9.mlp.up_proj')).rejects.toMatchObject({ reason: 'tensor-not-found' });
    await checkpoint.close();
  });

  test('single layer helpers round-trip', async () => {
    const path = join(folder.path, 'single.safetensors');
    const parts = makeParts(3, 9, 11);
    await saveQuantizedParts(path, parts);
    expectSameParts(await loadQuantizedParts(path), parts);
    await expect(saveQuantizedParts(path, parts)).rejects.toMatchObject({ reason: 'file-exists' });
    await saveQuantizedParts(path, parts, { overwrite: true, name: 'other' });
    expectSameParts(await loadQuantizedParts(path, 'other'), parts);
  });

  test('codes take the packed size', async () => {
    const path = join(folder.path, 'size.safetensors');
    const parts = makeParts(4, 64, 64, [2]);
    await saveQuantizedParts(path, parts);
    const file = await SafetensorsFile.open(path);
    expect(file.info('layer.claq.codes').byteLength).toBe((64 * 64 * 2) / 8);
    await file.close();
  });

  test('save rejects parts that are invalid or not float16', async () => {
    const path = join(folder.path, 'invalid.safetensors');
    const parts = makeParts(5, 4, 4);
    parts.codebooks[0] = 0.1;
    await expect(saveQuantizedParts(path, parts)).rejects.toThrow(/not exactly representable in float16/);
    const bad = makeParts(5, 4, 4);
    bad.permutation[0] = bad.permutation[1];
    await expect(saveQuantizedParts(path, bad)).rejects.toMatchObject({ reason: 'bad-checkpoint', tensor: 'layer.claq.permutation' });
  });
});

// Each case corrupts one thing in an otherwise valid file, written directly
// with writeSafetensors so the writer's own checks do not stop it.
interface Corruption {
  name: string;
  part?: string;
  change: (parts: QuantizedParts) => void;
  tensor?: (tensors: TensorToWrite[]) => TensorToWrite[];
  metadata?: Record<string, string>;
  rule: RegExp;
}

const LAYER = 'model.layers.0.mlp.up_proj';
const replaceTensor = (part: string, replacement: Partial<TensorToWrite>) => (tensors: TensorToWrite[]) =>
  tensors.map((t) => (t.name === `${LAYER}.claq.${part}` ? { ...t, ...replacement } : t));

const corruptions: Corruption[] = [
  { name: 'code above its codebook', part: 'codes', change: (p) => {
    // The first column whose codebook is smaller than 2^bits gets a code
    // that fits its bits but has no centroid.
    const j = [...p.bitsPerColumn].findIndex((bits, k) => p.codebookOffsets[k + 1] - p.codebookOffsets[k] < 2 ** bits);
    if (j < 0) throw new Error('the generated parts have no short codebook');
    p.codes[j] = p.codebookOffsets[j + 1] - p.codebookOffsets[j];
  }, rule: /is not below the column's \d+ centroids/ },
  { name: 'permutation repeat', part: 'permutation', change: (p) => { p.permutation[3] = p.permutation[4]; }, rule: /appears twice/ },
  { name: 'permutation out of range', part: 'permutation', change: (p) => { p.permutation[0] = p.cols; }, rule: /outside/ },
  { name: 'negative permutation entry', part: 'permutation', change: (p) => { p.permutation[0] = -1; }, rule: /outside/ },
  { name: 'codebook offsets decrease', part: 'codebook_offsets', change: (p) => { p.codebookOffsets[2] = p.codebookOffsets[1] - 1; }, rule: /centroids/ },
  { name: 'codebook offsets end wrong', part: 'codebook_offsets', change: (p) => { p.codebookOffsets[p.cols] += 1; }, rule: /./ },
  { name: 'too many centroids for the bits', part: 'codebook_offsets', change: (p) => {
    p.codebookOffsets[1] = 2 ** p.bitsPerColumn[0] + 1;
  }, rule: /column 0 has \d+ centroids; expected 1 to 2\^/ },
  { name: 'zero bits', part: 'bits', change: (p) => { p.bitsPerColumn[1] = 0; }, rule: /0 bits/ },
  { name: 'nine bits', part: 'bits', change: (p) => { p.bitsPerColumn[1] = 9; }, rule: /9 bits/ },
  { name: 'outlier row out of range', part: 'outlier_rows', change: (p) => { p.outlierRows[0] = p.rows; }, rule: /outside/ },
  { name: 'outlier column out of range', part: 'outlier_cols', change: (p) => { p.outlierCols[p.outlierCols.length - 1] = p.cols; }, rule: /outside/ },
  { name: 'outliers unsorted', part: 'outlier_cols', change: (p) => { p.outlierCols[0] = p.outlierCols[1] + 1; }, rule: /sorted by column then row/ },
  { name: 'outlier repeated', part: 'outlier_cols', change: (p) => { p.outlierCols[1] = p.outlierCols[0]; p.outlierRows[1] = p.outlierRows[0]; }, rule: /without repeats/ },
  { name: 'outlier value NaN', part: 'outlier_values', change: (p) => { p.outlierValues[2] = NaN; }, rule: /NaN/ },
  { name: 'centroid infinite', part: 'codebooks', change: (p) => { p.codebooks[p.codebooks.length - 1] = Infinity; }, rule: /Infinity/ },
  { name: 'centroids descending', part: 'codebooks', change: (p) => { p.codebooks[0] = p.codebooks[1] + 1; }, rule: /not ascending/ },
];

const tensorCorruptions: Corruption[] = [
  { name: 'codes tensor one byte short', part: 'codes', change: () => undefined, tensor: replaceTensor('codes', { shape: [0], data: new Uint8Array(0) }), rule: /bytes/ },
  { name: 'nonzero padding bits', part: 'codes', change: () => undefined, tensor: (tensors) => tensors.map((t) => {
    if (t.name !== `${LAYER}.claq.codes`) return t;
    const packed = (t.data as () => Uint8Array)().slice();
    packed[packed.length - 1] |= 0x80;
    return { ...t, data: packed };
  }), rule: /padding/ },
  { name: 'missing tensor', part: 'outlier_rows', change: () => undefined, tensor: (tensors) => tensors.filter((t) => !t.name.endsWith('outlier_rows')), rule: /missing/ },
  { name: 'wrong dtype', part: 'permutation', change: () => undefined, tensor: replaceTensor('permutation', { dtype: 'U32' }), rule: /expected I32/ },
  { name: 'outlier arrays of different lengths', part: 'outlier_rows', change: () => undefined, tensor: replaceTensor('outlier_rows', { shape: [1], data: new Int32Array([0]) }), rule: /expected I32/ },
  { name: 'stray claq tensor', change: () => undefined, tensor: (tensors) => [...tensors, { name: 'ghost.claq.codes', dtype: 'U8', shape: [1], data: new Uint8Array(1) }], rule: /belongs to no layer/ },
];

const metadataCorruptions: Corruption[] = [
  { name: 'format missing', change: () => undefined, metadata: { format: 'pt' }, rule: /format is "pt"/ },
  { name: 'unknown version', change: () => undefined, metadata: { claq_version: '2' }, rule: /reads version 1/ },
  { name: 'layer list not JSON', change: () => undefined, metadata: { claq_layers: '{' }, rule: /not valid JSON/ },
  { name: 'layer shape zero rows', change: () => undefined, metadata: { claq_layers: `{"${LAYER}":{"rows":0,"cols":6}}` }, rule: /invalid shape/ },
  { name: 'layer shape wrong cols', change: () => undefined, metadata: { claq_layers: `{"${LAYER}":{"rows":41,"cols":7}}` }, rule: /expected U8 \[7\]/ },
  { name: 'layer shape more rows', change: () => undefined, metadata: { claq_layers: `{"${LAYER}":{"rows":48,"cols":6}}` }, rule: /rows at the layer's bits per column need/ },
];

describe('claq checkpoint loader rejects corruptions', () => {
  const folder = temporaryFolder('corrupt');
  afterAll(() => folder.remove());

  test.each([...corruptions, ...tensorCorruptions, ...metadataCorruptions])('$name', async (corruption) => {
    const parts = makeParts(77, 41, 6);
    const valid = quantizedLayerTensors(LAYER, parts);
    const broken = copyParts(parts);
    corruption.change(broken);
    // Rebuild the tensors from the corrupted parts without validation.
    let tensors = valid.map((t): TensorToWrite => {
      const part = t.name.slice(`${LAYER}.claq.`.length);
      const source: Record<string, ArrayBufferView | undefined> = {
        bits: broken.bitsPerColumn, permutation: broken.permutation, codebook_offsets: broken.codebookOffsets,
        codebooks: broken.codebooks, outlier_rows: broken.outlierRows, outlier_cols: broken.outlierCols,
        outlier_values: broken.outlierValues,
      };
      // Codes are packed at the valid widths, so a corrupted width shows up
      // as a width error rather than a length error.
      if (part === 'codes') return { ...t, data: () => packCodes(broken.codes, broken.rows, parts.bitsPerColumn) };
      return { ...t, data: source[part] as ArrayBufferView };
    });
    if (corruption.tensor) tensors = corruption.tensor(tensors);
    const path = join(folder.path, `${corruption.name.replace(/\W+/g, '-')}.safetensors`);
    await writeSafetensors(path, tensors, { metadata: {
      format: 'claq', claq_version: '1', claq_layers: JSON.stringify({ [LAYER]: { rows: 41, cols: 6 } }), ...corruption.metadata,
    } });

    const error = await loadQuantizedParts(path).then(() => undefined, (e: unknown) => e as Record<string, unknown>);
    expect(error).toBeDefined();
    expect(error?.code).toBe('ERR_CLAQ_SAFETENSORS');
    expect(error?.reason).toBe('bad-checkpoint');
    expect(error?.file).toBe(path);
    if (corruption.part !== undefined) expect(error?.tensor).toBe(`${LAYER}.claq.${corruption.part}`);
    expect(String(error?.message)).toMatch(corruption.rule);
  });

  test('in-memory validation checks array types', () => {
    const parts = makeParts(9, 4, 4);
    expect(() => validateQuantizedParts({ ...parts, codebooks: Float64Array.from(parts.codebooks) as never }, memoryContext('q')))
      .toThrow(/q\.codebooks.*codebooks must be a Float32Array, got Float64Array/);
    expect(() => validateQuantizedParts({ ...parts, codes: Array.from(parts.codes) as never }, memoryContext('q')))
      .toThrow(/codes must be a Uint8Array, got object/);
    expect(() => validateQuantizedParts(parts, memoryContext('q'))).not.toThrow();
  });

  test('in-memory validation names the layer and field', () => {
    const parts = makeParts(8, 4, 4);
    parts.codes[0] = 200;
    expect(() => validateQuantizedParts(parts, memoryContext('q'))).toThrow(/q\.codes.*code 200 at row 0, column 0/);
  });
});

describe('claq checkpoint with lazy layers', () => {
  const folder = temporaryFolder('lazy');
  afterAll(() => folder.remove());

  const lazy = (parts: QuantizedParts, onLoad: () => void) => ({
    rows: parts.rows,
    cols: parts.cols,
    bitsPerColumn: parts.bitsPerColumn,
    codebookCount: parts.codebooks.length,
    outlierCount: parts.outlierValues.length,
    load: async () => { onLoad(); return parts; },
  });

  test('layers load once each, in order, and round-trip', async () => {
    const path = join(folder.path, 'lazy.safetensors');
    const a = makeParts(31, 12, 20);
    const b = makeParts(32, 7, 9, [1, 8]);
    const events: string[] = [];
    await saveClaqCheckpoint(path, {
      layers: [['a', lazy(a, () => events.push('load a'))], ['b', lazy(b, () => events.push('load b'))]],
      tensors: [{ name: 'norm', dtype: 'F32', shape: [1], data: () => { events.push('norm'); return new Float32Array([2]); } }],
    });
    expect(events).toEqual(['load a', 'load b', 'norm']);
    expectSameParts(await loadQuantizedParts(path, 'a'), a);
    expectSameParts(await loadQuantizedParts(path, 'b'), b);
  });

  test('parts that differ from the declared sizes fail the write', async () => {
    const path = join(folder.path, 'mismatch.safetensors');
    const parts = makeParts(33, 6, 5);
    const declared = { ...lazy(parts, () => undefined), outlierCount: parts.outlierValues.length + 1 };
    const write = saveClaqCheckpoint(path, { layers: [['x', declared]] });
    await expect(write).rejects.toMatchObject({ reason: 'bad-checkpoint', tensor: 'x' });
    await expect(write).rejects.toThrow(/do not match/);
    await expect(SafetensorsFile.open(path)).rejects.toMatchObject({ reason: 'io' });
  });

  test('invalid loaded parts fail the write', async () => {
    const path = join(folder.path, 'invalid.safetensors');
    const parts = makeParts(34, 6, 5);
    const broken = copyParts(parts);
    broken.permutation[0] = 99;
    await expect(saveClaqCheckpoint(path, { layers: [['x', lazy(broken, () => undefined)]] }))
      .rejects.toMatchObject({ reason: 'bad-checkpoint', tensor: 'x.claq.permutation' });
  });
});
