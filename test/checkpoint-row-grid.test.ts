// Row-grid layers (the gptq and rtn grid) in claq checkpoints: the five
// tensors bits, permutation, codes, row_scales and row_zeros, a byte-exact
// round trip, layers of both kinds in one file, and the loader's checks.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  ClaqCheckpoint,
  SafetensorsFile,
  loadQuantizedParts,
  packCodes,
  packLayer,
  packedCodeBytes,
  saveClaqCheckpoint,
  saveQuantizedParts,
  storageBits,
  writeSafetensors,
} from '../lib/index.js';
import type { QuantizedParts, TensorToWrite } from '../lib/index.js';
import { inspectCheckpoint } from '../lib/cli/inspect.js';
import { makeParts, makeRowGridParts } from './checkpoint-helpers.js';
import { temporaryFolder } from './safetensors-helpers.js';

const ALL_FIELDS = ['bitsPerColumn', 'permutation', 'codes', 'codebookOffsets', 'codebooks',
  'outlierRows', 'outlierCols', 'outlierValues', 'rowScales', 'rowZeros'] as const;

function expectSameParts(actual: QuantizedParts, expected: QuantizedParts): void {
  expect([actual.rows, actual.cols]).toEqual([expected.rows, expected.cols]);
  for (const key of ALL_FIELDS) {
    const [a, e] = [actual[key], expected[key]];
    expect([key, a?.constructor.name]).toEqual([key, e?.constructor.name]);
    if (a !== undefined && e !== undefined) expect([key, Array.from(a)]).toEqual([key, Array.from(e)]);
  }
}

describe('row-grid layers in a claq checkpoint', () => {
  const folder = temporaryFolder('row-grid');
  afterAll(() => folder.remove());

  test('round-trip byte-exact beside a layer with codebooks', async () => {
    const first = join(folder.path, 'first.safetensors');
    const second = join(folder.path, 'second.safetensors');
    const grid = makeRowGridParts(1, 37, 29, 3);
    const claq = makeParts(2, 16, 12);
    const layers = new Map([['q_proj', grid], ['k_proj', claq]]);
    await saveClaqCheckpoint(first, { layers });

    const checkpoint = await ClaqCheckpoint.open(first);
    expect([...checkpoint.layers]).toEqual([['q_proj', { rows: 37, cols: 29, rowGrid: true }], ['k_proj', { rows: 16, cols: 12 }]]);
    const loadedGrid = await checkpoint.loadLayer('q_proj');
    const loadedClaq = await checkpoint.loadLayer('k_proj');
    await checkpoint.close();
    expectSameParts(loadedGrid, grid);
    expectSameParts(loadedClaq, claq);

    await saveClaqCheckpoint(second, { layers: new Map([['q_proj', loadedGrid], ['k_proj', loadedClaq]]) });
    expect(Buffer.compare(await readFile(first), await readFile(second))).toBe(0);
  });

  test('stores five tensors, whose bytes are the storage bits', async () => {
    const path = join(folder.path, 'tensors.safetensors');
    const parts = makeRowGridParts(3, 64, 40, 4);
    await saveQuantizedParts(path, parts);
    const file = await SafetensorsFile.open(path);
    const layerTensors = file.tensors().filter((t) => t.name.startsWith('layer.claq.'));
    expect(layerTensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['layer.claq.bits', 'U8', [40]], ['layer.claq.permutation', 'I32', [40]], ['layer.claq.codes', 'U8', [64 * 40 * 4 / 8]],
      ['layer.claq.row_scales', 'F16', [64]], ['layer.claq.row_zeros', 'U8', [64 * 4 / 8]],
    ]);
    const bytes = layerTensors.reduce((sum, t) => sum + t.byteLength, 0);
    await file.close();
    expect(storageBits(parts)).toBeCloseTo((8 * bytes) / (64 * 40), 12);

    const report = await inspectCheckpoint(path, { verify: true });
    expect(report.layers).toEqual([expect.objectContaining({
      name: 'layer', rowGrid: true, codeBits: 4, outliers: 0, storageBits: storageBits(parts),
    })]);
  });

  test('storage bits count the padding of the zero points', async () => {
    // 37 rows of 3-bit zero points fill 13.875 bytes, stored as 14.
    const path = join(folder.path, 'odd.safetensors');
    const parts = makeRowGridParts(5, 37, 29, 3);
    await saveQuantizedParts(path, parts);
    const file = await SafetensorsFile.open(path);
    const bytes = file.tensors().filter((t) => t.name.startsWith('layer.claq.')).reduce((sum, t) => sum + t.byteLength, 0);
    await file.close();
    expect(storageBits(parts)).toBe((8 * bytes) / (37 * 29));
    expect(packLayer(parts).bitsPerWeight).toBe(storageBits(parts));
    const report = await inspectCheckpoint(path);
    expect(report.layers[0].storageBits).toBe(storageBits(parts));
  });

  test('lazy row-grid layers declare the grid', async () => {
    const path = join(folder.path, 'lazy.safetensors');
    const parts = makeRowGridParts(5, 20, 9, 2);
    const declared = {
      rows: 20, cols: 9, bitsPerColumn: parts.bitsPerColumn, codebookCount: 9 * 4, outlierCount: 0, load: () => parts,
    };
    await saveClaqCheckpoint(path, { layers: [['g', { ...declared, rowGrid: true }]] });
    expectSameParts(await loadQuantizedParts(path), parts);
    await expect(saveClaqCheckpoint(path, { layers: [['g', declared]], overwrite: true }))
      .rejects.toMatchObject({ reason: 'bad-checkpoint', message: expect.stringMatching(/or row grid declared/) });
  });

  test('save rejects a grid that does not fit its contract', async () => {
    const path = join(folder.path, 'invalid.safetensors');
    const cases: [string, (p: QuantizedParts) => void, RegExp][] = [
      ['row_scales', (p) => { (p.rowScales as Float32Array)[1] = 0.1; }, /not exactly representable in float16/],
      ['row_scales', (p) => { (p.rowScales as Float32Array)[1] = -0.5; }, /row 1 has scale -0.5/],
      ['row_zeros', (p) => { (p.rowZeros as Float32Array)[2] = 8; }, /row 2 has zero point 8/],
      ['row_zeros', (p) => { (p.rowZeros as Float32Array)[2] = 1.5; }, /row 2 has zero point 1.5/],
      ['row_zeros', (p) => { p.rowZeros = undefined; }, /rowZeros must be a Float32Array/],
      ['codebooks', (p) => { p.codebooks[3] = 2.5; }, /a row grid has the levels 0 \.\. 7/],
      ['outlier_values', (p) => {
        p.outlierRows = Int32Array.of(0); p.outlierCols = Int32Array.of(0); p.outlierValues = Float32Array.of(1);
      }, /cannot have outliers/],
    ];
    for (const [part, change, rule] of cases) {
      const parts = makeRowGridParts(4, 5, 6, 3);
      change(parts);
      await expect(saveQuantizedParts(path, parts, { overwrite: true }))
        .rejects.toMatchObject({ reason: 'bad-checkpoint', tensor: `layer.claq.${part}`, message: expect.stringMatching(rule) });
    }
  });
});

// Each case writes a row-grid layer with one thing broken, directly with
// writeSafetensors, and expects the loader to name the tensor and the rule.
interface Corruption {
  name: string;
  part: string;
  tensors: (tensors: TensorToWrite[]) => TensorToWrite[];
  rule: RegExp;
}

const LAYER = 'model.layers.0.mlp.up_proj';
const named = (part: string) => `${LAYER}.claq.${part}`;
const replace = (part: string, replacement: Partial<TensorToWrite>) => (tensors: TensorToWrite[]) =>
  tensors.map((t) => (t.name === named(part) ? { ...t, ...replacement } : t));
const mixedBits = Uint8Array.of(3, 3, 2, 3, 3, 3);
const scaleBytes = (half: number) => replace('row_scales', { data: new Uint16Array(41).fill(0x3c00).fill(half, 5, 6) });

const corruptions: Corruption[] = [
  { name: 'zero points one byte short', part: 'row_zeros', tensors: replace('row_zeros', { shape: [15], data: new Uint8Array(15) }),
    rule: /has 15 bytes; 41 zero points of 3 bits need 16/ },
  { name: 'zero point padding bits', part: 'row_zeros', tensors: replace('row_zeros', { data: new Uint8Array(16).fill(0x80, 15) }),
    rule: /non-zero padding bits after the last zero point/ },
  { name: 'scale NaN', part: 'row_scales', tensors: scaleBytes(0x7e00), rule: /row 5 has scale NaN/ },
  { name: 'scale infinite', part: 'row_scales', tensors: scaleBytes(0x7c00), rule: /row 5 has scale Infinity/ },
  { name: 'scale zero', part: 'row_scales', tensors: scaleBytes(0x0000), rule: /row 5 has scale 0/ },
  { name: 'scale negative', part: 'row_scales', tensors: scaleBytes(0xbc00), rule: /row 5 has scale -1/ },
  { name: 'scales one short', part: 'row_scales', tensors: replace('row_scales', { shape: [40], data: new Uint16Array(40) }),
    rule: /expected F16 \[41\]/ },
  { name: 'zeros as F16', part: 'row_zeros', tensors: replace('row_zeros', { dtype: 'F16', shape: [8], data: new Uint16Array(8) }),
    rule: /expected U8 \[n\]/ },
  { name: 'zeros missing', part: 'row_zeros', tensors: (tensors) => tensors.filter((t) => t.name !== named('row_zeros')),
    rule: /missing/ },
  { name: 'codebooks beside the grid', part: 'codebooks', tensors: (tensors) => [...tensors,
    { name: named('codebooks'), dtype: 'F16', shape: [8], data: new Uint16Array(8) }], rule: /does not belong in a row-grid layer/ },
  { name: 'outliers beside the grid', part: 'outlier_values', tensors: (tensors) => [...tensors,
    { name: named('outlier_values'), dtype: 'F16', shape: [0], data: new Uint16Array(0) }], rule: /does not belong/ },
  { name: 'five bits', part: 'bits', tensors: (tensors) => tensors.map((t) => {
    if (t.name === named('bits')) return { ...t, data: new Uint8Array(6).fill(5) };
    if (t.name !== named('codes')) return t;
    const fiveBits = new Uint8Array(6).fill(5);
    return { ...t, shape: [packedCodeBytes(41, fiveBits)], data: () => packCodes(new Uint8Array(41 * 6), 41, fiveBits) };
  }), rule: /a row-grid layer has 5 bits; expected 1 to 4/ },
  { name: 'zeros without scales', part: 'row_zeros', tensors: (tensors) => tensors.filter((t) => t.name !== named('row_scales')),
    rule: /does not belong in a layer with codebooks/ },
  { name: 'mixed bits', part: 'bits', tensors: (tensors) => tensors.map((t) => {
    if (t.name === named('bits')) return { ...t, data: mixedBits };
    if (t.name !== named('codes')) return t;
    const codes = makeRowGridParts(77, 41, 6, 3).codes.map((c, k) => (k % 6 === 2 ? c & 3 : c));
    return { ...t, shape: [packedCodeBytes(41, mixedBits)], data: () => packCodes(codes, 41, mixedBits) };
  }), rule: /column 2 has 2 bits and column 0 has 3/ },
];

describe('claq checkpoint loader rejects corrupt row-grid layers', () => {
  const folder = temporaryFolder('row-grid-corrupt');
  afterAll(() => folder.remove());

  test.each(corruptions)('$name', async (corruption) => {
    const parts = makeRowGridParts(77, 41, 6, 3);
    const valid: TensorToWrite[] = [
      { name: named('bits'), dtype: 'U8', shape: [6], data: parts.bitsPerColumn },
      { name: named('permutation'), dtype: 'I32', shape: [6], data: parts.permutation },
      { name: named('codes'), dtype: 'U8', shape: [6 * 16], data: () => packCodes(parts.codes, 41, parts.bitsPerColumn) },
      { name: named('row_scales'), dtype: 'F16', shape: [41], data: new Uint16Array(41).fill(0x3c00) },
      { name: named('row_zeros'), dtype: 'U8', shape: [16], data: new Uint8Array(16) },
    ];
    const path = join(folder.path, `${corruption.name.replace(/\W+/g, '-')}.safetensors`);
    await writeSafetensors(path, corruption.tensors(valid), { metadata: {
      format: 'claq', claq_version: '1', claq_layers: JSON.stringify({ [LAYER]: { rows: 41, cols: 6 } }),
    } });
    const error = await loadQuantizedParts(path).then(() => undefined, (e: unknown) => e as Record<string, unknown>);
    expect(error).toMatchObject({ code: 'ERR_CLAQ_SAFETENSORS', reason: 'bad-checkpoint', file: path, tensor: named(corruption.part) });
    expect(String(error?.message)).toMatch(corruption.rule);
  });

  test('the uncorrupted file loads', async () => {
    const parts = makeRowGridParts(77, 41, 6, 3);
    const path = join(folder.path, 'valid.safetensors');
    await saveQuantizedParts(path, parts);
    expectSameParts(await loadQuantizedParts(path), parts);
  });
});
