// Every rule of the strict header check, one malformed file each: the error
// must be a SafetensorsError with code ERR_CLAQ_SAFETENSORS, the reason of
// the rule broken, and the file and tensor named.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { MAX_HEADER_LENGTH, SafetensorsFile } from '../lib/index.js';
import { rawFile, temporaryFolder } from './safetensors-helpers.js';

const u8 = (count: number) => new Uint8Array(count).fill(7);
const entry = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });

async function rejection(bytes: Uint8Array): Promise<Record<string, unknown>> {
  try {
    await SafetensorsFile.fromBytes(bytes, 'test.safetensors');
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('the file was accepted');
}

interface Case {
  name: string;
  bytes: Uint8Array;
  reason: string;
  tensor?: string;
  message: RegExp;
}

const cases: Case[] = [
  { name: 'file shorter than 8 bytes', bytes: new Uint8Array([1, 0, 0]), reason: 'file-too-short', message: /3 bytes long/ },
  { name: 'empty file', bytes: new Uint8Array(0), reason: 'file-too-short', message: /0 bytes long/ },
  { name: 'header length beyond the file', bytes: rawFile('{}', u8(0), 100n), reason: 'header-out-of-range', message: /100 bytes/ },
  { name: 'header length above the cap', bytes: rawFile('{}', u8(0), BigInt(MAX_HEADER_LENGTH) + 1n), reason: 'header-too-large', message: /100000000/ },
  { name: 'header length of 2^64 - 1', bytes: rawFile('{}', u8(0), 2n ** 64n - 1n), reason: 'header-too-large', message: /18446744073709551615/ },
  { name: 'header not JSON', bytes: rawFile('{"a": [1, 2}'), reason: 'header-not-json', message: /not valid JSON/ },
  { name: 'empty header', bytes: rawFile(''), reason: 'header-not-json', message: /end of input/ },
  { name: 'header with trailing text', bytes: rawFile('{} x'), reason: 'header-not-json', message: /after the JSON value/ },
  { name: 'header an array', bytes: rawFile('[]'), reason: 'header-not-object', message: /got \[\]/ },
  { name: 'header a number', bytes: rawFile('12'), reason: 'header-not-object', message: /got 12/ },
  { name: 'unknown dtype', bytes: rawFile({ w: entry('F128', [1], 0, 16) }, u8(16)), reason: 'unknown-dtype', tensor: 'w', message: /"F128"/ },
  { name: 'dtype not a string', bytes: rawFile({ w: entry(4 as never, [1], 0, 4) }, u8(4)), reason: 'unknown-dtype', tensor: 'w', message: /unknown dtype 4/ },
  { name: 'negative dimension', bytes: rawFile({ w: entry('U8', [-1], 0, 0) }), reason: 'bad-shape', tensor: 'w', message: /shape\[0\]/ },
  { name: 'fractional dimension', bytes: rawFile('{"w":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}', u8(1)), reason: 'bad-shape', tensor: 'w', message: /1\.0/ },
  { name: 'dimension above 2^53', bytes: rawFile('{"w":{"dtype":"U8","shape":[9007199254740993],"data_offsets":[0,1]}}', u8(1)), reason: 'bad-shape', tensor: 'w', message: /9007199254740993/ },
  { name: 'shape not an array', bytes: rawFile({ w: { dtype: 'U8', shape: 3, data_offsets: [0, 3] } }, u8(3)), reason: 'bad-shape', tensor: 'w', message: /must be an array/ },
  { name: 'offsets reversed', bytes: rawFile({ w: entry('U8', [0], 4, 0) }, u8(4)), reason: 'bad-offsets', tensor: 'w', message: /end before/ },
  { name: 'three offsets', bytes: rawFile({ w: { dtype: 'U8', shape: [1], data_offsets: [0, 1, 2] } }, u8(1)), reason: 'bad-offsets', tensor: 'w', message: /two integers/ },
  { name: 'offset out of range', bytes: rawFile({ w: entry('U8', [8], 0, 8) }, u8(4)), reason: 'offset-out-of-range', tensor: 'w', message: /4 bytes/ },
  { name: 'gap between tensors', bytes: rawFile({ a: entry('U8', [2], 0, 2), b: entry('U8', [2], 3, 5) }, u8(5)), reason: 'gap', tensor: 'b', message: /1 unused bytes/ },
  { name: 'gap at the start', bytes: rawFile({ a: entry('U8', [2], 2, 4) }, u8(4)), reason: 'gap', tensor: 'a', message: /begins at offset 2/ },
  { name: 'overlapping tensors', bytes: rawFile({ a: entry('U8', [4], 0, 4), b: entry('U8', [4], 2, 6) }, u8(6)), reason: 'overlap', tensor: 'b', message: /overlaps tensor 'a'/ },
  { name: 'trailing bytes', bytes: rawFile({ a: entry('U8', [2], 0, 2) }, u8(3)), reason: 'trailing-bytes', message: /1 trailing bytes/ },
  { name: 'data but no tensors', bytes: rawFile({}, u8(1)), reason: 'trailing-bytes', message: /1 trailing bytes/ },
  { name: 'shape times dtype differs from length', bytes: rawFile({ w: entry('F32', [2, 3], 0, 20) }, u8(20)), reason: 'size-mismatch', tensor: 'w', message: /needs 24 bytes/ },
  { name: 'huge shape product', bytes: rawFile({ w: entry('F64', [4294967296, 4294967296], 0, 8) }, u8(8)), reason: 'size-mismatch', tensor: 'w', message: /147573952589676412928 bytes/ },
  { name: 'duplicate tensor name', bytes: rawFile('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', u8(1)), reason: 'duplicate-name', tensor: 'w', message: /appears twice/ },
  { name: 'duplicate key inside an entry', bytes: rawFile('{"w":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}', u8(1)), reason: 'bad-entry', tensor: 'w', message: /"dtype" appears twice/ },
  { name: 'unknown key in an entry', bytes: rawFile({ w: { ...entry('U8', [1], 0, 1), stride: [1] } }, u8(1)), reason: 'bad-entry', tensor: 'w', message: /"stride"/ },
  { name: 'entry missing data_offsets', bytes: rawFile({ w: { dtype: 'U8', shape: [1] } }, u8(1)), reason: 'bad-entry', tensor: 'w', message: /no data_offsets/ },
  { name: 'entry not an object', bytes: rawFile({ w: 'U8' }), reason: 'bad-entry', tensor: 'w', message: /must be an object/ },
  { name: 'duplicate __metadata__', bytes: rawFile('{"__metadata__":{"a":"b"},"__metadata__":{"a":"c"}}'), reason: 'bad-metadata', message: /__metadata__ appears twice/ },
  { name: 'non-string metadata value', bytes: rawFile({ __metadata__: { step: 3 } }), reason: 'bad-metadata', message: /"step" must be a string, got 3/ },
  { name: 'metadata not an object', bytes: rawFile({ __metadata__: ['a'] }), reason: 'bad-metadata', message: /must be an object of strings/ },
  { name: 'duplicate metadata key', bytes: rawFile('{"__metadata__":{"a":"b","a":"b"}}'), reason: 'bad-metadata', message: /"a" appears twice/ },
  { name: 'nesting too deep', bytes: rawFile(`{"w":${'['.repeat(100)}${']'.repeat(100)}}`), reason: 'bad-entry', tensor: 'w', message: /nesting deeper than 64/ },
  { name: 'nesting too deep at the top', bytes: rawFile(`${'['.repeat(100)}${']'.repeat(100)}`), reason: 'header-not-json', message: /nesting deeper than 64/ },
  { name: 'shape array too long', bytes: rawFile({ w: entry('U8', new Array(1025).fill(1), 0, 1) }, u8(1)), reason: 'bad-entry', tensor: 'w', message: /array longer than 1024 elements/ },
  { name: 'long array in metadata', bytes: rawFile(`{"__metadata__":{"a":[${new Array(1025).fill(0).join(',')}]}}`), reason: 'bad-metadata', message: /array longer than 1024/ },
  { name: 'negative zero offset', bytes: rawFile('{"w":{"dtype":"U8","shape":[1],"data_offsets":[-0,1]}}', u8(1)), reason: 'bad-offsets', tensor: 'w', message: /non-negative integers/ },
  { name: 'exponent offset', bytes: rawFile('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1e0]}}', u8(1)), reason: 'bad-offsets', tensor: 'w', message: /non-negative integers/ },
  { name: 'Git LFS pointer', bytes: Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 1176144\n'), reason: 'git-lfs-pointer', message: /git lfs pull/ },
];

describe('safetensors header errors', () => {
  test.each(cases)('$name', async ({ bytes, reason, tensor, message }) => {
    const error = await rejection(bytes);
    expect(error.name).toBe('SafetensorsError');
    expect(error.code).toBe('ERR_CLAQ_SAFETENSORS');
    expect(error.reason).toBe(reason);
    expect(error.file).toBe('test.safetensors');
    expect(error.tensor).toBe(tensor);
    expect(String(error.message)).toMatch(message);
    expect(String(error.message)).toContain('test.safetensors');
  });

  test('invalid UTF-8 is its own reason', async () => {
    const header = Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]);
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    expect((await rejection(bytes)).reason).toBe('header-not-utf8');
  });

  test('zero-size tensors may share an offset', async () => {
    const file = await SafetensorsFile.fromBytes(rawFile({
      a: entry('F32', [0, 3], 0, 0), b: entry('U8', [2], 0, 2), c: entry('I64', [5, 0], 2, 2), s: entry('U8', [], 2, 3),
    }, u8(3)));
    expect(file.tensors().map((t) => t.name)).toEqual(['a', 'b', 'c', 's']);
    expect(file.info('s').shape).toEqual([]);
  });

  test('header padding with spaces is accepted', async () => {
    const file = await SafetensorsFile.fromBytes(rawFile(`${JSON.stringify({ a: entry('U8', [1], 0, 1) })}      `, u8(1)));
    expect(file.has('a')).toBe(true);
  });

  test('error on disk names the path', async () => {
    const folder = temporaryFolder('errors');
    try {
      const path = join(folder.path, 'short.safetensors');
      writeFileSync(path, new Uint8Array(5));
      await expect(SafetensorsFile.open(path)).rejects.toMatchObject({ reason: 'file-too-short', file: path });
      await expect(SafetensorsFile.open(join(folder.path, 'missing.safetensors'))).rejects.toMatchObject({ reason: 'io' });
    } finally {
      folder.remove();
    }
  });
});
