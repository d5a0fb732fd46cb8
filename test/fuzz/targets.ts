// Fuzz targets for the safetensors header parser and the claq checkpoint
// loader, and the fast-check arbitraries that feed them. A target returns
// normally when it accepts the input or rejects it with a SafetensorsError.
// Anything else (another error class, a broken invariant, an oversized
// allocation) throws a FuzzFailure, which fast-check reports and shrinks.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';

import {
  ClaqCheckpoint,
  DTYPES,
  DTYPE_SIZES,
  SafetensorsError,
  SafetensorsFile,
  dequantizeParts,
} from '../../lib/index.js';
import type { Dtype, QuantizedParts } from '../../lib/index.js';
import type { ByteSource } from '../../lib/safetensors/byte-source.js';
import { MemorySource } from '../../lib/safetensors/byte-source.js';

export class FuzzFailure extends Error {
  override name = 'FuzzFailure';
}

const CORPUS_ROOT = fileURLToPath(new URL('../../../fuzz/corpus/', import.meta.url));

/** Loads the seed inputs of one target from fuzz/corpus/<target>/. */
export function loadCorpus(target: string): Uint8Array[] {
  const folder = join(CORPUS_ROOT, target);
  return readdirSync(folder).sort().map((name) => new Uint8Array(readFileSync(join(folder, name))));
}

// A MemorySource that records the largest single read, so a target can check
// that no read (and so no allocation for one) exceeds the input size.
class MeteredSource implements ByteSource {
  largestRead = 0;
  private readonly inner: MemorySource;

  constructor(readonly name: string, bytes: Uint8Array) {
    this.inner = new MemorySource(name, bytes);
  }

  get size(): number {
    return this.inner.size;
  }

  read(target: Uint8Array, position: number): Promise<void> {
    this.largestRead = Math.max(this.largestRead, target.length);
    return this.inner.read(target, position);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new FuzzFailure(message);
}

// Returns the reason of an expected rejection; rethrows anything else.
function expectedRejection(error: unknown): string {
  if (error instanceof SafetensorsError) {
    expect(error.code === 'ERR_CLAQ_SAFETENSORS', `SafetensorsError with code ${error.code}: ${error.message}`);
    expect(error.message.includes('fuzz.safetensors'), `SafetensorsError without the file name: ${error.message}`);
    return error.reason;
  }
  throw error;
}

/**
 * Header target: parse, and when accepted, check that the tensors tile the
 * data section and that every tensor reads back with its stated length.
 */
export async function fuzzHeader(bytes: Uint8Array): Promise<string> {
  const source = new MeteredSource('fuzz.safetensors', bytes);
  let file: SafetensorsFile;
  try {
    file = await SafetensorsFile.fromSource(source);
  } catch (error) {
    return expectedRejection(error);
  }

  const tensors = file.tensors();
  const dataEnd = bytes.length;
  let position = tensors.length > 0 ? tensors[0].byteOffset : dataEnd;
  for (const tensor of tensors) {
    const elements = tensor.shape.reduce((product, dimension) => product * BigInt(dimension), 1n);
    expect(elements * BigInt(DTYPE_SIZES[tensor.dtype]) === BigInt(tensor.byteLength), `size of ${tensor.name}`);
    expect(tensor.byteOffset === position, `tensor ${tensor.name} is not contiguous`);
    position += tensor.byteLength;
    const read = await readAny(file, tensor.name, tensor.dtype);
    expect(read === tensor.byteLength, `tensor ${tensor.name} read ${read} bytes, expected ${tensor.byteLength}`);
  }
  expect(position === dataEnd, 'tensors do not end at the end of the file');
  expect(source.largestRead <= bytes.length, `a read of ${source.largestRead} bytes from a ${bytes.length}-byte input`);
  await file.close();
  return 'accepted';
}

async function readAny(file: SafetensorsFile, name: string, dtype: Dtype): Promise<number> {
  if (dtype === 'F32' || dtype === 'F16' || dtype === 'BF16') return (await file.readFloat32(name)).length * DTYPE_SIZES[dtype];
  if (dtype === 'F64') return (await file.readFloat64(name)).byteLength;
  return (await file.readBytes(name)).length;
}

/**
 * Claq loader target: open as a claq checkpoint and load every layer. A
 * loaded layer must pass independent bounds checks, so every weight resolves
 * to an existing centroid or outlier, and dequantize. Its memory must stay
 * within a fixed multiple of the input size.
 */
export async function fuzzClaqLoader(bytes: Uint8Array): Promise<string> {
  const source = new MeteredSource('fuzz.safetensors', bytes);
  let checkpoint: ClaqCheckpoint;
  try {
    checkpoint = await ClaqCheckpoint.fromReader(await SafetensorsFile.fromSource(source));
  } catch (error) {
    return `open: ${expectedRejection(error)}`;
  }
  let outcome = 'loaded';
  for (const layer of checkpoint.layers.keys()) {
    let parts: QuantizedParts;
    try {
      parts = await checkpoint.loadLayer(layer);
    } catch (error) {
      outcome = `load: ${expectedRejection(error)}`;
      continue;
    }
    checkLoadedParts(parts, bytes.length);
    // The addon checks the parts again, and a loaded layer must pass.
    expect(dequantizeParts(parts).length === parts.rows * parts.cols, 'dequantized length');
  }
  expect(source.largestRead <= bytes.length, `a read of ${source.largestRead} bytes from a ${bytes.length}-byte input`);
  await checkpoint.close();
  return outcome;
}

// Unpacked codes take one byte per weight, at most 8 times the packed bytes
// (1-bit codes), so a loaded layer never needs more than 8 times the input.
const MAX_EXPANSION = 8;

function checkLoadedParts(parts: QuantizedParts, inputSize: number): void {
  const { rows, cols } = parts;
  expect(parts.codes.length === rows * cols, 'codes length');
  expect(parts.codes.length <= MAX_EXPANSION * inputSize, `codes take ${parts.codes.length} bytes from ${inputSize}`);
  const seen = new Set<number>(parts.permutation);
  expect(seen.size === cols, 'the loaded permutation repeats a column');
  expect([...seen].every((c) => c >= 0 && c < cols), 'the loaded permutation has an entry outside [0, cols)');
  for (let i = 0; i < rows; ++i) {
    for (let j = 0; j < cols; ++j) {
      const index = parts.codebookOffsets[j] + parts.codes[i * cols + j];
      expect(index < parts.codebookOffsets[j + 1], `code at ${i}, ${j} is past its column's codebook`);
      expect(index < parts.codebooks.length, `code at ${i}, ${j} is past the codebooks`);
    }
  }
  if (parts.rowScales !== undefined || parts.rowZeros !== undefined) checkRowGrid(parts, inputSize);
  for (let k = 0; k < parts.outlierValues.length; ++k) {
    expect(parts.outlierRows[k] >= 0, `outlier ${k} has a negative row`);
    expect(parts.outlierRows[k] < rows, `outlier ${k} row is past the last row`);
    expect(parts.outlierCols[k] >= 0, `outlier ${k} has a negative column`);
    expect(parts.outlierCols[k] < cols, `outlier ${k} column is past the last column`);
    expect(Number.isFinite(parts.outlierValues[k]), 'outlier value');
  }
}

// A loaded row grid: one scale and zero per row, scales finite and > 0,
// integer zeros below the level count, no outliers, codebooks bounded.
function checkRowGrid(parts: QuantizedParts, inputSize: number): void {
  const { rows, rowScales, rowZeros } = parts;
  expect(rowScales?.length === rows, 'row scale count');
  expect(rowZeros?.length === rows, 'row zero count');
  expect(parts.outlierValues.length === 0, 'a row-grid layer has outliers');
  expect(parts.codebooks.length * 4 <= 16 * inputSize, `codebooks take ${parts.codebooks.length * 4} bytes from ${inputSize}`);
  const levels = parts.codebookOffsets[1];
  for (let i = 0; i < rows; ++i) {
    const scale = (rowScales as Float32Array)[i];
    const zero = (rowZeros as Float32Array)[i];
    expect(Number.isFinite(scale), `row ${i} scale ${scale} is finite`);
    expect(scale > 0, `row ${i} scale ${scale} is positive`);
    expect(Number.isInteger(zero), `row ${i} zero ${zero} is an integer`);
    expect(zero >= 0 && zero < levels, `row ${i} zero ${zero} is below ${levels}`);
  }
}

// ---------------------------------------------------------------------------
// Input generation: mutations of corpus seeds (byte-level, and text-level on
// the header with the length field fixed up so the mutation reaches the JSON
// checks), generated headers, and plain random bytes.

const INTERESTING_NUMBERS = ['0', '1', '-1', '7', '8', '255', '256', '4294967295', '4294967296', '9007199254740991',
  '9007199254740992', '18446744073709551615', '1e3', '1.5', '-0', '1e400', '00', '2147483647', '2147483648'];
const INTERESTING_STRINGS = [...DTYPES, 'F4', 'f32', '', '__metadata__', '__proto__', 'claq', 'format', 'claq_version',
  'claq_layers', 'rows', 'cols', 'dtype', 'shape', 'data_offsets', '{"layer":{"rows":1,"cols":1}}', '\\u0000', '\\ud800'];

type Mutation = (bytes: Uint8Array) => Uint8Array;

function headerOf(bytes: Uint8Array): { text: string; data: Uint8Array } | null {
  if (bytes.length < 8) return null;
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (length > bytes.length - 8) return null;
  return { text: Buffer.from(bytes.subarray(8, 8 + length)).toString('latin1'), data: bytes.subarray(8 + length) };
}

function withHeader(text: string, data: Uint8Array): Uint8Array {
  const header = Buffer.from(text, 'latin1');
  const result = new Uint8Array(8 + header.length + data.length);
  new DataView(result.buffer).setBigUint64(0, BigInt(header.length), true);
  result.set(header, 8);
  result.set(data, 8 + header.length);
  return result;
}

// Replaces the n-th match of `pattern` in the header text by `replacement`.
function replaceInHeader(pattern: RegExp, pick: number, replacement: string): Mutation {
  return (bytes) => {
    const parsed = headerOf(bytes);
    if (parsed === null) return bytes;
    const matches = [...parsed.text.matchAll(pattern)];
    if (matches.length === 0) return bytes;
    const match = matches[pick % matches.length];
    const index = match.index ?? 0;
    const text = parsed.text.slice(0, index) + replacement + parsed.text.slice(index + match[0].length);
    return withHeader(text, parsed.data);
  };
}

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }).map(({ at, bit }): Mutation => (bytes) => {
    if (bytes.length === 0) return bytes;
    const copy = bytes.slice();
    copy[at % copy.length] ^= 1 << bit;
    return copy;
  }),
  fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }).map(({ at, value }): Mutation => (bytes) => {
    if (bytes.length === 0) return bytes;
    const copy = bytes.slice();
    copy[at % copy.length] = value;
    return copy;
  }),
  fc.record({ at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }).map(({ at, length }): Mutation => (bytes) => {
    const start = bytes.length === 0 ? 0 : at % bytes.length;
    return Uint8Array.from([...bytes.subarray(0, start), ...bytes.subarray(start + length)]);
  }),
  fc.record({ at: fc.nat(), insert: fc.uint8Array({ minLength: 1, maxLength: 16 }) }).map(({ at, insert }): Mutation => (bytes) => {
    const start = bytes.length === 0 ? 0 : at % (bytes.length + 1);
    return Uint8Array.from([...bytes.subarray(0, start), ...insert, ...bytes.subarray(start)]);
  }),
  fc.nat().map((keep): Mutation => (bytes) => bytes.subarray(0, bytes.length === 0 ? 0 : keep % bytes.length)),
  fc.constantFrom(0n, 1n, 7n, 8n, 100_000_000n, 100_000_001n, 2n ** 63n, 2n ** 64n - 1n).map((length): Mutation => (bytes) => {
    if (bytes.length < 8) return bytes;
    const copy = bytes.slice();
    new DataView(copy.buffer).setBigUint64(0, length, true);
    return copy;
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...INTERESTING_NUMBERS)).map(([pick, value]) => replaceInHeader(/-?\d+/g, pick, value)),
  fc.tuple(fc.nat(), fc.constantFrom(...INTERESTING_STRINGS)).map(([pick, value]) =>
    replaceInHeader(/"[^"\\]*"/g, pick, JSON.stringify(value).replace(/\\\\u/g, '\\u'))),
  fc.tuple(fc.nat(), fc.constantFrom('{', '}', '[', ']', ',', ':', '"', ' ', '\\', 'null', 'true', '{}', '[]'))
    .map(([pick, value]) => replaceInHeader(/[{}[\],:]/g, pick, value)),
  // Repeats one tensor entry, so the header has a duplicate key.
  fc.nat().map((pick): Mutation => (bytes) => {
    const parsed = headerOf(bytes);
    if (parsed === null) return bytes;
    const entries = [...parsed.text.matchAll(/"[^"]*":\{[^{}]*\}/g)];
    if (entries.length === 0) return bytes;
    const entry = entries[pick % entries.length];
    const end = (entry.index ?? 0) + entry[0].length;
    return withHeader(`${parsed.text.slice(0, end)},${entry[0]}${parsed.text.slice(end)}`, parsed.data);
  }),
  // Writes an interesting 32-bit integer at an aligned position of the data
  // section, which reaches the index checks (permutation, offsets, outliers).
  fc.record({ at: fc.nat(), value: fc.constantFrom(-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 255, 65535, 2 ** 31 - 1, -(2 ** 31)) })
    .map(({ at, value }): Mutation => (bytes) => {
      const parsed = headerOf(bytes);
      if (parsed === null || parsed.data.length < 4) return bytes;
      const data = parsed.data.slice();
      const position = (at % Math.floor(data.length / 4)) * 4;
      new DataView(data.buffer).setInt32(position, value, true);
      return withHeader(parsed.text, data);
    }),
  // Flips bytes in the data section only, which keeps the header valid and
  // so reaches the claq loader's content checks.
  fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }).map(({ at, value }): Mutation => (bytes) => {
    const parsed = headerOf(bytes);
    if (parsed === null || parsed.data.length === 0) return bytes;
    const data = parsed.data.slice();
    data[at % data.length] = value;
    return withHeader(parsed.text, data);
  }),
);

/** Inputs: a corpus seed with up to `maxMutations` mutations applied in turn. */
export function mutatedSeeds(corpus: Uint8Array[], maxMutations = 4): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.constantFrom(...corpus), fc.array(mutationArbitrary, { maxLength: maxMutations }))
    .map(([seed, mutations]) => mutations.reduce((bytes, mutate) => mutate(bytes), seed));
}

// Headers built from parts, so that every entry rule and the offset tiling are
// reached with many more shapes than the corpus has.
const entryArbitrary = fc.record({
  dtype: fc.oneof(fc.constantFrom(...DTYPES), fc.string({ maxLength: 5 })),
  shape: fc.array(fc.oneof(fc.nat({ max: 6 }), fc.integer({ min: -2, max: 2 ** 40 })), { maxLength: 4 }),
  length: fc.nat({ max: 64 }),
  skew: fc.constantFrom(0, 0, 0, 0, -1, 1, 3),
});

export const generatedFiles: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 5 }),
  fc.array(entryArbitrary, { minLength: 5, maxLength: 5 }),
  fc.option(fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string({ maxLength: 4 }), fc.integer())), { nil: undefined }),
  fc.integer({ min: -2, max: 3 }),
).map(([names, entries, metadata, trailing]) => {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = metadata;
  let offset = 0;
  for (let k = 0; k < names.length; ++k) {
    const { dtype, shape, skew } = entries[k];
    const size = (DTYPE_SIZES as Record<string, number>)[dtype] ?? 1;
    const elements = shape.reduce((a, b) => a * Math.max(b, 0), 1);
    const length = Number.isSafeInteger(elements * size) && elements * size <= 256 ? elements * size : entries[k].length;
    const begin = Math.max(0, offset + skew);
    Object.defineProperty(header, names[k], {
      value: { dtype, shape, data_offsets: [begin, begin + length] }, enumerable: true,
    });
    offset = begin + length;
  }
  return withHeader(JSON.stringify(header), new Uint8Array(Math.max(0, offset + trailing)).fill(0x3c));
});

/** Combines the inputs for one target: mostly mutated seeds, then generated headers and random bytes. */
export function inputsFor(corpus: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { arbitrary: mutatedSeeds(corpus), weight: 6 },
    { arbitrary: generatedFiles, weight: 2 },
    { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 1 },
  );
}

export const TARGETS = {
  header: { corpus: 'safetensors', run: fuzzHeader },
  claq: { corpus: 'claq', run: fuzzClaqLoader },
} as const;

export type TargetName = keyof typeof TARGETS;

/** Builds the fast-check property for one target. */
export function targetProperty(target: TargetName): fc.IAsyncPropertyWithHooks<[Uint8Array]> {
  const { corpus, run } = TARGETS[target];
  return fc.asyncProperty(inputsFor(loadCorpus(corpus)), async (bytes) => {
    await run(bytes);
  });
}
