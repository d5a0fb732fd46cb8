// Bit packing of the codes of a quantized layer for the claq checkpoint
// format: column by column in original column order, each column's `rows`
// codes of b_j bits packed LSB-first into whole bytes, the last byte padded
// with zero bits, so column j starts at byte sum over k < j of
// ceil(rows * b_k / 8).

/** Bytes that the packed codes of a layer take. */
export function packedCodeBytes(rows: number, bitsPerColumn: Uint8Array): number {
  let total = 0;
  for (const bits of bitsPerColumn) total += Math.ceil((rows * bits) / 8);
  return total;
}

/** Packs row-major codes `[rows, cols]` (one byte each, each < 2^bits) into the column-wise bit stream. */
export function packCodes(codes: Uint8Array, rows: number, bitsPerColumn: Uint8Array): Uint8Array {
  const cols = bitsPerColumn.length;
  const packed = new Uint8Array(packedCodeBytes(rows, bitsPerColumn));
  let columnStart = 0;
  for (let j = 0; j < cols; ++j) {
    const bits = bitsPerColumn[j];
    let bitPosition = columnStart * 8;
    for (let i = 0; i < rows; ++i) {
      // A code of at most 8 bits spans at most two bytes.
      const value = codes[i * cols + j] << (bitPosition & 7);
      packed[bitPosition >> 3] |= value & 0xff;
      if ((bitPosition & 7) + bits > 8) packed[(bitPosition >> 3) + 1] |= value >> 8;
      bitPosition += bits;
    }
    columnStart += Math.ceil((rows * bits) / 8);
  }
  return packed;
}

/**
 * Unpacks the column-wise bit stream into row-major codes `[rows, cols]`.
 * The caller has checked `packed.length === packedCodeBytes(rows, bits)`.
 * Returns the index of the first column whose padding bits are not zero, or
 * -1, so a loader can reject a stream that was not written by packCodes.
 */
export function unpackCodes(
  packed: Uint8Array,
  rows: number,
  bitsPerColumn: Uint8Array,
): { codes: Uint8Array; badPaddingColumn: number } {
  const cols = bitsPerColumn.length;
  const codes = new Uint8Array(rows * cols);
  let badPaddingColumn = -1;
  let columnStart = 0;
  for (let j = 0; j < cols; ++j) {
    const bits = bitsPerColumn[j];
    const mask = (1 << bits) - 1;
    let bitPosition = columnStart * 8;
    for (let i = 0; i < rows; ++i) {
      const byte = bitPosition >> 3;
      const pair = packed[byte] | ((packed[byte + 1] ?? 0) << 8);
      codes[i * cols + j] = (pair >> (bitPosition & 7)) & mask;
      bitPosition += bits;
    }
    const columnBytes = Math.ceil((rows * bits) / 8);
    const usedBits = rows * bits - (columnBytes - 1) * 8;
    if (columnBytes > 0 && usedBits < 8 && badPaddingColumn < 0 && packed[columnStart + columnBytes - 1] >> usedBits !== 0) {
      badPaddingColumn = j;
    }
    columnStart += columnBytes;
  }
  return { codes, badPaddingColumn };
}
