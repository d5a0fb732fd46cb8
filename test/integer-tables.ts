// The error that integer 3-bit look-up tables may add to a packed GEMV.
//
// At the avx512 level, CPUs with AVX512-VBMI and VNNI look up 3-bit columns in
// integer tables: each entry is rounded to within 2^-20 of the largest entry
// of its block of 32 columns (native/kernels/lut_3bit_int.h). An output of
// token t then moves by at most (3-bit columns) * 2^-20 * max |C_j[c] x_j|
// over the 3-bit columns j and codes c. Other levels use float32 tables.
import type { QuantizedParts } from '../lib/index.js';

/** Returns the bound above for token t of x ([tokens, cols]) at `level`: 0 at levels without integer tables. */
export function integerTablesError(parts: QuantizedParts, x: Float32Array, t: number, level: string): number {
  if (level !== 'avx512') return 0;
  let columns = 0;
  let largest = 0;
  for (let j = 0; j < parts.cols; j++) {
    if (parts.bitsPerColumn[j] !== 3) continue;
    columns++;
    for (let k = parts.codebookOffsets[j]; k < parts.codebookOffsets[j + 1]; k++) {
      largest = Math.max(largest, Math.abs(parts.codebooks[k] * x[t * parts.cols + j]));
    }
  }
  return columns * 2 ** -20 * largest;
}
