// Token files: a flat stream of little-endian unsigned token ids, 16 or 32
// bits each, no header (the format of llama2.c's pretokenized data).
import { readFile } from 'node:fs/promises';

import { ClaqError } from '../errors.js';

export type TokenWidth = 16 | 32;

/**
 * Reads a token file into an Int32Array.
 *
 * @param width Bits per token id: 16 (uint16) or 32 (uint32).
 * @throws {RangeError} when width is neither 16 nor 32.
 * @throws {ClaqError} `ERR_CLAQ_BAD_TOKEN_FILE` when the file cannot be read
 *   (the system error is the `cause`), when its size is not a multiple of the
 *   token size, or when an id does not fit in an int32.
 */
export async function readTokenFile(path: string, width: TokenWidth = 16): Promise<Int32Array> {
  if (width !== 16 && width !== 32) {
    throw new RangeError(`readTokenFile: width must be 16 or 32, got ${String(width)}`);
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ClaqError('ERR_CLAQ_BAD_TOKEN_FILE', `${path}: cannot read the token file: ${(error as Error).message}`,
      { cause: error });
  }
  const size = width / 8;
  if (bytes.length % size !== 0) {
    throw new ClaqError('ERR_CLAQ_BAD_TOKEN_FILE',
      `${path}: ${bytes.length} bytes is not a whole number of ${width}-bit tokens. A token file holds raw ` +
      'little-endian token ids with no header (not JSON or text); check the file and --token-width');
  }
  const count = bytes.length / size;
  const tokens = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const id = width === 16 ? bytes.readUInt16LE(i * 2) : bytes.readUInt32LE(i * 4);
    if (id > 0x7fffffff) {
      throw new ClaqError('ERR_CLAQ_BAD_TOKEN_FILE', `${path}: token ${i} has id ${id}, beyond any vocabulary`);
    }
    tokens[i] = id;
  }
  return tokens;
}
