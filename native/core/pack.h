// Packing of a quantized layer into the kernel layout (kernels/packed_layout.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/quantize.h"
#include "core/status.h"
#include "kernels/packed_layout.h"
#include "kernels/row_grid_epilogue.h"

namespace claq {

// Borrowed pointers to the parts of one quantized layer, in the meaning of
// QuantizedLayerData (original column order). The binding builds it over
// typed arrays without copying; every length is given so it can be checked.
struct QuantizedPartsView {
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* bits_per_column = nullptr;  size_t bits_per_column_length = 0;
  const int32_t* permutation = nullptr;      size_t permutation_length = 0;
  const uint8_t* codes = nullptr;            size_t codes_length = 0;
  const uint32_t* codebook_offsets = nullptr; size_t codebook_offsets_length = 0;
  const float* codebooks = nullptr;          size_t codebooks_length = 0;
  const int32_t* outlier_rows = nullptr;     size_t outlier_rows_length = 0;
  const int32_t* outlier_cols = nullptr;     size_t outlier_cols_length = 0;
  const float* outlier_values = nullptr;     size_t outlier_values_length = 0;
  // Per-row grid of the gptq and rtn methods (row_grid_epilogue.h): both empty, or
  // both of length rows.
  const float* row_scales = nullptr;         size_t row_scales_length = 0;
  const float* row_zeros = nullptr;          size_t row_zeros_length = 0;
};

// The view of a QuantizedLayerData (valid while `data` lives).
QuantizedPartsView view_of(const QuantizedLayerData& data);

// Largest rows or cols the packer accepts; row and column indices are int32.
constexpr int64_t kMaxPackedDimension = int64_t{1} << 30;

// Checks every size, index and value of the parts: shapes and lengths, bits in
// {2, 3, 4}, a true permutation, codebook offsets giving each column 1 to
// 2^bits finite centroids, codes below their column's centroid count,
// outliers in range, sorted by column then row without repeats, finite. A
// row grid needs one bit width for every column, no outliers, scales that are
// finite, > 0 and float16 values, and integer zeros in [0, 2^bits - 1].
// Returns InvalidArgument naming the first bad value.
Status validate_parts(const QuantizedPartsView& parts);

// Validates the parts, then builds the packed layer and its row grid (empty
// unless the parts have one). On error `out` and `grid` are left empty.
Status pack_layer(const QuantizedPartsView& parts, PackedLayer* out, PackedRowGrid* grid);

// The same for parts without a row grid; returns InvalidArgument for a
// row-grid layer, whose product would be wrong without the grid.
Status pack_layer(const QuantizedPartsView& parts, PackedLayer* out);

}  // namespace claq
