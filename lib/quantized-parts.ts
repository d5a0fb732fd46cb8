/**
 * The stored parts of one quantized linear layer, all in the original column
 * order. This is the contract between quantizeLayer (which produces it), the
 * packer and PackedLinear (which read it) and the checkpoint format (which
 * stores it).
 */
export interface QuantizedParts {
  /** Output features (rows of W). */
  rows: number;
  /** Input features (columns of W). */
  cols: number;
  /** Code width of each column, 2, 3 or 4; length `cols`. */
  bitsPerColumn: Uint8Array;
  /** `permutation[k]` is the original column quantized k-th (act order); length `cols`. */
  permutation: Int32Array;
  /** One code per weight, `[rows, cols]` row-major; code < 2^bitsPerColumn[j]. */
  codes: Uint8Array;
  /** Column j's centroids are `codebooks[codebookOffsets[j] .. codebookOffsets[j + 1])`; length `cols + 1`. */
  codebookOffsets: Uint32Array;
  /** Ascending centroids per column, each exactly representable in float16. */
  codebooks: Float32Array;
  /** Reserved outliers, sorted by column then row: row indices. */
  outlierRows: Int32Array;
  /** Column indices of the reserved outliers (original order). */
  outlierCols: Int32Array;
  /** Values of the reserved outliers (exactly float16 values); each replaces the centroid at its position. */
  outlierValues: Float32Array;
  /**
   * Per-row scale of the uniform grid of the `gptq` and `rtn` methods; length
   * `rows`, finite, > 0 and exactly float16 values. Present together with
   * `rowZeros`. Such a layer has one bit width for every column, no
   * outliers, and the identity codebooks 0, 1, …, 2^bits − 1, so
   * `W_q[i][j] = rowScales[i] · (codebook_j[code_ij] − rowZeros[i])`.
   */
  rowScales?: Float32Array;
  /** Per-row zero point of the uniform grid: integers in [0, 2^bits − 1]; length `rows`. */
  rowZeros?: Float32Array;
}
