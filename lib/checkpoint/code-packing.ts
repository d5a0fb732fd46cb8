// Bit packing of the codes of a quantized layer for the claq checkpoint
// format: column by column in original column order, each column's `rows`
// codes of b_j bits packed LSB-first into whole bytes, the last byte padded
// with zero bits, so column j starts at byte sum over k < j of
// ceil(rows * b_k / 8). The addon does the packing (core/code_stream.h).
import { fromNativeError } from '../errors.js';
import { native } from '../native.js';

// The output is allocated before the addon checks the arguments, so a bad
// row count must fail here with its own message.
function checkRows(operation: string, rows: number): void {
  if (!Number.isSafeInteger(rows) || rows < 0) {
    throw new RangeError(`${operation}: rows must be a non-negative integer, received ${String(rows)}`);
  }
}

/** Bytes that the packed codes of a layer take. */
export function packedCodeBytes(rows: number, bitsPerColumn: Uint8Array): number {
  let total = 0;
  for (const bits of bitsPerColumn) total += Math.ceil((rows * bits) / 8);
  return total;
}

/**
 * Packs row-major codes `[rows, cols]` (one byte each, each < 2^bits) into the
 * column-wise bit stream. A code of 2^bits or more keeps only its low bits.
 *
 * @throws {RangeError} when `rows` is not a non-negative integer, a width is
 *   outside [1, 8] or `codes` does not have `rows × bitsPerColumn.length` elements.
 */
export function packCodes(codes: Uint8Array, rows: number, bitsPerColumn: Uint8Array): Uint8Array {
  checkRows('packCodes', rows);
  const packed = new Uint8Array(packedCodeBytes(rows, bitsPerColumn));
  try {
    native.packCodesSync(codes, rows, bitsPerColumn, packed);
  } catch (error) {
    throw fromNativeError(error, new Error());
  }
  return packed;
}

/**
 * Unpacks the column-wise bit stream into row-major codes `[rows, cols]`.
 * Returns the index of the first column whose padding bits are not zero, or
 * -1, so a loader can reject a stream that was not written by packCodes.
 *
 * @throws {RangeError} when `rows` is not a non-negative integer, a width is
 *   outside [1, 8] or `packed` is not `packedCodeBytes(rows, bitsPerColumn)` bytes long.
 */
export function unpackCodes(
  packed: Uint8Array,
  rows: number,
  bitsPerColumn: Uint8Array,
): { codes: Uint8Array; badPaddingColumn: number } {
  checkRows('unpackCodes', rows);
  const codes = new Uint8Array(rows * bitsPerColumn.length);
  try {
    return { codes, badPaddingColumn: native.unpackCodesSync(packed, rows, bitsPerColumn, codes) };
  } catch (error) {
    throw fromNativeError(error, new Error());
  }
}
