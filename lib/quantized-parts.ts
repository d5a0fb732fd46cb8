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
   * The row grid of methods 'gptq' and 'rtn' (option `grid: 'row'`, the
   * default there), else absent: one scale per row, length `rows`, each
   * finite, > 0 and exactly a float16 value. With a row grid, every column
   * has the same bit width `b`, its codebook is the levels 0, 1, …, 2^b − 1,
   * there are no outliers, and the weight is
   * `W[i][j] = rowScales[i] · (codebook_j[code_ij] − rowZeros[i])`.
   * `rowScales` and `rowZeros` are both present or both absent.
   */
  rowScales?: Float32Array;
  /** The zero point of each row's grid, an integer in [0, 2^b − 1]; length `rows`. See {@link rowScales}. */
  rowZeros?: Float32Array;
}
