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
}
