// Generated QuantizedParts for checkpoint tests and fuzzing: valid by
// construction, with seeded randomness.
import type { QuantizedParts } from '../lib/index.js';

export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    // xorshift32
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state % n;
  }
}

/** Finite values exactly representable in float16 (a coarse grid of them). */
function float16Value(random: SeededRandom): number {
  return (random.int(4001) - 2000) / 64;
}

/**
 * Valid parts of a `rows` x `cols` layer: bits from `bitChoices`, a shuffled
 * permutation, ascending codebooks of 1 .. 2^bits distinct centroids, codes
 * below each column's centroid count, and sorted outliers.
 */
export function makeParts(seed: number, rows: number, cols: number, bitChoices = [2, 3, 4]): QuantizedParts {
  const random = new SeededRandom(seed);
  const bitsPerColumn = new Uint8Array(cols).map(() => bitChoices[random.int(bitChoices.length)]);

  const permutation = new Int32Array(cols).map((_, k) => k);
  for (let k = cols - 1; k > 0; --k) {
    const other = random.int(k + 1);
    [permutation[k], permutation[other]] = [permutation[other], permutation[k]];
  }

  const codebookOffsets = new Uint32Array(cols + 1);
  const centroids: number[] = [];
  for (let j = 0; j < cols; ++j) {
    const limit = 2 ** bitsPerColumn[j];
    // Full codebooks, except every fourth column (0, 4, ...), which has fewer
    // distinct values than 2^bits.
    const count = j % 4 === 0 ? 1 + random.int(limit - 1) : limit;
    const values = new Set<number>();
    while (values.size < count) values.add(float16Value(random));
    centroids.push(...[...values].sort((a, b) => a - b));
    codebookOffsets[j + 1] = centroids.length;
  }

  const codes = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; ++i) {
    for (let j = 0; j < cols; ++j) codes[i * cols + j] = random.int(codebookOffsets[j + 1] - codebookOffsets[j]);
  }

  const outlierRows: number[] = [];
  const outlierCols: number[] = [];
  const outlierValues: number[] = [];
  for (let j = 0; j < cols; ++j) {
    for (let i = 0; i < rows; ++i) {
      if (random.int(20) !== 0) continue;
      outlierRows.push(i);
      outlierCols.push(j);
      outlierValues.push(float16Value(random) * 16);
    }
  }

  return {
    rows,
    cols,
    bitsPerColumn,
    permutation,
    codes,
    codebookOffsets,
    codebooks: new Float32Array(centroids),
    outlierRows: new Int32Array(outlierRows),
    outlierCols: new Int32Array(outlierCols),
    outlierValues: new Float32Array(outlierValues),
  };
}

/** Deep copy, so a test can corrupt one field. */
export function copyParts(parts: QuantizedParts): QuantizedParts {
  return {
    ...parts,
    bitsPerColumn: parts.bitsPerColumn.slice(),
    permutation: parts.permutation.slice(),
    codes: parts.codes.slice(),
    codebookOffsets: parts.codebookOffsets.slice(),
    codebooks: parts.codebooks.slice(),
    outlierRows: parts.outlierRows.slice(),
    outlierCols: parts.outlierCols.slice(),
    outlierValues: parts.outlierValues.slice(),
  };
}

/**
 * Valid parts of a row-grid layer (the gptq and rtn grid): one width, the
 * identity codebooks, codes over every level, float16 scales > 0 and integer
 * zeros, no outliers.
 */
export function makeRowGridParts(seed: number, rows: number, cols: number, bits: number): QuantizedParts {
  const random = new SeededRandom(seed);
  const levels = 2 ** bits;
  const permutation = new Int32Array(cols).map((_, k) => k);
  for (let k = cols - 1; k > 0; --k) {
    const other = random.int(k + 1);
    [permutation[k], permutation[other]] = [permutation[other], permutation[k]];
  }
  return {
    rows,
    cols,
    bitsPerColumn: new Uint8Array(cols).fill(bits),
    permutation,
    codes: new Uint8Array(rows * cols).map(() => random.int(levels)),
    codebookOffsets: new Uint32Array(cols + 1).map((_, j) => j * levels),
    codebooks: new Float32Array(cols * levels).map((_, k) => k % levels),
    outlierRows: new Int32Array(0),
    outlierCols: new Int32Array(0),
    outlierValues: new Float32Array(0),
    rowScales: new Float32Array(rows).map(() => (1 + random.int(2000)) / 4096),
    rowZeros: new Float32Array(rows).map(() => random.int(levels)),
  };
}
