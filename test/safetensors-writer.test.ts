import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DTYPES, DTYPE_SIZES, SafetensorsFile, writeSafetensors } from '../lib/index.js';
import type { Dtype, TensorToWrite } from '../lib/index.js';
import { bytesOf, referenceRead, temporaryFolder } from './safetensors-helpers.js';

// Seeded bytes, so every dtype gets arbitrary bit patterns (NaN payloads,
// subnormals, invalid bools) that must come back unchanged.
function randomBytes(count: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; ++i) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

const SHAPES: number[][] = [[], [0], [3], [2, 3], [4, 0, 2], [1, 1, 1, 5]];

describe('safetensors writer', () => {
  const folder = temporaryFolder('writer');
  afterAll(() => folder.remove());

  test('round trip of every dtype and shape is byte-exact', async () => {
    const tensors: TensorToWrite[] = [];
    let seed = 1;
    for (const dtype of DTYPES) {
      for (const shape of SHAPES) {
        const count = shape.reduce((a, b) => a * b, 1) * DTYPE_SIZES[dtype];
        tensors.push({ name: `${dtype}.${shape.join('x') || 'scalar'}`, dtype, shape, data: randomBytes(count, seed++) });
      }
    }
    const metadata = { format: 'pt', note: 'ünïcode ✓ "quoted" \\ \n', '': 'empty key' };
    const path = join(folder.path, 'all.safetensors');
    await writeSafetensors(path, tensors, { metadata });

    const raw = readFileSync(path);
    const headerLength = Number(raw.readBigUInt64LE(0));
    expect(headerLength % 8).toBe(0);
    expect(raw.subarray(8, 8 + headerLength).toString('utf8')).toMatch(/^\{.*\} *$/);

    const reference = referenceRead(path);
    expect(reference.metadata).toEqual(metadata);
    const file = await SafetensorsFile.open(path);
    expect({ ...file.metadata }).toEqual(metadata);
    for (const tensor of tensors) {
      const expected = tensor.data as Uint8Array;
      expect(bytesOf(reference.tensors.get(tensor.name)!.bytes).equals(bytesOf(expected))).toBe(true);
      expect(file.info(tensor.name).shape).toEqual(tensor.shape);
      expect(file.info(tensor.name).dtype).toBe(tensor.dtype);
      expect(bytesOf(await file.readBytes(tensor.name)).equals(bytesOf(expected))).toBe(true);
    }
    await file.close();
  });

  test('float32 data converts to F16 and BF16 with rounding to even', async () => {
    const values = new Float32Array([1, -2.5, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 1e-8, 2 ** -24, NaN, -Infinity, -0]);
    const path = join(folder.path, 'half.safetensors');
    await writeSafetensors(path, [
      { name: 'h', dtype: 'F16', shape: [values.length], data: values },
      { name: 'b', dtype: 'BF16', shape: [values.length], data: values },
      { name: 'f', dtype: 'F32', shape: [values.length], data: values },
    ]);
    const { tensors } = referenceRead(path);
    const halves = Array.from(new Uint16Array(tensors.get('h')!.bytes.slice().buffer));
    // 1 + 2^-11 is a tie between 1 and 1 + 2^-10: even is 1 (0x3c00).
    // 1 + 3 * 2^-11 is a tie between 1 + 2^-10 and 1 + 2^-9: even is 0x3c02.
    expect(halves).toEqual([0x3c00, 0xc100, 0x3c00, 0x3c02, 0x7c00, 0x0000, 0x0001, 0x7e00, 0xfc00, 0x8000]);
    const bfloats = Array.from(new Uint16Array(tensors.get('b')!.bytes.slice().buffer));
    expect(bfloats).toEqual([0x3f80, 0xc020, 0x3f80, 0x3f80, 0x4780, 0x322c, 0x3380, 0x7fc0, 0xff80, 0x8000]);
    expect(bytesOf(tensors.get('f')!.bytes).equals(bytesOf(values))).toBe(true);
  });

  test('existing file is kept unless overwrite is set', async () => {
    const path = join(folder.path, 'exists.safetensors');
    writeFileSync(path, 'keep me');
    const tensors: TensorToWrite[] = [{ name: 'x', dtype: 'U8', shape: [1], data: new Uint8Array([1]) }];
    await expect(writeSafetensors(path, tensors)).rejects.toMatchObject({ reason: 'file-exists', file: path });
    expect(readFileSync(path, 'utf8')).toBe('keep me');
    await writeSafetensors(path, tensors, { overwrite: true });
    expect(referenceRead(path).tensors.get('x')!.bytes[0]).toBe(1);
    expect(readdirSync(folder.path).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  test('wrong byte length is rejected and leaves no file', async () => {
    const path = join(folder.path, 'mismatch.safetensors');
    const write = writeSafetensors(path, [
      { name: 'ok', dtype: 'F32', shape: [2], data: new Float32Array(2) },
      { name: 'bad', dtype: 'F32', shape: [2, 2], data: new Float32Array(3) },
    ]);
    await expect(write).rejects.toMatchObject({ reason: 'size-mismatch', tensor: 'bad', file: path });
    await expect(write).rejects.toThrow(/needs 16 bytes but the data has 12/);
    expect(readdirSync(folder.path).filter((name) => name.startsWith('.mismatch') || name === 'mismatch.safetensors')).toEqual([]);
  });

  test('invalid names, dtypes and shapes throw argument errors', async () => {
    const path = join(folder.path, 'invalid.safetensors');
    const writeOne = (tensor: Partial<TensorToWrite>) =>
      writeSafetensors(path, [{ name: 't', dtype: 'U8', shape: [1], data: new Uint8Array(1), ...tensor }]);
    await expect(writeOne({ dtype: 'F128' as Dtype })).rejects.toThrow(RangeError);
    await expect(writeOne({ shape: [-1] })).rejects.toThrow(RangeError);
    await expect(writeOne({ shape: [1.5] })).rejects.toThrow(RangeError);
    await expect(writeOne({ name: '__metadata__' })).rejects.toThrow(RangeError);
    await expect(writeSafetensors(path, [
      { name: 't', dtype: 'U8', shape: [0], data: new Uint8Array(0) },
      { name: 't', dtype: 'U8', shape: [0], data: new Uint8Array(0) },
    ])).rejects.toThrow(/appears twice/);
  });

  test('file system errors name the path', async () => {
    const tensors: TensorToWrite[] = [{ name: 'x', dtype: 'U8', shape: [1], data: new Uint8Array([1]) }];
    const missing = join(folder.path, 'no-such-folder', 'out.safetensors');
    await expect(writeSafetensors(missing, tensors)).rejects.toMatchObject({ reason: 'io', file: missing });
    const { mkdirSync } = await import('node:fs');
    const directory = join(folder.path, 'a-directory');
    mkdirSync(directory);
    await expect(writeSafetensors(directory, tensors)).rejects.toMatchObject({ reason: 'file-exists' });
    await expect(writeSafetensors(directory, tensors, { overwrite: true })).rejects.toMatchObject({ reason: 'io', file: directory });
    expect(readdirSync(folder.path).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  test('data functions run one at a time in order', async () => {
    const calls: string[] = [];
    const path = join(folder.path, 'lazy.safetensors');
    await writeSafetensors(path, ['a', 'b', 'c'].map((name, i) => ({
      name, dtype: 'I32' as Dtype, shape: [2],
      data: async () => { calls.push(name); return new Int32Array([i, -i]); },
    })));
    expect(calls).toEqual(['a', 'b', 'c']);
    const file = await SafetensorsFile.open(path);
    expect(Array.from(new Int32Array((await file.readBytes('c')).buffer))).toEqual([2, -2]);
    await file.close();
  });
});
