import { join } from 'node:path';
import { writeFileSync } from 'node:fs';

import { SafetensorsError, SafetensorsFile, openCheckpoint, writeSafetensors } from '../lib/index.js';
import { storiesDir, testWithStories } from './data-dir.js';
import { bytesOf, float32sOf, float64sOf, rawFile, referenceRead, temporaryFolder } from './safetensors-helpers.js';

describe('safetensors reader on real checkpoints', () => {
  testWithStories('stories260k model matches a reference read', async () => {
    const path = join(storiesDir() as string, 'hf', 'model.safetensors');
    const reference = referenceRead(path);
    const file = await SafetensorsFile.open(path);
    try {
      expect(file.tensors().map((t) => t.name).sort()).toEqual([...reference.tensors.keys()].sort());
      expect({ ...file.metadata }).toEqual(reference.metadata);
      for (const [name, expected] of reference.tensors) {
        const info = file.info(name);
        expect(info.dtype).toBe(expected.dtype);
        expect(info.shape).toEqual(expected.shape);
        const values = await file.readFloat32(name);
        expect(Array.from(values)).toEqual(float32sOf(expected.bytes));
      }
    } finally {
      await file.close();
    }
  });

  testWithStories('stories260k hessians read as float64', async () => {
    const path = join(storiesDir() as string, 'hessians.safetensors');
    const reference = referenceRead(path);
    const file = await SafetensorsFile.open(path);
    try {
      expect(file.tensors()).toHaveLength(reference.tensors.size);
      expect(file.metadata.num_tokens).toBe(reference.metadata.num_tokens);
      for (const [name, expected] of reference.tensors) {
        expect(file.info(name).dtype).toBe('F64');
        const values = await file.readFloat64(name);
        expect(Array.from(values)).toEqual(float64sOf(expected.bytes));
      }
    } finally {
      await file.close();
    }
  });

  testWithStories('row range equals the slice of a full read', async () => {
    const file = await openCheckpoint(join(storiesDir() as string, 'hf'));
    try {
      const name = 'model.layers.1.mlp.gate_proj.weight';
      expect(file.info(name).shape).toEqual([172, 64]);
      const full = await file.readFloat32(name);
      for (const [start, end] of [[0, 1], [5, 17], [171, 172], [0, 172], [40, 40]]) {
        const rows = await file.readFloat32(name, { start, end });
        expect(bytesOf(rows).equals(bytesOf(full.subarray(start * 64, end * 64)))).toBe(true);
      }
      await expect(file.readFloat32(name, { start: 3, end: 173 })).rejects.toThrow(RangeError);
      await expect(file.readFloat32(name, { start: 4, end: 3 })).rejects.toThrow(RangeError);
      await expect(file.readFloat32(name, { start: 0.5, end: 3 })).rejects.toThrow(RangeError);
    } finally {
      await file.close();
    }
  });
});

describe('safetensors reader API', () => {
  const folder = temporaryFolder('reader');
  afterAll(() => folder.remove());

  test('names like __proto__ stay plain data', async () => {
    const path = join(folder.path, 'proto.safetensors');
    await writeSafetensors(path, [
      { name: '__proto__', dtype: 'U8', shape: [2], data: new Uint8Array([1, 2]) },
      { name: 'constructor', dtype: 'U8', shape: [1], data: new Uint8Array([3]) },
    ], { metadata: new Map([['__proto__', 'x'], ['toString', 'y']]) });
    const file = await SafetensorsFile.open(path);
    expect(file.has('__proto__')).toBe(true);
    expect(file.has('hasOwnProperty')).toBe(false);
    expect(Array.from(await file.readBytes('__proto__'))).toEqual([1, 2]);
    expect(Array.from(await file.readBytes('constructor'))).toEqual([3]);
    expect(Object.keys(file.metadata)).toEqual(['__proto__', 'toString']);
    expect(file.metadata.__proto__).toBe('x');
    expect(Object.getPrototypeOf(file.metadata)).toBeNull();
    await file.close();
  });

  test('wrong dtype, unknown name and closed file', async () => {
    const path = join(folder.path, 'kinds.safetensors');
    await writeSafetensors(path, [
      { name: 'i', dtype: 'I32', shape: [2], data: new Int32Array([1, -1]) },
      { name: 'f', dtype: 'F32', shape: [1], data: new Float32Array([1.5]) },
    ]);
    const file = await SafetensorsFile.open(path);
    await expect(file.readFloat32('i')).rejects.toMatchObject({ reason: 'wrong-dtype', tensor: 'i', file: path });
    await expect(file.readFloat64('f')).rejects.toMatchObject({ reason: 'wrong-dtype', tensor: 'f' });
    await expect(file.readBytes('nope')).rejects.toMatchObject({ reason: 'tensor-not-found', tensor: 'nope' });
    expect(() => file.info('nope')).toThrow(SafetensorsError);
    expect(Array.from(new Int32Array((await file.readBytes('i')).buffer))).toEqual([1, -1]);
    await file.close();
    await file.close();
    await expect(file.readBytes('i')).rejects.toMatchObject({ reason: 'closed' });
  });

  test('sharded checkpoint opens through its index', async () => {
    const shards = join(folder.path, 'sharded');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(shards);
    await writeSafetensors(join(shards, 'a.safetensors'), [
      { name: 'x', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
    ], { metadata: { format: 'pt' } });
    await writeSafetensors(join(shards, 'b.safetensors'), [
      { name: 'y', dtype: 'F16', shape: [1], data: new Float32Array([0.5]) },
      { name: 'z', dtype: 'F64', shape: [], data: new Float64Array([7]) },
    ]);
    const index = { metadata: { total_size: 14 }, weight_map: { x: 'a.safetensors', y: 'b.safetensors', z: 'b.safetensors' } };
    writeFileSync(join(shards, 'model.safetensors.index.json'), JSON.stringify(index));

    const model = await openCheckpoint(shards);
    expect(model.tensors().map((t) => t.name)).toEqual(['x', 'y', 'z']);
    expect(model.metadata.format).toBe('pt');
    expect(Array.from(await model.readFloat32('x'))).toEqual([1, 2]);
    expect(Array.from(await model.readFloat32('y'))).toEqual([0.5]);
    expect(Array.from(await model.readFloat64('z'))).toEqual([7]);
    expect(model.info('y').file).toBe(join(shards, 'b.safetensors'));
    expect(model.has('w')).toBe(false);
    await model.close();

    const bad = (weightMap: object) => writeFileSync(join(shards, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: weightMap }));
    bad({ x: 'a.safetensors', y: 'b.safetensors' });
    await expect(openCheckpoint(shards)).rejects.toMatchObject({ reason: 'bad-index', tensor: 'z' });
    bad({ x: 'a.safetensors', y: 'a.safetensors', z: 'b.safetensors' });
    await expect(openCheckpoint(shards)).rejects.toMatchObject({ reason: 'bad-index', tensor: 'y' });
    bad({ x: '../a.safetensors', y: 'b.safetensors', z: 'b.safetensors' });
    await expect(openCheckpoint(shards)).rejects.toMatchObject({ reason: 'bad-index', tensor: 'x' });
    writeFileSync(join(shards, 'model.safetensors.index.json'), '{"weight_map": {"x": "a.safetensors", "x": "a.safetensors"}}');
    await expect(openCheckpoint(shards)).rejects.toMatchObject({ reason: 'bad-index' });
    writeFileSync(join(shards, 'model.safetensors.index.json'), 'version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n');
    await expect(openCheckpoint(shards)).rejects.toMatchObject({ reason: 'git-lfs-pointer' });
    writeFileSync(join(shards, 'b.safetensors'), 'version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n');
    bad({ x: 'a.safetensors', y: 'b.safetensors', z: 'b.safetensors' });
    await expect(openCheckpoint(shards)).rejects.toMatchObject({ reason: 'git-lfs-pointer', file: join(shards, 'b.safetensors') });
  });

  test('file truncated after open fails the read', async () => {
    const path = join(folder.path, 'shrinks.safetensors');
    await writeSafetensors(path, [
      { name: 'a', dtype: 'F32', shape: [4], data: new Float32Array(4) },
      { name: 'b', dtype: 'F32', shape: [4], data: new Float32Array([1, 2, 3, 4]) },
    ]);
    const file = await SafetensorsFile.open(path);
    const { truncateSync } = await import('node:fs');
    truncateSync(path, file.info('b').byteOffset + 8);
    await expect(file.readFloat32('b')).rejects.toMatchObject({ reason: 'io', tensor: 'b', file: path });
    await expect(file.readFloat32('b')).rejects.toThrow(`${path}, tensor 'b': unexpected end of file at offset`);
    expect(Array.from(await file.readFloat32('a'))).toEqual([0, 0, 0, 0]);
    await file.close();
  });

  test('folder without an index needs exactly one file', async () => {
    const { mkdirSync } = await import('node:fs');
    const two = join(folder.path, 'two');
    mkdirSync(two);
    writeFileSync(join(two, 'a.safetensors'), rawFile({}));
    writeFileSync(join(two, 'b.safetensors'), rawFile({}));
    await expect(openCheckpoint(two)).rejects.toMatchObject({ reason: 'bad-checkpoint' });
    const single = join(folder.path, 'one');
    mkdirSync(single);
    writeFileSync(join(single, 'weights.safetensors'), rawFile({ t: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array([9])));
    const file = await openCheckpoint(single);
    expect(Array.from(await file.readBytes('t'))).toEqual([9]);
    await file.close();
  });
});
