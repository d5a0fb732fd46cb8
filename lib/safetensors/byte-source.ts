// Byte sources of a safetensors file: a file read at offsets through a file
// handle, or a buffer in memory (for tests, fuzzing and callers that already
// hold the bytes).
import { type FileHandle, open } from 'node:fs/promises';

import { SafetensorsError } from './errors.js';

export interface ByteSource {
  /** The name used in error messages (the path for files). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Fills `target` with the bytes at `position .. position + target.length`. */
  read(target: Uint8Array, position: number): Promise<void>;
  close(): Promise<void>;
}

// One read call stays below 2 GiB, the largest count that read(2) transfers
// at once on Linux.
const MAX_READ_CHUNK = 1 << 30;

export class FileSource implements ByteSource {
  private constructor(readonly name: string, readonly size: number, private handle: FileHandle | null) {}

  static async open(path: string): Promise<FileSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new SafetensorsError('io', path, undefined, `cannot open the file: ${(error as Error).message}`, { cause: error });
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new SafetensorsError('io', path, undefined, 'not a regular file');
      return new FileSource(path, stats.size, handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async read(target: Uint8Array, position: number): Promise<void> {
    if (this.handle === null) throw new SafetensorsError('closed', this.name, undefined, 'the file is closed');
    let done = 0;
    while (done < target.length) {
      const length = Math.min(target.length - done, MAX_READ_CHUNK);
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.handle.read(target, done, length, position + done));
      } catch (error) {
        throw new SafetensorsError('io', this.name, undefined,
          `read of ${length} bytes at offset ${position + done} failed: ${(error as Error).message}`, { cause: error });
      }
      if (bytesRead === 0) {
        throw new SafetensorsError('io', this.name, undefined,
          `unexpected end of file at offset ${position + done} (the file shrank after it was opened)`);
      }
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }
}

export class MemorySource implements ByteSource {
  private closed = false;

  constructor(readonly name: string, private readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.length;
  }

  async read(target: Uint8Array, position: number): Promise<void> {
    if (this.closed) throw new SafetensorsError('closed', this.name, undefined, 'the file is closed');
    if (position < 0 || position + target.length > this.bytes.length) {
      throw new SafetensorsError('io', this.name, undefined,
        `read of ${target.length} bytes at offset ${position} is outside the ${this.bytes.length} bytes`);
    }
    target.set(this.bytes.subarray(position, position + target.length));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
