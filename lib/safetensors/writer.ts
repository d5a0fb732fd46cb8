// writeSafetensors: streams tensors into a new safetensors file, atomically.
import { randomBytes } from 'node:crypto';
import { type FileHandle, link, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { float32ToBfloat16Bytes, float32ToFloat16Bytes } from './convert.js';
import { type Dtype, DTYPES, dtypeSize, isDtype } from './dtype.js';
import { SafetensorsError } from './errors.js';
import { MAX_HEADER_LENGTH, METADATA_KEY } from './header.js';

/** Anything whose bytes can be written: a typed array, a DataView or a Buffer. */
export type TensorData = ArrayBufferView;

/** One tensor for writeSafetensors. */
export interface TensorToWrite {
  name: string;
  dtype: Dtype;
  /** Dimensions; `[]` for a scalar. */
  shape: readonly number[];
  /**
   * The tensor's little-endian bytes, as any typed array whose bytes are
   * written as they are. For an F16 or BF16 tensor it may be a Float32Array,
   * which is converted with rounding to nearest even. A function is called
   * when the writer reaches this tensor, so only one tensor need be in memory
   * at a time.
   */
  data: TensorData | (() => TensorData | Promise<TensorData>);
}

export interface WriteSafetensorsOptions {
  /** String-to-string `__metadata__`; omitted from the header when undefined. */
  metadata?: Record<string, string> | ReadonlyMap<string, string>;
  /** Replace an existing file at the path (default false: reject with 'file-exists'). */
  overwrite?: boolean;
}

const MAX_WRITE_CHUNK = 1 << 30;

/**
 * Writes a safetensors file: the header (padded with spaces so the data
 * starts at a multiple of 8 bytes), then each tensor in the order given. The
 * bytes go to a temporary file in the same folder, which is fsynced and then
 * renamed, so an interrupted write never leaves a truncated file at `path`.
 *
 * @example
 * await writeSafetensors('out.safetensors', [
 *   { name: 'w', dtype: 'F16', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
 * ], { metadata: { format: 'pt' } });
 * @throws SafetensorsError 'file-exists' when `path` exists and `overwrite`
 *   is not set; 'size-mismatch' when a tensor's bytes are not shape × dtype
 *   size; TypeError/RangeError for an invalid name, dtype or shape.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  const overwrite = options.overwrite ?? false;
  const layout = planLayout(path, tensors);
  const header = encodeHeader(path, layout, options.metadata);
  const pathExists = await exists(path).catch((error: unknown) => {
    throw asWriteError(error, path);
  });
  if (!overwrite && pathExists) {
    throw new SafetensorsError('file-exists', path, undefined, 'the file exists; pass overwrite: true to replace it');
  }

  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temporary, 'wx');
    await writeAll(handle, header, temporary);
    for (const entry of layout) await writeAll(handle, await tensorBytes(path, entry), temporary);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await publish(temporary, path, overwrite);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw asWriteError(error, path);
  }
  await syncFolder(dirname(path));
}

// File system errors (a missing folder, no permission, a full disk, a
// directory at the path) become SafetensorsError 'io' naming the path.
function asWriteError(error: unknown, path: string): unknown {
  // Duck typing, not instanceof Error: Node's errors come from another realm
  // under jest's sandbox.
  if (error instanceof SafetensorsError || typeof (error as { code?: unknown } | null)?.code !== 'string') return error;
  const message = String((error as { message?: unknown }).message);
  return new SafetensorsError('io', path, undefined, `cannot write the file: ${message}`, { cause: error });
}

interface PlannedTensor {
  tensor: TensorToWrite;
  byteLength: number;
  begin: number;
}

function planLayout(path: string, tensors: readonly TensorToWrite[]): PlannedTensor[] {
  if (!Array.isArray(tensors)) throw new TypeError(`writeSafetensors(${path}): tensors must be an array`);
  const names = new Set<string>();
  let offset = 0;
  return tensors.map((tensor, index) => {
    const { name, dtype, shape } = tensor;
    if (typeof name !== 'string') throw new TypeError(`writeSafetensors(${path}): tensors[${index}].name must be a string`);
    if (name === METADATA_KEY) throw new RangeError(`writeSafetensors(${path}): ${METADATA_KEY} is reserved, not a tensor name`);
    if (names.has(name)) throw new RangeError(`writeSafetensors(${path}): tensor name '${name}' appears twice`);
    names.add(name);
    if (!isDtype(dtype)) {
      throw new RangeError(`writeSafetensors(${path}): tensor '${name}' has unknown dtype ${String(dtype)} ` +
        `(expected one of ${DTYPES.join(' ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new RangeError(`writeSafetensors(${path}): tensor '${name}' shape must be an array of non-negative ` +
        `integers, got ${JSON.stringify(shape)}`);
    }
    const byteLength = shape.reduce((product, d) => product * d, dtypeSize(dtype));
    if (!Number.isSafeInteger(byteLength) || !Number.isSafeInteger(offset + byteLength)) {
      throw new RangeError(`writeSafetensors(${path}): tensor '${name}' of shape [${shape.join(', ')}] is too large`);
    }
    const planned = { tensor, byteLength, begin: offset };
    offset += byteLength;
    return planned;
  });
}

// The 8-byte length and the JSON header, padded with spaces so that the data
// section begins at a multiple of 8 bytes.
function encodeHeader(
  path: string,
  layout: PlannedTensor[],
  metadata: Record<string, string> | ReadonlyMap<string, string> | undefined,
): Buffer {
  const entries: string[] = [];
  if (metadata !== undefined) {
    const pairs = isMap(metadata) ? [...metadata] : Object.entries(metadata);
    for (const [key, value] of pairs) {
      if (typeof value !== 'string') {
        throw new TypeError(`writeSafetensors(${path}): metadata value for key '${key}' must be a string`);
      }
    }
    const body = pairs.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',');
    entries.push(`${JSON.stringify(METADATA_KEY)}:{${body}}`);
  }
  for (const { tensor, byteLength, begin } of layout) {
    entries.push(`${JSON.stringify(tensor.name)}:{"dtype":${JSON.stringify(tensor.dtype)},` +
      `"shape":[${tensor.shape.join(',')}],"data_offsets":[${begin},${begin + byteLength}]}`);
  }
  const json = Buffer.from(`{${entries.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded > MAX_HEADER_LENGTH) {
    throw new RangeError(`writeSafetensors(${path}): the header would be ${padded} bytes, above the limit of ${MAX_HEADER_LENGTH}`);
  }
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(header, 8);
  return header;
}

async function tensorBytes(path: string, { tensor, byteLength }: PlannedTensor): Promise<Uint8Array> {
  const data = typeof tensor.data === 'function' ? await tensor.data() : tensor.data;
  if (!ArrayBuffer.isView(data)) {
    throw new TypeError(`writeSafetensors(${path}): tensor '${tensor.name}' data must be a typed array or DataView`);
  }
  let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const isFloat32 = (data as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'Float32Array';
  if (isFloat32 && tensor.dtype === 'F16') bytes = float32ToFloat16Bytes(data as Float32Array);
  if (isFloat32 && tensor.dtype === 'BF16') bytes = float32ToBfloat16Bytes(data as Float32Array);
  if (bytes.length !== byteLength) {
    throw new SafetensorsError('size-mismatch', path, tensor.name,
      `shape [${tensor.shape.join(', ')}] of ${tensor.dtype} needs ${byteLength} bytes but the data has ${bytes.length}`);
  }
  return bytes;
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, file: string): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const length = Math.min(bytes.length - done, MAX_WRITE_CHUNK);
    try {
      const { bytesWritten } = await handle.write(bytes, done, length);
      done += bytesWritten;
    } catch (error) {
      throw new SafetensorsError('io', file, undefined, `write failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

// Moves the finished temporary file to its final name. Without overwrite, a
// hard link publishes it only if the name is still free (link fails with
// EEXIST), which closes the race between the existence check and the rename.
async function publish(temporary: string, path: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await rename(temporary, path);
    return;
  }
  try {
    await link(temporary, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new SafetensorsError('file-exists', path, undefined, 'the file exists; pass overwrite: true to replace it');
    }
    // NOTE: a file system without hard links (EPERM, ENOTSUP) falls back to a
    // checked rename, which can replace a file created in between.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
    if (await exists(path)) {
      throw new SafetensorsError('file-exists', path, undefined, 'the file exists; pass overwrite: true to replace it');
    }
    await rename(temporary, path);
    return;
  }
  await unlink(temporary);
}

// Makes the new directory entry durable. Some platforms cannot fsync a
// folder; the file itself is already synced, so that failure is ignored.
async function syncFolder(folder: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Ignored on purpose: see above.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function isMap(value: object): value is ReadonlyMap<string, string> {
  return Object.prototype.toString.call(value) === '[object Map]';
}
