#include "core/pack.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/code_stream.h"
#include "core/float16.h"

namespace claq {
namespace {

std::string at(size_t i) { return "[" + std::to_string(i) + "]"; }

std::string number(float value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

Status invalid(const std::string& message) { return Status::InvalidArgument("packLayer: " + message); }

Status check_length(const char* name, size_t length, int64_t expected) {
  if (static_cast<int64_t>(length) != expected) {
    return invalid(std::string(name) + " has length " + std::to_string(length) + ", expected " +
                   std::to_string(expected));
  }
  return Status::Ok();
}

Status check_shape(const QuantizedPartsView& p) {
  if (p.rows < 1 || p.rows > kMaxPackedDimension) {
    return invalid("rows must be an integer in [1, 2^30], received " + std::to_string(p.rows));
  }
  if (p.cols < 1 || p.cols > kMaxPackedDimension) {
    return invalid("cols must be an integer in [1, 2^30], received " + std::to_string(p.cols));
  }
  Status s = check_length("bitsPerColumn", p.bits_per_column_length, p.cols);
  if (s.ok()) s = check_length("permutation", p.permutation_length, p.cols);
  if (s.ok()) s = check_length("codes", p.codes_length, p.rows * p.cols);
  if (s.ok()) s = check_length("codebookOffsets", p.codebook_offsets_length, p.cols + 1);
  if (s.ok()) s = check_length("outlierCols", p.outlier_cols_length, p.outlier_rows_length);
  if (s.ok()) s = check_length("outlierValues", p.outlier_values_length, p.outlier_rows_length);
  if (s.ok() && p.outlier_rows_length > UINT32_MAX) {
    s = invalid("there are " + std::to_string(p.outlier_rows_length) + " outliers, more than 2^32 - 1");
  }
  if (s.ok() && p.outlier_rows_length > static_cast<size_t>(p.rows * p.cols)) {
    s = invalid("there are " + std::to_string(p.outlier_rows_length) + " outliers for " +
                std::to_string(p.rows * p.cols) + " weights");
  }
  return s;
}

Status check_columns(const QuantizedPartsView& p) {
  std::vector<uint8_t> seen(p.cols, 0);
  for (int64_t k = 0; k < p.cols; ++k) {
    const int32_t j = p.permutation[k];
    if (j < 0 || j >= p.cols) {
      return invalid("permutation" + at(k) + " = " + std::to_string(j) + " is outside [0, " +
                     std::to_string(p.cols) + ")");
    }
    if (seen[j]) return invalid("permutation" + at(k) + " = " + std::to_string(j) + " repeats a column");
    seen[j] = 1;
  }

  if (p.codebook_offsets[0] != 0) {
    return invalid("codebookOffsets[0] must be 0, received " + std::to_string(p.codebook_offsets[0]));
  }
  for (int64_t j = 0; j < p.cols; ++j) {
    const int bits = p.bits_per_column[j];
    if (packed_tile_format(bits) == nullptr) {
      return invalid("bitsPerColumn" + at(j) + " = " + std::to_string(bits) + " is not 2, 3 or 4");
    }
    // A column with fewer distinct values than 2^bits may have fewer centroids.
    const int64_t count = int64_t{p.codebook_offsets[j + 1]} - p.codebook_offsets[j];
    if (count < 1 || count > (int64_t{1} << bits)) {
      return invalid("codebookOffsets" + at(j + 1) + " = " + std::to_string(p.codebook_offsets[j + 1]) +
                     " gives column " + std::to_string(j) + " " + std::to_string(count) +
                     " centroids, expected 1 to 2^" + std::to_string(bits));
    }
  }
  if (p.codebook_offsets[p.cols] != p.codebooks_length) {
    return invalid("codebookOffsets" + at(p.cols) + " = " + std::to_string(p.codebook_offsets[p.cols]) +
                   " does not match codebooks length " + std::to_string(p.codebooks_length));
  }
  for (size_t i = 0; i < p.codebooks_length; ++i) {
    if (!std::isfinite(p.codebooks[i])) return invalid("codebooks" + at(i) + " is not finite");
  }
  return Status::Ok();
}

// check_columns has run: every column has 1 to 16 centroids.
Status check_codes(const QuantizedPartsView& p) {
  std::vector<uint8_t> largest(static_cast<size_t>(p.cols));
  for (int64_t j = 0; j < p.cols; ++j) {
    largest[j] = static_cast<uint8_t>(p.codebook_offsets[j + 1] - p.codebook_offsets[j] - 1);
  }
  const int64_t bad = first_code_above(p.codes, p.rows, p.cols, largest.data());
  if (bad < 0) return Status::Ok();
  const int64_t r = bad / p.cols, j = bad % p.cols;
  return invalid("codes" + at(bad) + " = " + std::to_string(p.codes[bad]) + " (row " + std::to_string(r) +
                 ", column " + std::to_string(j) + ") is not below the column's " +
                 std::to_string(p.codebook_offsets[j + 1] - p.codebook_offsets[j]) + " centroids");
}

Status check_outliers(const QuantizedPartsView& p) {
  for (size_t k = 0; k < p.outlier_rows_length; ++k) {
    const int32_t r = p.outlier_rows[k], j = p.outlier_cols[k];
    if (r < 0 || r >= p.rows) {
      return invalid("outlierRows" + at(k) + " = " + std::to_string(r) + " is outside [0, " +
                     std::to_string(p.rows) + ")");
    }
    if (j < 0 || j >= p.cols) {
      return invalid("outlierCols" + at(k) + " = " + std::to_string(j) + " is outside [0, " +
                     std::to_string(p.cols) + ")");
    }
    if (!std::isfinite(p.outlier_values[k])) return invalid("outlierValues" + at(k) + " is not finite");
    if (k > 0) {
      const int32_t pr = p.outlier_rows[k - 1], pj = p.outlier_cols[k - 1];
      if (j < pj || (j == pj && r <= pr)) {
        return invalid("outlier " + std::to_string(k) + " (row " + std::to_string(r) + ", column " +
                       std::to_string(j) + ") is not after outlier " + std::to_string(k - 1) +
                       "; outliers must be sorted by column, then row, without repeats");
      }
    }
  }
  return Status::Ok();
}

bool has_row_grid(const QuantizedPartsView& p) { return p.row_scales_length > 0 || p.row_zeros_length > 0; }

Status check_row_grid(const QuantizedPartsView& p) {
  if (!has_row_grid(p)) return Status::Ok();
  Status s = check_length("rowScales", p.row_scales_length, p.rows);
  if (s.ok()) s = check_length("rowZeros", p.row_zeros_length, p.rows);
  if (!s.ok()) return s;
  if (p.outlier_rows_length > 0) {
    return invalid("a row-grid layer (rowScales, rowZeros) cannot have outliers; outlierRows has " +
                   std::to_string(p.outlier_rows_length));
  }
  const int bits = p.bits_per_column[0];
  for (int64_t j = 1; j < p.cols; ++j) {
    if (p.bits_per_column[j] != bits) {
      return invalid("bitsPerColumn" + at(j) + " = " + std::to_string(p.bits_per_column[j]) +
                     " differs from column 0's " + std::to_string(bits) + "; a row-grid layer has one bit width");
    }
  }
  const float top = static_cast<float>((1 << bits) - 1);
  for (int64_t i = 0; i < p.rows; ++i) {
    const float scale = p.row_scales[i], zero = p.row_zeros[i];
    if (!(std::isfinite(scale) && scale > 0 && round_to_float16(scale) == scale)) {
      return invalid("rowScales" + at(i) + " = " + number(scale) + " is not a finite float16 value > 0");
    }
    if (!(zero >= 0 && zero <= top && std::floor(zero) == zero)) {
      return invalid("rowZeros" + at(i) + " = " + number(zero) + " is not an integer in [0, " +
                     std::to_string(1 << bits) + " - 1]");
    }
  }
  return Status::Ok();
}

// Storage bits: the bytes of the layer's tensors in a claq checkpoint
// (docs/FORMAT.md) x 8 / (rows * cols), the figure storageBits() in
// lib/quantized-layer.ts and `claq inspect` report. Codes are bit-packed per
// column, centroids float16, each outlier an int32 row, an int32 column and
// a float16 value, and each column has a uint8 width, an int32 permutation
// entry and a uint32 codebook offset (plus the final offset). A row-grid
// layer stores no codebooks and no offsets but a float16 scale per row and
// the zero points bit-packed at the layer's width into whole bytes.
double storage_bits(const QuantizedPartsView& p) {
  double bytes = 0;
  for (int64_t j = 0; j < p.cols; ++j) bytes += static_cast<double>((p.rows * p.bits_per_column[j] + 7) / 8);
  if (has_row_grid(p)) {
    bytes += 5.0 * p.cols + 2.0 * p.rows + static_cast<double>((p.rows * p.bits_per_column[0] + 7) / 8);
    return 8 * bytes / (double(p.rows) * double(p.cols));
  }
  bytes += 2.0 * p.codebooks_length;
  bytes += 10.0 * p.outlier_rows_length;
  bytes += 9.0 * p.cols + 4;
  return 8 * bytes / (double(p.rows) * double(p.cols));
}

// Lays out the groups: packed columns, padding, word and codebook offsets.
void plan_groups(const QuantizedPartsView& p, PackedLayer* out, std::vector<std::vector<int32_t>>* members) {
  members->assign(3, {});
  for (int64_t k = 0; k < p.cols; ++k) {
    const int32_t j = p.permutation[k];
    (*members)[p.bits_per_column[j] - 2].push_back(j);
  }

  int64_t column = 0, words = 0, slots = 0, floats = 0;
  for (int bits = 2; bits <= 4; ++bits) {
    const std::vector<int32_t>& columns = (*members)[bits - 2];
    if (columns.empty()) continue;
    PackedGroup group;
    group.format = packed_tile_format(bits);
    group.column_begin = column;
    group.columns = static_cast<int64_t>(columns.size());
    group.blocks = (group.columns + group.format->block_columns - 1) / group.format->block_columns;
    group.panel_word_offset = words;
    group.slot_offset = slots;
    group.codebook_offset = floats;
    const int64_t padded = group.blocks * group.format->block_columns;
    column += padded;
    words += group.blocks * packed_tile_words(*group.format);
    slots += group.blocks * group.format->slots;
    floats += padded << bits;
    out->groups.push_back(group);
  }
  out->packed_columns = column;
  out->tile_row_words = words;
  out->slots = slots;
  out->panels = (out->row_tiles + kPanelTiles - 1) / kPanelTiles;
}

// Packs the codes row[columns[0 .. count)] of one row, kBits each, into the
// words lane[0], lane[kPackedTileRows], ... of its tile lane. A code that
// crosses a word boundary continues in the next word. Each word is built in
// a register and stored once.
template <int kBits>
void fill_tile_lane(const uint8_t* row, const int32_t* columns, int64_t count, uint32_t* lane) {
  uint64_t pending = 0;  // bits not stored yet, lowest first
  int filled = 0;
  for (int64_t c = 0; c < count; ++c) {
    pending |= uint64_t{row[columns[c]]} << filled;
    filled += kBits;
    if (filled >= 32) {
      *lane = static_cast<uint32_t>(pending);
      lane += kPackedTileRows;
      pending >>= 32;
      filled -= 32;
    }
  }
  if (filled > 0) *lane = static_cast<uint32_t>(pending);
}

void fill_group(const QuantizedPartsView& p, const PackedGroup& group, const std::vector<int32_t>& columns,
                PackedLayer* out) {
  const PackedTileFormat& format = *group.format;
  const int entries = 1 << format.bits;
  for (int64_t c = 0; c < group.columns; ++c) {
    const int32_t j = columns[c];
    out->column_source[group.column_begin + c] = j;
    const float* source = p.codebooks + p.codebook_offsets[j];
    const uint32_t count = p.codebook_offsets[j + 1] - p.codebook_offsets[j];
    std::copy(source, source + std::min<uint32_t>(count, entries),
              out->codebooks.begin() + group.codebook_offset + c * entries);
  }

  // Tile by tile: the 16 source rows of a tile stay in cache while every
  // block of the group is filled from them.
  for (int64_t tile = 0; tile < out->row_tiles; ++tile) {
    const int64_t first_row = tile * kPackedTileRows;
    const int lanes = static_cast<int>(std::min<int64_t>(kPackedTileRows, p.rows - first_row));
    for (int64_t block = 0; block < group.blocks; ++block) {
      uint32_t* tile_base = out->codes.data() + packed_tile_offset(*out, group, block, tile);
      const int64_t c_begin = block * format.block_columns;
      const int64_t c_end = std::min<int64_t>(c_begin + format.block_columns, group.columns);
      for (int lane = 0; lane < lanes; ++lane) {
        const uint8_t* row = p.codes + (first_row + lane) * p.cols;
        const int32_t* block_columns = columns.data() + c_begin;
        if (format.bits == 2) fill_tile_lane<2>(row, block_columns, c_end - c_begin, tile_base + lane);
        if (format.bits == 3) fill_tile_lane<3>(row, block_columns, c_end - c_begin, tile_base + lane);
        if (format.bits == 4) fill_tile_lane<4>(row, block_columns, c_end - c_begin, tile_base + lane);
      }
    }
  }
}

void fill_outliers(const QuantizedPartsView& p, PackedLayer* out) {
  std::vector<int64_t> packed_of(p.cols, 0);
  for (int64_t c = 0; c < out->packed_columns; ++c) {
    if (out->column_source[c] >= 0) packed_of[out->column_source[c]] = c;
  }

  // Outliers arrive sorted by original column, then row, so each packed
  // column's entries are one run of the input, already sorted by row.
  const size_t n = p.outlier_rows_length;
  std::vector<uint32_t>& start = out->outlier_column_start;
  start.assign(out->packed_columns + 1, 0);
  for (size_t k = 0; k < n; ++k) ++start[packed_of[p.outlier_cols[k]] + 1];
  for (int64_t c = 0; c < out->packed_columns; ++c) start[c + 1] += start[c];

  out->outlier_rows.resize(n);
  out->outlier_corrections.resize(n);
  std::vector<uint32_t> next(start.begin(), start.end() - 1);
  for (size_t k = 0; k < n; ++k) {
    const int32_t r = p.outlier_rows[k], j = p.outlier_cols[k];
    const float centroid = p.codebooks[p.codebook_offsets[j] + p.codes[int64_t{r} * p.cols + j]];
    const uint32_t slot = next[packed_of[j]]++;
    out->outlier_rows[slot] = r;
    out->outlier_corrections[slot] = p.outlier_values[k] - centroid;
  }
}

}  // namespace

QuantizedPartsView view_of(const QuantizedLayerData& d) {
  QuantizedPartsView v;
  v.rows = d.rows;
  v.cols = d.cols;
  v.bits_per_column = d.bits_per_column.data(); v.bits_per_column_length = d.bits_per_column.size();
  v.permutation = d.permutation.data();         v.permutation_length = d.permutation.size();
  v.codes = d.codes.data();                     v.codes_length = d.codes.size();
  v.codebook_offsets = d.codebook_offsets.data(); v.codebook_offsets_length = d.codebook_offsets.size();
  v.codebooks = d.codebooks.data();             v.codebooks_length = d.codebooks.size();
  v.outlier_rows = d.outlier_rows.data();       v.outlier_rows_length = d.outlier_rows.size();
  v.outlier_cols = d.outlier_cols.data();       v.outlier_cols_length = d.outlier_cols.size();
  v.outlier_values = d.outlier_values.data();   v.outlier_values_length = d.outlier_values.size();
  v.row_scales = d.row_scales.data();           v.row_scales_length = d.row_scales.size();
  v.row_zeros = d.row_zeros.data();             v.row_zeros_length = d.row_zeros.size();
  return v;
}

Status validate_parts(const QuantizedPartsView& parts) {
  Status s = check_shape(parts);
  if (s.ok()) s = check_columns(parts);
  if (s.ok()) s = check_codes(parts);
  if (s.ok()) s = check_outliers(parts);
  if (s.ok()) s = check_row_grid(parts);
  return s;
}

Status pack_layer(const QuantizedPartsView& parts, PackedLayer* out) {
  if (has_row_grid(parts)) {
    *out = PackedLayer();
    return invalid("the layer has a row grid (rowScales, rowZeros); pack it with its grid");
  }
  PackedRowGrid none;
  return pack_layer(parts, out, &none);
}

Status pack_layer(const QuantizedPartsView& parts, PackedLayer* out, PackedRowGrid* grid) {
  *out = PackedLayer();
  *grid = PackedRowGrid();
  Status status = validate_parts(parts);
  if (!status.ok()) return status;

  PackedLayer layer;
  layer.rows = parts.rows;
  layer.cols = parts.cols;
  layer.row_tiles = (parts.rows + kPackedTileRows - 1) / kPackedTileRows;
  std::vector<std::vector<int32_t>> members;
  plan_groups(parts, &layer, &members);

  const PackedGroup& last = layer.groups.back();
  const int64_t words = layer.row_tiles * layer.tile_row_words;
  try {
    if (!layer.codes.reset(static_cast<size_t>(words))) {
      return Status::OutOfMemory("packLayer: cannot allocate " + std::to_string(words * 4) + " bytes of codes");
    }
    layer.codebooks.assign(last.codebook_offset + ((last.blocks * last.format->block_columns) << last.format->bits), 0.0f);
    layer.column_source.assign(layer.packed_columns, -1);
    for (const PackedGroup& group : layer.groups) fill_group(parts, group, members[group.format->bits - 2], &layer);
    fill_outliers(parts, &layer);
    grid->scales.assign(parts.row_scales, parts.row_scales + parts.row_scales_length);
    grid->zeros.assign(parts.row_zeros, parts.row_zeros + parts.row_zeros_length);
  } catch (const std::bad_alloc&) {
    *grid = PackedRowGrid();
    return Status::OutOfMemory("packLayer: out of memory packing a " + std::to_string(parts.rows) + " x " +
                               std::to_string(parts.cols) + " layer");
  }
  layer.storage_bits_per_weight = storage_bits(parts);
  *out = std::move(layer);
  return Status::Ok();
}

}  // namespace claq
