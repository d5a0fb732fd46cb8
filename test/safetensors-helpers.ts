// Helpers for the safetensors tests: raw files built byte by byte (so tests
// can write headers the writer never would), temporary folders, and a
// reference reader that uses JSON.parse and DataView only.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Builds a safetensors file: 8-byte little-endian length, `header` as UTF-8, then `data`. */
export function rawFile(header: string | object, data: Uint8Array = new Uint8Array(0), lengthField?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = Buffer.from(text, 'utf8');
  const file = new Uint8Array(8 + json.length + data.length);
  new DataView(file.buffer).setBigUint64(0, lengthField ?? BigInt(json.length), true);
  file.set(json, 8);
  file.set(data, 8 + json.length);
  return file;
}

export function temporaryFolder(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `claq-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface ReferenceTensor {
  dtype: string;
  shape: number[];
  /** The raw data bytes of the tensor. */
  bytes: Uint8Array;
}

/** Reads a well-formed safetensors file the simple way: JSON.parse on the header, offsets taken as written. */
export function referenceRead(path: string): { metadata: Record<string, string>; tensors: Map<string, ReferenceTensor> } {
  const file = readFileSync(path);
  const headerLength = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, ReferenceTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: [begin, end] } = entry as { dtype: string; shape: number[]; data_offsets: number[] };
    tensors.set(name, { dtype, shape, bytes: new Uint8Array(file.subarray(dataStart + begin, dataStart + end)) });
  }
  return { metadata, tensors };
}

/** Little-endian float32 values of raw bytes, read one by one with DataView. */
export function float32sOf(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) values.push(view.getFloat32(i, true));
  return values;
}

/** Little-endian float64 values of raw bytes, read one by one with DataView. */
export function float64sOf(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: number[] = [];
  for (let i = 0; i < bytes.length; i += 8) values.push(view.getFloat64(i, true));
  return values;
}

/** Returns the bytes behind a typed array, for exact comparisons (NaN payloads included). */
export function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}
