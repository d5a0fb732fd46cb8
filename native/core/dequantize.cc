#include "core/dequantize.h"

#include <cstdint>
#include <vector>

#include "core/code_stream.h"

namespace claq {
namespace {

Status check_length(const std::string& operation, const char* name, size_t length, int64_t expected) {
  if (static_cast<int64_t>(length) == expected) return Status::Ok();
  return Status::InvalidArgument(operation + ": parts." + name + " has " + std::to_string(length) +
                                 " elements, expected " + std::to_string(expected));
}

Status check_lengths(const QuantizedPartsView& p, const std::string& operation) {
  if (p.rows < 1 || p.cols < 1 || p.rows > kMaxPackedDimension || p.cols > kMaxPackedDimension) {
    return Status::InvalidArgument(operation + ": parts.rows and parts.cols must be in [1, 2^30], received " +
                                   std::to_string(p.rows) + " and " + std::to_string(p.cols));
  }
  const int64_t outliers = static_cast<int64_t>(p.outlier_values_length);
  const int64_t grid = p.row_scales_length == 0 ? 0 : p.rows;
  Status s = check_length(operation, "codes", p.codes_length, p.rows * p.cols);
  if (s.ok()) s = check_length(operation, "bitsPerColumn", p.bits_per_column_length, p.cols);
  if (s.ok()) s = check_length(operation, "codebookOffsets", p.codebook_offsets_length, p.cols + 1);
  if (s.ok()) s = check_length(operation, "outlierRows", p.outlier_rows_length, outliers);
  if (s.ok()) s = check_length(operation, "outlierCols", p.outlier_cols_length, outliers);
  if (s.ok()) s = check_length(operation, "rowScales", p.row_scales_length, grid);
  if (s.ok()) s = check_length(operation, "rowZeros", p.row_zeros_length, grid);
  return s;
}

// Checks each column's bit width and codebook range, and fills largest[j]
// with column j's largest valid code.
Status check_codebooks(const QuantizedPartsView& p, const std::string& operation, std::vector<uint8_t>* largest) {
  largest->resize(static_cast<size_t>(p.cols));
  for (int64_t j = 0; j < p.cols; ++j) {
    const int bits = p.bits_per_column[j];
    const int64_t first = p.codebook_offsets[j];
    const int64_t count = int64_t{p.codebook_offsets[j + 1]} - first;
    if (bits < 1 || bits > 8 || count < 1 || count > (int64_t{1} << bits) ||
        first + count > static_cast<int64_t>(p.codebooks_length)) {
      return Status::InvalidArgument(
          operation + ": column " + std::to_string(j) + " (" + std::to_string(bits) + " bits) has codebook entries [" +
          std::to_string(first) + ", " + std::to_string(first + count) + "), which must be 1 to 2^bits entries of the " +
          std::to_string(p.codebooks_length) + " codebook values");
    }
    (*largest)[j] = static_cast<uint8_t>(count - 1);
  }
  return Status::Ok();
}

Status check_codes(const QuantizedPartsView& p, const std::string& operation, const std::vector<uint8_t>& largest) {
  const int64_t bad = first_code_above(p.codes, p.rows, p.cols, largest.data());
  if (bad < 0) return Status::Ok();
  const int64_t j = bad % p.cols;
  return Status::InvalidArgument(operation + ": parts.codes[" + std::to_string(bad) + "] = " +
                                 std::to_string(p.codes[bad]) + " (row " + std::to_string(bad / p.cols) +
                                 ", column " + std::to_string(j) + ") is not below the column's " +
                                 std::to_string(largest[j] + 1) + " centroids");
}

Status check_outlier_positions(const QuantizedPartsView& p, const std::string& operation) {
  for (size_t k = 0; k < p.outlier_values_length; ++k) {
    const int32_t r = p.outlier_rows[k], j = p.outlier_cols[k];
    if (r < 0 || r >= p.rows || j < 0 || j >= p.cols) {
      return Status::InvalidArgument(operation + ": outlier " + std::to_string(k) + " is at [row " + std::to_string(r) +
                                     ", column " + std::to_string(j) + "], outside the " + std::to_string(p.rows) +
                                     " x " + std::to_string(p.cols) + " layer");
    }
  }
  return Status::Ok();
}

}  // namespace

Status check_dequantize_parts(const QuantizedPartsView& parts, const std::string& operation) {
  Status s = check_lengths(parts, operation);
  std::vector<uint8_t> largest;
  if (s.ok()) s = check_codebooks(parts, operation, &largest);
  if (s.ok()) s = check_codes(parts, operation, largest);
  if (s.ok()) s = check_outlier_positions(parts, operation);
  return s;
}

void dequantize_parts(const QuantizedPartsView& parts, float* out) {
  const int64_t rows = parts.rows;
  const int64_t cols = parts.cols;
  const bool grid = parts.row_scales_length > 0;
  for (int64_t i = 0; i < rows; ++i) {
    const uint8_t* codes = parts.codes + i * cols;
    float* row = out + i * cols;
    if (!grid) {
      for (int64_t j = 0; j < cols; ++j) row[j] = parts.codebooks[parts.codebook_offsets[j] + codes[j]];
      continue;
    }
    const double scale = parts.row_scales[i];
    const double zero = parts.row_zeros[i];
    for (int64_t j = 0; j < cols; ++j) {
      const double centroid = parts.codebooks[parts.codebook_offsets[j] + codes[j]];
      row[j] = static_cast<float>(scale * (centroid - zero));
    }
  }

  for (size_t k = 0; k < parts.outlier_values_length; ++k) {
    out[int64_t{parts.outlier_rows[k]} * cols + parts.outlier_cols[k]] = parts.outlier_values[k];
  }
}

}  // namespace claq
