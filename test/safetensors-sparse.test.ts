// A 10 GB sparse file (ftruncate, no data written) with one huge tensor and a
// small one: listing it and reading the small tensor must not touch the huge
// one. Memory is checked as RSS growth, with a bound far below the file size.
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { SafetensorsFile } from '../lib/index.js';
import { temporaryFolder } from './safetensors-helpers.js';

const HUGE_ELEMENTS = 2_500_000_000; // F32: 10,000,000,000 bytes
const MAX_RSS_GROWTH = 64 * 1024 * 1024;

describe('safetensors reader on a sparse 10 GB file', () => {
  const folder = temporaryFolder('sparse');
  afterAll(() => folder.remove());

  test('lists and reads the small tensor with flat memory', async () => {
    const path = join(folder.path, 'huge.safetensors');
    const hugeBytes = HUGE_ELEMENTS * 4;
    const header = Buffer.from(JSON.stringify({
      huge: { dtype: 'F32', shape: [50_000, 50_000], data_offsets: [0, hugeBytes] },
      small: { dtype: 'F32', shape: [4], data_offsets: [hugeBytes, hugeBytes + 16] },
    }), 'utf8');
    const dataStart = 8 + header.length;
    const fd = openSync(path, 'w');
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    writeSync(fd, length, 0, 8, 0);
    writeSync(fd, header, 0, header.length, 8);
    ftruncateSync(fd, dataStart + hugeBytes + 16);
    writeSync(fd, Buffer.from(new Float32Array([1.5, -2, 3.25, 1e-3]).buffer), 0, 16, dataStart + hugeBytes);
    closeSync(fd);

    global.gc?.();
    const before = process.memoryUsage().rss;
    const file = await SafetensorsFile.open(path);
    const tensors = file.tensors();
    expect(tensors.map((t) => [t.name, t.byteLength])).toEqual([['huge', hugeBytes], ['small', 16]]);
    expect(Array.from(await file.readFloat32('small'))).toEqual([1.5, -2, 3.25, Math.fround(1e-3)]);

    // A row range of the huge tensor reads only that range: the last row is
    // 200,000 bytes of zeros (a hole). The whole tensor does not fit one buffer.
    const lastRow = await file.readFloat32('huge', { start: 49_999, end: 50_000 });
    expect(lastRow.length).toBe(50_000);
    expect(lastRow.every((v) => v === 0)).toBe(true);
    await expect(file.readFloat32('huge')).rejects.toMatchObject({ reason: 'io', tensor: 'huge' });
    await expect(file.readFloat32('huge')).rejects.toThrow(/read a row range/);
    const growth = process.memoryUsage().rss - before;
    await file.close();
    expect(growth).toBeLessThan(MAX_RSS_GROWTH);
  });
});
