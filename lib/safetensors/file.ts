// SafetensorsFile: a strict, lazy reader of one safetensors file.
import { constants as bufferConstants } from 'node:buffer';
import { endianness } from 'node:os';

import { type ByteSource, FileSource, MemorySource } from './byte-source.js';
import { bfloat16BytesToFloat32, float16BytesToFloat32 } from './convert.js';
import type { Dtype } from './dtype.js';
import { SafetensorsError } from './errors.js';
import { MAX_HEADER_LENGTH, type TensorInfo, parseHeader } from './header.js';

/** A range of indices `[start, end)` along the first dimension of a tensor. */
export interface RowRange {
  start: number;
  end: number;
}

/**
 * Read access shared by SafetensorsFile and a sharded checkpoint
 * (openCheckpoint): the tensor list, the metadata, and lazy reads of one
 * tensor or row range.
 */
export interface TensorReader {
  /** The path opened (a file, or a folder / index file for sharded checkpoints). */
  readonly path: string;
  /** The `__metadata__` map (a null-prototype object, so any key is plain data). */
  readonly metadata: Record<string, string>;
  /** Every tensor, in data offset order (per shard, shards in name order). */
  tensors(): TensorInfo[];
  /** The tensor named `name`; throws SafetensorsError('tensor-not-found'). */
  info(name: string): TensorInfo;
  has(name: string): boolean;
  readFloat32(name: string, rows?: RowRange): Promise<Float32Array>;
  readFloat64(name: string, rows?: RowRange): Promise<Float64Array>;
  readBytes(name: string, rows?: RowRange): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** The first line of a Git LFS pointer file, which some clones hold in place of the real file. */
export const GIT_LFS_POINTER_PREFIX = 'version https://git-lfs.github.com/spec/v1';

const littleEndianHost = endianness() === 'LE';

/**
 * A safetensors file opened for lazy reads. `open` reads and validates only
 * the header. Each read fetches one tensor (or a row range of it) from the
 * file at its offset, so a checkpoint larger than memory can be streamed.
 *
 * @example
 * const file = await SafetensorsFile.open('model.safetensors');
 * const embedding = await file.readFloat32('model.embed_tokens.weight');
 * await file.close();
 */
export class SafetensorsFile implements TensorReader {
  readonly metadata: Record<string, string>;
  private readonly byName: Map<string, TensorInfo>;

  private constructor(
    private readonly source: ByteSource,
    readonly metadataMap: ReadonlyMap<string, string>,
    private readonly ordered: TensorInfo[],
  ) {
    this.byName = new Map();
    for (const tensor of ordered) this.byName.set(tensor.name, tensor);
    this.metadata = toRecord(metadataMap);
  }

  get path(): string {
    return this.source.name;
  }

  /**
   * Opens `path` and validates its header (lengths, JSON, dtypes, shapes,
   * offsets); reads no tensor data.
   * @throws SafetensorsError with a `reason` for each rule broken, and
   *   'git-lfs-pointer' when the file is a Git LFS pointer, not the data.
   */
  static async open(path: string): Promise<SafetensorsFile> {
    const source = await FileSource.open(path);
    try {
      return await SafetensorsFile.fromSource(source);
    } catch (error) {
      await source.close();
      throw error;
    }
  }

  /** Validates a safetensors file held in memory; `name` appears in error messages. */
  static async fromBytes(bytes: Uint8Array, name = '<memory>'): Promise<SafetensorsFile> {
    return SafetensorsFile.fromSource(new MemorySource(name, bytes));
  }

  static async fromSource(source: ByteSource): Promise<SafetensorsFile> {
    const file = source.name;
    const prefix = new Uint8Array(Math.min(source.size, 64));
    await source.read(prefix, 0);
    if (Buffer.from(prefix.buffer, prefix.byteOffset, prefix.length).toString('latin1').startsWith(GIT_LFS_POINTER_PREFIX)) {
      throw new SafetensorsError('git-lfs-pointer', file, undefined,
        'this is a Git LFS pointer file, not the tensor data; fetch the real file with "git lfs pull"');
    }
    if (source.size < 8) {
      throw new SafetensorsError('file-too-short', file, undefined,
        `the file is ${source.size} bytes long, shorter than the 8-byte header length field`);
    }

    const headerLength = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
    if (headerLength > BigInt(MAX_HEADER_LENGTH)) {
      throw new SafetensorsError('header-too-large', file, undefined,
        `the header length field is ${headerLength} bytes, above the limit of ${MAX_HEADER_LENGTH}`);
    }
    if (headerLength > BigInt(source.size - 8)) {
      throw new SafetensorsError('header-out-of-range', file, undefined,
        `the header length field is ${headerLength} bytes, but only ${source.size - 8} bytes follow it`);
    }

    const headerBytes = new Uint8Array(Number(headerLength));
    await source.read(headerBytes, 8);
    const header = parseHeader(headerBytes, source.size - 8 - headerBytes.length, file);
    return new SafetensorsFile(source, header.metadata, header.tensors);
  }

  tensors(): TensorInfo[] {
    return this.ordered.map((tensor) => ({ ...tensor, shape: [...tensor.shape] }));
  }

  info(name: string): TensorInfo {
    const tensor = this.lookup(name);
    return { ...tensor, shape: [...tensor.shape] };
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Reads a F32, F16 or BF16 tensor as float32 (F16 and BF16 convert exactly
   * in native code). `rows` selects `[start, end)` along the first dimension.
   * @throws SafetensorsError 'wrong-dtype' for other dtypes; RangeError for a
   *   row range outside the tensor.
   */
  async readFloat32(name: string, rows?: RowRange): Promise<Float32Array> {
    const tensor = this.lookup(name);
    if (tensor.dtype === 'F32') {
      const range = this.byteRange(tensor, rows);
      const values = new Float32Array(range.length / 4);
      await this.readInto(tensor, new Uint8Array(values.buffer), range.position);
      if (!littleEndianHost) swapBytes(new Uint8Array(values.buffer), 4);
      return values;
    }
    if (tensor.dtype === 'F16' || tensor.dtype === 'BF16') {
      const bytes = await this.readBytes(name, rows);
      return tensor.dtype === 'F16' ? float16BytesToFloat32(bytes) : bfloat16BytesToFloat32(bytes);
    }
    throw wrongDtype(tensor, 'readFloat32', ['F32', 'F16', 'BF16']);
  }

  /** Reads a F64 tensor (or a row range of it). @throws SafetensorsError 'wrong-dtype' for other dtypes. */
  async readFloat64(name: string, rows?: RowRange): Promise<Float64Array> {
    const tensor = this.lookup(name);
    if (tensor.dtype !== 'F64') throw wrongDtype(tensor, 'readFloat64', ['F64']);
    const range = this.byteRange(tensor, rows);
    const values = new Float64Array(range.length / 8);
    await this.readInto(tensor, new Uint8Array(values.buffer), range.position);
    if (!littleEndianHost) swapBytes(new Uint8Array(values.buffer), 8);
    return values;
  }

  /** Reads the raw little-endian bytes of any tensor (or a row range of it). */
  async readBytes(name: string, rows?: RowRange): Promise<Uint8Array> {
    const tensor = this.lookup(name);
    const range = this.byteRange(tensor, rows);
    const bytes = new Uint8Array(range.length);
    await this.readInto(tensor, bytes, range.position);
    return bytes;
  }

  /** Closes the file handle; later reads throw SafetensorsError('closed'). Safe to call twice. */
  async close(): Promise<void> {
    await this.source.close();
  }

  private lookup(name: string): TensorInfo {
    if (typeof name !== 'string') throw new TypeError(`${this.path}: tensor name must be a string, got ${typeof name}`);
    const tensor = this.byName.get(name);
    if (tensor === undefined) {
      throw new SafetensorsError('tensor-not-found', this.path, name, 'no tensor of this name in the file');
    }
    return tensor;
  }

  private byteRange(tensor: TensorInfo, rows: RowRange | undefined): { position: number; length: number } {
    let position = tensor.byteOffset;
    let length = tensor.byteLength;
    if (rows !== undefined) {
      const slice = rowSlice(tensor, rows, this.path);
      position += slice.begin;
      length = slice.end - slice.begin;
    }
    if (length > bufferConstants.MAX_LENGTH) {
      throw new SafetensorsError('io', this.path, tensor.name,
        `${length} bytes do not fit one buffer (at most ${bufferConstants.MAX_LENGTH}); read a row range`);
    }
    return { position, length };
  }

  private async readInto(tensor: TensorInfo, target: Uint8Array, position: number): Promise<void> {
    try {
      await this.source.read(target, position);
    } catch (error) {
      if (error instanceof SafetensorsError && error.tensor === undefined) {
        throw new SafetensorsError(error.reason, error.file, tensor.name, error.detail, { cause: error });
      }
      throw error;
    }
  }
}

/** Byte offsets (relative to the tensor) of rows `[start, end)` of the first dimension. */
export function rowSlice(tensor: TensorInfo, rows: RowRange, file: string): { begin: number; end: number } {
  if (tensor.shape.length === 0) {
    throw new RangeError(`${file}, tensor '${tensor.name}': a scalar (0-d) tensor has no rows to select`);
  }
  const count = tensor.shape[0];
  const { start, end } = rows;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > count) {
    throw new RangeError(`${file}, tensor '${tensor.name}': row range [${start}, ${end}) must satisfy ` +
      `0 <= start <= end <= ${count} with integer bounds`);
  }
  const rowBytes = count === 0 ? 0 : tensor.byteLength / count;
  return { begin: start * rowBytes, end: end * rowBytes };
}

function wrongDtype(tensor: TensorInfo, operation: string, expected: Dtype[]): SafetensorsError {
  return new SafetensorsError('wrong-dtype', tensor.file, tensor.name,
    `${operation} needs ${expected.join(', ')} but the tensor is ${tensor.dtype}; use readBytes for its raw bytes`);
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/** Copies a Map into a null-prototype object, so keys such as `__proto__` stay plain data. */
export function toRecord(map: ReadonlyMap<string, string>): Record<string, string> {
  const record: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of map) {
    Object.defineProperty(record, key, { value, enumerable: true, writable: false, configurable: false });
  }
  return Object.freeze(record);
}
